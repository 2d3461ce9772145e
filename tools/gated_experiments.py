"""Chapter 8's measurements that need more than its 90-second budget.

    python tools/gated_experiments.py            # all three: many minutes on two cores
    python tools/gated_experiments.py adding     # or some of them

* ``adding``: the adding problem for the RNN, the LSTM and the GRU (32 units,
  torch's initialisation, rnn_lib's modules) at lengths 10 to 320, five seeds
  each, trained together (:func:`rnn_lib.memory.train_adders`). A model is
  not tried at a length once a shorter length defeated every seed, except at
  length 80: there every model is trained, and the models are kept
  (``book/results/gated_adding_models.pt``) for the chapter to measure their
  gradients and forget gates.
* ``forget``: the LSTM of ``adding`` with its forget-gate bias raised by 1
  at initialisation (the answer to the chapter's exercise), the same lengths
  and seeds.
* ``lm``: chapter 7's character model (its configuration, rnn_lib's cells)
  with cell="rnn", "lstm" and "gru", three seeds each.

Each writes ``book/results/gated_<name>.json`` (:mod:`rnn_lib.results`), which
chapter 8 reads.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

import rnn_lib
from rnn_lib import memory, results
from rnn_lib.data.text import Vocabulary, load_corpus, split
from rnn_lib.models import CharRNN, unigram_cross_entropy
from rnn_lib.train import train

KINDS = {"RNN": rnn_lib.RNN, "LSTM": rnn_lib.LSTM, "GRU": rnn_lib.GRU}
ADDING = {"lengths": [10, 20, 40, 80, 160, 320], "seeds": [0, 1, 2, 3, 4],
          "hidden_size": 32, "steps": 600, "success": 0.1}  # fmt: skip
# Chapter 7's configuration (book/07_char_language_model.ipynb).
LM = {"seeds": [0, 1, 2], "embedding_dim": 64, "hidden_size": 256, "steps": 300,
      "batch_size": 128, "seq_len": 32, "lr": 3e-3, "clip": 1.0}  # fmt: skip


KEPT_LENGTH = 80  # the models trained at this length are saved


def _row(label: str, make_rnn, length: int) -> tuple:
    """Train the seeds at one length; return the table's row and the runs."""
    start = time.perf_counter()
    runs = memory.train_adders(
        make_rnn,
        length,
        ADDING["seeds"],
        steps=ADDING["steps"],
        success=ADDING["success"],
    )
    row = {
        "length": length,
        "ratios": runs.ratios,
        "solved": runs.solved(ADDING["success"]),
        "steps": runs.steps,
        "seconds": time.perf_counter() - start,
    }
    print(label, row, flush=True)
    return row, runs


def open_forget_gates() -> rnn_lib.LSTM:
    """The sweep's LSTM with its forget-gate bias raised by 1."""
    H = ADDING["hidden_size"]
    lstm = rnn_lib.LSTM(2, H)
    with torch.no_grad():
        lstm.bias_ih_l0[H : 2 * H] += 1.0
    return lstm


def forget() -> dict:
    rows = []
    for length in ADDING["lengths"]:
        if any(row["solved"] == 0 for row in rows):
            break
        rows.append(_row("LSTM, forget bias + 1", open_forget_gates, length)[0])
    return {"config": ADDING, "rows": rows}


def adding() -> dict:
    table, kept = {}, {}
    for kind, module in KINDS.items():
        table[kind] = []
        for length in ADDING["lengths"]:
            gave_up = any(row["solved"] == 0 for row in table[kind])
            if gave_up and length != KEPT_LENGTH:
                continue  # a shorter length defeated every seed
            row, runs = _row(kind, lambda m=module: m(2, ADDING["hidden_size"]), length)
            table[kind].append(row)
            if length == KEPT_LENGTH:
                kept[kind] = [model.state_dict() for model in runs.models]
    results.save_tensors("gated_adding_models", kept)
    return {"config": {**ADDING, "kept_length": KEPT_LENGTH}, "table": table}


def lm() -> dict:
    text = load_corpus("shakespeare")
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), val_fraction=0.1)
    runs = {}
    for cell in ("rnn", "lstm", "gru"):
        runs[cell] = []
        for seed in LM["seeds"]:
            torch.manual_seed(seed)
            model = CharRNN(
                len(vocab), LM["embedding_dim"], LM["hidden_size"], cell=cell
            )
            history = train(
                model, train_ids, val_ids, steps=LM["steps"],
                batch_size=LM["batch_size"], seq_len=LM["seq_len"], lr=LM["lr"],
                clip=LM["clip"], eval_every=50, device="cpu", progress=False,
            )  # fmt: skip
            run = {
                "seed": seed,
                "val_step": history.val_step,
                "val_loss": history.val_loss,
                "train_loss": history.train_loss,
                "seconds": history.seconds,
                "parameters": sum(p.numel() for p in model.rnn.parameters()),
            }
            runs[cell].append(run)
            print(cell, seed, run["val_loss"][-1], math.exp(run["val_loss"][-1]),
                  f"{run['seconds']:.0f} s", flush=True)  # fmt: skip
    unigram = unigram_cross_entropy(train_ids, val_ids, len(vocab))
    return {"config": LM, "runs": runs, "unigram": unigram}


EXPERIMENTS = {"adding": adding, "forget": forget, "lm": lm}


def main() -> None:
    torch.set_num_threads(1)  # small models: one thread is fastest, and steady
    results.started()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "which", nargs="*", choices=EXPERIMENTS, default=list(EXPERIMENTS)
    )
    for name in parser.parse_args().which:
        path = results.save(f"gated_{name}", EXPERIMENTS[name]())
        print("wrote", path)


if __name__ == "__main__":
    main()
