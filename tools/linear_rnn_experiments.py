"""Chapter 10's measurements that need more than its 90-second budget.

    python tools/linear_rnn_experiments.py             # all three, about half an hour on two cores
    python tools/linear_rnn_experiments.py parity      # or some of them

* ``adding``: the adding problem under chapter 8's protocol (one
  :class:`rnn_lib.memory.Adder` with 32 units, Adam at 1e-2 on fresh batches
  of 64, each run's gradient clipped to norm 1, at most 600 steps with
  chapter 8's early stop, scored by :func:`rnn_lib.memory.score`) for a
  minGRU stack and an LRU stack (:class:`rnn_lib.linear_rnn.LinearRNN`, two
  layers) at lengths 10 to 320, three seeds each; a model is not tried at a
  length once no seed solved the length before. Chapter 8's RNN, LSTM and
  GRU under the same protocol are ``book/results/gated_adding.json``
  (``tools/gated_experiments.py``); chapter 10 shows both.
* ``lm``: chapter 8's GRU character model (chapter 7's configuration) and a
  minGRU stack of the same width, each trained for the same number of
  seconds, three seeds, the two models alternating so that a busy machine
  slows both alike.
* ``parity``: a minGRU with coefficients in (0, 1), one with coefficients in
  (-1, 1) and a GRU, trained on the parity of every prefix of 40 random bits
  and tested on 1024 bits, three seeds.

Each writes ``book/results/linear_<name>.json`` (:mod:`rnn_lib.results`),
which chapter 10 reads.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn

from rnn_lib import clipping, memory, results
from rnn_lib.data.memory_tasks import ADDING_BASELINE_MSE, adding_problem
from rnn_lib.data.text import Vocabulary, load_corpus, split
from rnn_lib.linear_rnn import CharLinearRNN, LinearRNN
from rnn_lib.models import CharRNN, unigram_cross_entropy
from rnn_lib.train import train

# Chapter 8's protocol (tools/gated_experiments.py), three seeds.
ADDING = {"lengths": [10, 20, 40, 80, 160, 320], "seeds": [0, 1, 2], "hidden_size": 32,
          "steps": 600, "success": 0.1, "batch_size": 64, "max_norm": 1.0,
          "layers": 2}  # fmt: skip
#: Each linear stack's options and learning rate: chapter 8's 1e-2, except the
#: LRU's, which did not learn the task at 1e-2 in trial runs; 3e-3 is within
#: the LRU paper's range.
LINEAR = {
    "minGRU": ({"cell": "mingru"}, 1e-2),
    "LRU": ({"cell": "lru", "max_phase": 2 * math.pi}, 3e-3),
}
# Chapter 7's configuration, as chapter 8 trains it; equal seconds for both.
LM = {"seeds": [0, 1, 2], "embedding_dim": 64, "hidden_size": 256, "seconds": 120.0,
      "batch_size": 128, "seq_len": 32, "lr": 3e-3, "clip": 1.0,
      "mingru_layers": 2}  # fmt: skip
PARITY = {"seeds": [0, 1, 2], "hidden_size": 16, "batch_size": 64, "steps": 500,
          "lr": 1e-2, "clip": 1.0, "train_length": 40, "test_length": 1024,
          "test_size": 256, "bands": [[1, 40], [41, 256], [257, 1024]]}  # fmt: skip
PARITY_MODELS = ("minGRU, a in (0, 1)", "minGRU, a in (-1, 1)", "GRU")


# -- the adding problem ------------------------------------------------------------


def train_adder(model: str, length: int, seed: int) -> dict:
    """One run of chapter 8's protocol (:func:`rnn_lib.memory.train_adders`, for one seed)."""
    options, lr = LINEAR[model]
    torch.manual_seed(seed)
    adder = memory.Adder(
        LinearRNN(2, ADDING["hidden_size"], ADDING["layers"], **options)
    )
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(adder.parameters(), lr=lr)
    recent, start = [], time.perf_counter()
    for step in range(1, ADDING["steps"] + 1):
        x, y = adding_problem(length, ADDING["batch_size"], generator)
        loss = nn.functional.mse_loss(adder(x), y)
        optimiser.zero_grad()
        loss.backward()
        clipping.clip_grad_norm_(adder.parameters(), ADDING["max_norm"])
        optimiser.step()
        recent.append(loss.item())
        threshold = ADDING["success"] / 2 * ADDING_BASELINE_MSE
        if step >= 25 and sum(recent[-25:]) / 25 < threshold:
            break
    return {
        "ratio": memory.score(adder, length),
        "steps": step,
        "seconds": time.perf_counter() - start,
    }


def adding() -> dict:
    table, parameters = {}, {}
    for model, (options, _) in LINEAR.items():
        stack = LinearRNN(2, ADDING["hidden_size"], ADDING["layers"], **options)
        parameters[model] = sum(p.numel() for p in memory.Adder(stack).parameters())
        table[model] = []
        for length in ADDING["lengths"]:
            if table[model] and table[model][-1]["solved"] == 0:
                break  # no seed solved the length before
            runs = [train_adder(model, length, seed) for seed in ADDING["seeds"]]
            row = {
                "length": length,
                "ratios": [run["ratio"] for run in runs],
                "solved": sum(run["ratio"] < ADDING["success"] for run in runs),
                "steps": [run["steps"] for run in runs],
                "seconds": sum(run["seconds"] for run in runs),
            }
            table[model].append(row)
            print(model, row, flush=True)
    config = {**ADDING, "learning_rates": {m: lr for m, (_, lr) in LINEAR.items()}}
    return {"config": config, "parameters": parameters, "table": table}


# -- the character model at equal time ---------------------------------------------


def lm() -> dict:
    text = load_corpus("shakespeare")
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), val_fraction=0.1)
    V, E, H = len(vocab), LM["embedding_dim"], LM["hidden_size"]
    builders = {
        "GRU": lambda: CharRNN(V, E, H, cell="gru"),
        "minGRU": lambda: CharLinearRNN(V, E, H, LM["mingru_layers"], "mingru"),
    }
    runs = {name: [] for name in builders}
    for seed in LM["seeds"]:
        for name, build in builders.items():  # alternating: load slows both alike
            torch.manual_seed(seed)
            model = build()
            history = train(
                model, train_ids, val_ids, seconds=LM["seconds"],
                batch_size=LM["batch_size"], seq_len=LM["seq_len"], lr=LM["lr"],
                clip=LM["clip"], device="cpu", progress=False,
            )  # fmt: skip
            run = {
                "seed": seed,
                "val_loss": history.val_loss[-1],
                "steps": history.steps,
                "seconds": history.seconds,
                "train_loss": history.train_loss,
                "train_seconds": history.train_seconds,
                "parameters": sum(p.numel() for p in model.parameters()),
            }
            runs[name].append(run)
            print(name, seed, f"{run['val_loss']:.3f} after {run['steps']} steps",
                  f"{run['seconds']:.0f} s", flush=True)  # fmt: skip
    unigram = unigram_cross_entropy(train_ids, val_ids, len(vocab))
    return {"config": LM, "runs": runs, "unigram": unigram}


# -- parity beyond the training length ---------------------------------------------


class ParityModel(nn.Module):
    """Bits in, the parity of every prefix out: (L, N) int64 -> (L, N, 2) logits."""

    def __init__(self, kind: str, hidden_size: int):
        super().__init__()
        self.embedding = nn.Embedding(2, hidden_size)
        if kind == "GRU":
            self.rnn = nn.GRU(hidden_size, hidden_size)
        else:
            negative = kind == "minGRU, a in (-1, 1)"
            self.rnn = LinearRNN(
                hidden_size, hidden_size, 1, "mingru", negative=negative
            )
        self.head = nn.Linear(hidden_size, 2)

    def forward(self, bits):
        output, _ = self.rnn(self.embedding(bits))  # (L, N, H)
        return self.head(output)  # (L, N, 2)


def parity_batch(length: int, batch_size: int, generator: torch.Generator):
    """Random bits (L, N) and the parity of each prefix, ``x_1 + ... + x_t mod 2``."""
    bits = torch.randint(0, 2, (length, batch_size), generator=generator)
    return bits, bits.cumsum(0) % 2


def train_parity(kind: str, seed: int) -> dict:
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = ParityModel(kind, PARITY["hidden_size"])
    optimiser = torch.optim.Adam(model.parameters(), lr=PARITY["lr"])
    start = time.perf_counter()
    for _ in range(PARITY["steps"]):
        bits, parity = parity_batch(
            PARITY["train_length"], PARITY["batch_size"], generator
        )
        logits = model(bits)  # (L, N, 2)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 2), parity.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        clipping.clip_grad_norm_(model.parameters(), PARITY["clip"])
        optimiser.step()
    seconds = time.perf_counter() - start
    test = torch.Generator().manual_seed(999)
    bits, parity = parity_batch(PARITY["test_length"], PARITY["test_size"], test)
    with torch.no_grad():
        correct = (model(bits).argmax(-1) == parity).double().mean(1)  # (L,)
    accuracy = [correct[lo - 1 : hi].mean().item() for lo, hi in PARITY["bands"]]
    return {"seed": seed, "accuracy": accuracy, "seconds": seconds}


def parity() -> dict:
    runs = {}
    for kind in PARITY_MODELS:
        runs[kind] = [train_parity(kind, seed) for seed in PARITY["seeds"]]
        print(kind, [run["accuracy"] for run in runs[kind]], flush=True)
    return {"config": PARITY, "runs": runs}


def main() -> None:
    torch.set_num_threads(1)  # small models: one thread is fastest, and steady
    results.started()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    choices = ("adding", "lm", "parity")
    parser.add_argument(
        "which", nargs="*", help=f"any of {', '.join(choices)} (default: all)"
    )
    which = parser.parse_args().which or list(choices)
    unknown = [name for name in which if name not in choices]
    if unknown:
        parser.error(f"expected experiments among {', '.join(choices)}, got {unknown}")
    experiments = {"adding": adding, "lm": lm, "parity": parity}
    for name in which:
        path = results.save(f"linear_{name}", experiments[name]())
        print("wrote", path)


if __name__ == "__main__":
    main()
