"""Chapter 7's measurements that need more than its 90-second budget.

    python tools/char_model_experiments.py            # all, an hour or two on one core
    python tools/char_model_experiments.py seeds cli  # or some of them

* ``seeds``: the chapter's model trained with the state carried and with it
  reset, five seeds each, each read both ways.
* ``cli``: the README's minute, ``python -m rnn_lib.train train --seconds 60``,
  on one thread and on two, with the machine's load.
* ``long``: a larger model (a state of 512) trained for 4,000 steps at three
  learning rates, its loss on training text beside the validation loss.
* ``overfit``: the chapter's model on a small slice of the training text, so
  that the gap between training and validation loss opens.
* ``ngrams``: Kneser-Ney models of every order the codes allow up to 10, on
  both corpora, with their fitting times and sizes.
* ``exercises``: what the chapter's exercises ask for: chunks of 8 and 128
  characters, no clipping at a ten times larger learning rate, the Tang
  vocabulary cut to 500 characters.

Each writes ``book/results/char_model_<name>.json`` (:mod:`rnn_lib.results`),
which chapter 7 reads. Every run uses one CPU thread, so that other jobs on
the machine change its speed but not its numbers (the timed ``cli`` runs
aside, whose step counts depend on the machine's load, recorded with them).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import torch

from rnn_lib import lm_diagnostics, ngram, results
from rnn_lib.data.text import Vocabulary, load_corpus, split
from rnn_lib.environment import seed_everything
from rnn_lib.models import CharRNN
from rnn_lib.train import character_losses, evaluate, load_checkpoint, train

# Chapter 7's configuration (book/07_char_language_model.ipynb).
CHAPTER = {"embedding_dim": 64, "hidden_size": 256, "steps": 300, "batch_size": 128,
           "seq_len": 32, "lr": 3e-3, "clip": 1.0}  # fmt: skip
TANG = {"max_size": 1500, "embedding_dim": 64, "hidden_size": 256, "steps": 300,
        "batch_size": 32, "seq_len": 25, "lr": 3e-3}  # fmt: skip
SEEDS = [0, 1, 2, 3, 4]
LONG = {"hidden_size": 512, "embedding_dim": 64, "batch_size": 64, "seq_len": 32,
        "steps": 4000, "lrs": [1e-3, 2e-3, 4e-3], "eval_every": 500}  # fmt: skip
OVERFIT = {"chars": 10_000, "val_chars": 20_000, "steps": 600, "batch_size": 8,
           "seq_len": 64, "eval_every": 50, "seeds": [0, 1, 2]}  # fmt: skip
MAX_ORDER = 10
CONTEXTS = [1, 2, 4, 8, 16, 32, 64, 128, 256]  # where a context curve is kept


def shakespeare() -> tuple[Vocabulary, torch.Tensor, torch.Tensor]:
    text = load_corpus("shakespeare")
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), val_fraction=0.1)
    return vocab, train_ids, val_ids


def tang_poems() -> str:
    """The quatrains of the Tang corpus, one per line, as the chapter takes them."""
    poems = [line for line in load_corpus("tang").splitlines() if len(line) == 24]
    return "\n".join(poems) + "\n"


def chapter_model(V: int, seed: int, **config) -> CharRNN:
    torch.manual_seed(seed)
    return CharRNN(V, config["embedding_dim"], config["hidden_size"])


def curve_summary(model: CharRNN, val_ids: torch.Tensor) -> dict:
    """The context curve at a few lengths (the whole curve is in the chapter)."""
    curve = lm_diagnostics.context_curve(model, val_ids, max_context=max(CONTEXTS))
    return {
        "context": CONTEXTS,
        "gap": [curve.gap[m - 1].item() for m in CONTEXTS],
        "gap_error": [curve.gap_error[m - 1].item() for m in CONTEXTS],
        "windows": curve.windows,
    }


def seeds() -> dict:
    """Carried against reset state, five seeds, the chapter's configuration."""
    vocab, train_ids, val_ids = shakespeare()
    runs = []
    for seed in SEEDS:
        run = {"seed": seed}
        for mode in ("carried", "reset"):
            model = chapter_model(len(vocab), seed, **CHAPTER)
            history = train(
                model, train_ids, steps=CHAPTER["steps"],
                batch_size=CHAPTER["batch_size"], seq_len=CHAPTER["seq_len"],
                lr=CHAPTER["lr"], clip=CHAPTER["clip"], carry_state=mode == "carried",
                device="cpu", progress=False,
            )  # fmt: skip
            run[mode] = {
                "seconds": history.seconds,
                "read_carried": evaluate(model, val_ids, seq_len=CHAPTER["seq_len"]),
                "read_reset": evaluate(
                    model, val_ids, seq_len=CHAPTER["seq_len"], carry_state=False
                ),
            }
        runs.append(run)
        print(run, flush=True)
    return {"config": CHAPTER, "runs": runs}


def cli() -> dict:
    """The README's command for a minute, on one thread and on two."""
    vocab, train_ids, val_ids = shakespeare()
    runs = []
    for threads in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "shakespeare.pt"
            command = ["-m", "rnn_lib.train", "train", "--corpus", "shakespeare",
                       "--seconds", "60", "--threads", str(threads), "--quiet",
                       "--out", str(path)]  # fmt: skip
            load_before = os.getloadavg()[0]
            subprocess.run([sys.executable, *command], check=True)
            load_after = os.getloadavg()[0]
            model, _, meta = load_checkpoint(path, device="cpu")
        run = {
            "command": " ".join(["python", *command[:-2]]),
            "threads": threads,
            "steps": meta["steps"],
            "seconds": meta["seconds"],
            "val_loss": meta["val_loss"],
            "train_text_loss": evaluate(model, train_ids[: len(val_ids)]),
            "parameters": sum(p.numel() for p in model.parameters()),
            "config": model.config,
            "load_average": [load_before, load_after],
            "context": curve_summary(model, val_ids),
        }
        runs.append(run)
        print(run, flush=True)
    return {"runs": runs, "cores": os.cpu_count()}


def long() -> dict:
    """A state of 512 for 4,000 steps at three learning rates."""
    vocab, train_ids, val_ids = shakespeare()
    runs = []
    for lr in LONG["lrs"]:
        seed_everything(0)  # as the command line does
        model = CharRNN(len(vocab), LONG["embedding_dim"], LONG["hidden_size"])
        history = train(
            model, train_ids, val_ids, steps=LONG["steps"],
            batch_size=LONG["batch_size"], seq_len=LONG["seq_len"], lr=lr,
            eval_every=LONG["eval_every"], train_eval_ids=train_ids[: len(val_ids)],
            device="cpu", progress=False,
        )  # fmt: skip
        run = {
            "lr": lr,
            "seconds": history.seconds,
            "val_step": history.val_step,
            "val_loss": history.val_loss,
            "train_eval_loss": history.train_eval_loss,
            "passes": LONG["steps"]
            * LONG["batch_size"]
            * LONG["seq_len"]
            / len(train_ids),
            "parameters": sum(p.numel() for p in model.parameters()),
            "context": curve_summary(model, val_ids),
        }
        runs.append(run)
        print({k: v for k, v in run.items() if k != "val_step"}, flush=True)
    return {"config": LONG, "runs": runs}


def overfit() -> dict:
    """The chapter's model on the first 10,000 characters of the training text."""
    vocab, train_ids, val_ids = shakespeare()
    piece, held_out = train_ids[: OVERFIT["chars"]], val_ids[: OVERFIT["val_chars"]]
    runs = []
    for seed in OVERFIT["seeds"]:
        model = chapter_model(len(vocab), seed, **CHAPTER)
        history = train(
            model, piece, held_out, steps=OVERFIT["steps"],
            batch_size=OVERFIT["batch_size"], seq_len=OVERFIT["seq_len"],
            lr=CHAPTER["lr"], clip=CHAPTER["clip"], eval_every=OVERFIT["eval_every"],
            train_eval_ids=piece, device="cpu", progress=False,
        )  # fmt: skip
        runs.append(
            {
                "seed": seed,
                "val_step": history.val_step,
                "val_loss": history.val_loss,
                "train_eval_loss": history.train_eval_loss,
                "seconds": history.seconds,
            }
        )
        print(seed, history.val_loss[-1], history.train_eval_loss[-1], flush=True)
    return {"config": OVERFIT, "model": CHAPTER, "runs": runs}


def ngrams() -> dict:
    """Every order up to 10 (Shakespeare) or as far as int64 codes allow (Tang)."""
    vocab, train_ids, val_ids = shakespeare()
    tang = tang_poems()
    tang_vocab = Vocabulary.from_text(
        tang, unknown="replace", max_size=TANG["max_size"]
    )
    tang_train, tang_val = split(tang_vocab.encode(tang), val_fraction=0.1)
    table = {}
    for corpus, V, fit_ids, val in (
        ("shakespeare", len(vocab), train_ids, val_ids),
        ("tang", len(tang_vocab), tang_train, tang_val),
    ):
        table[corpus] = []
        for order in range(1, MAX_ORDER + 1):
            if V**order >= 2**63:
                break  # the codes of the n-grams no longer fit in int64
            start = time.perf_counter()
            model = ngram.fit(fit_ids, order, V)
            seconds = time.perf_counter() - start
            row = {
                "order": order,
                "val_loss": model.cross_entropy(val),
                "seconds": seconds,
                "ngrams": sum(len(table.grams) for table in model.tables),
                "discounts": list(model.discounts),
            }
            table[corpus].append(row)
            print(corpus, row, flush=True)
    return {"table": table}


def _unk_charged(
    model: CharRNN, vocab: Vocabulary, train_text: str, val_text: str
) -> tuple[float, float]:
    """The validation loss, and the same with each UNK charged for its character.

    A model's loss where the text has UNK pays only for "some rare
    character". To compare vocabularies fairly, add ``-log p(c | c is
    unknown)`` there, with ``p`` the add-one frequency of the unknown
    characters in the training text (every unknown character of the corpus
    counted once more).
    """
    losses = character_losses(model, vocab.encode(val_text))  # (S - 1, N)
    N = losses.shape[1]
    S = len(val_text) // N
    where = torch.arange(N * S).view(N, S).t()[1:]  # (S - 1, N): the targets' index
    known = set(vocab.chars)
    unknown = Counter(c for c in train_text if c not in known)
    for c in set(val_text) - known - set(unknown):
        unknown[c] = 0
    total = sum(unknown.values()) + len(unknown)
    cost = torch.tensor(
        [0.0 if c in known else -math.log((unknown[c] + 1) / total) for c in val_text],
        dtype=torch.float64,
    )  # (len(val_text),)
    return losses.mean().item(), (losses + cost[where]).mean().item()


def exercises() -> dict:
    """The runs that the chapter's exercises ask for."""
    vocab, train_ids, val_ids = shakespeare()
    chars = CHAPTER["steps"] * CHAPTER["seq_len"]  # per stream, as in the chapter
    seq_len = {}
    for L in (8, 32, 128):
        model = chapter_model(len(vocab), 0, **CHAPTER)
        history = train(
            model, train_ids, val_ids, steps=chars // L,
            batch_size=CHAPTER["batch_size"], seq_len=L, lr=CHAPTER["lr"],
            clip=CHAPTER["clip"], device="cpu", progress=False,
        )  # fmt: skip
        seq_len[L] = {
            "steps": history.steps,
            "seconds": history.seconds,
            "val_loss": history.val_loss[-1],
            "read_reset_8": evaluate(model, val_ids, seq_len=8, carry_state=False),
        }
        print("seq_len", L, seq_len[L], flush=True)
    no_clip = {}
    for clip in (None, CHAPTER["clip"]):
        model = chapter_model(len(vocab), 0, **CHAPTER)
        label = "none" if clip is None else str(clip)
        try:
            history = train(
                model, train_ids, val_ids, steps=CHAPTER["steps"],
                batch_size=CHAPTER["batch_size"], seq_len=CHAPTER["seq_len"],
                lr=10 * CHAPTER["lr"], clip=clip, device="cpu", progress=False,
            )  # fmt: skip
        except FloatingPointError as error:
            no_clip[label] = {"error": str(error)}
        else:
            norms = torch.tensor(history.grad_norm)
            no_clip[label] = {
                "val_loss": history.val_loss[-1],
                "grad_norm": history.grad_norm,
                "largest_norm": norms.max().item(),
                "largest_at": int(norms.argmax()) + 1,
                "median_norm": norms.median().item(),
                "train_loss": history.train_loss,
            }
        print("clip", label, {k: v for k, v in no_clip[label].items()
                              if k not in ("grad_norm", "train_loss")}, flush=True)  # fmt: skip
    tang = tang_poems()
    n_train = len(tang) - round(len(tang) * 0.1)
    unk = {}
    for max_size in (500, TANG["max_size"]):
        tang_vocab = Vocabulary.from_text(tang, unknown="replace", max_size=max_size)
        ids = tang_vocab.encode(tang)
        tang_train, tang_val = split(ids, val_fraction=0.1)
        model = chapter_model(len(tang_vocab), 0, **TANG)
        history = train(
            model, tang_train, tang_val, steps=TANG["steps"],
            batch_size=TANG["batch_size"], seq_len=TANG["seq_len"], lr=TANG["lr"],
            device="cpu", progress=False,
        )  # fmt: skip
        loss, charged = _unk_charged(model, tang_vocab, tang[:n_train], tang[n_train:])
        unk[max_size] = {
            "unk_share": (ids == 0).double().mean().item(),
            "val_loss": loss,
            "val_loss_unk_charged": charged,
            "seconds": history.seconds,
        }
        print("max_size", max_size, unk[max_size], flush=True)
    return {"seq_len": seq_len, "no_clip": no_clip, "unk": unk, "config": CHAPTER}


EXPERIMENTS = {"seeds": seeds, "cli": cli, "long": long, "overfit": overfit,
               "ngrams": ngrams, "exercises": exercises}  # fmt: skip


def main() -> None:
    results.started()
    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "which", nargs="*", choices=sorted(EXPERIMENTS), default=list(EXPERIMENTS)
    )
    for name in parser.parse_args().which:
        path = results.save(f"char_model_{name}", EXPERIMENTS[name]())
        print("wrote", path, flush=True)


if __name__ == "__main__":
    main()
