"""``python -m rnn_lib.long_runs``: chapter 10's comparisons, over several seeds.

Chapter 10 (``book/10_linear_recurrences``) compares the linear recurrences of
:mod:`rnn_lib.linear_rnn` with chapter 8's models in three experiments, each
repeated over several seeds, which together take many minutes: more than a
chapter may spend. This module runs them and writes one results file,
:data:`RESULTS` (``rnn_lib/data/long_runs.json``), with the numbers, the
command, the git commit, the machine and the date; the chapter reads it
(:func:`load_results`) and shows where it came from.

1. **The adding problem** (:func:`adding_comparison`), chapter 8's protocol:
   32 units, Adam on fresh batches of 64, gradients clipped to norm 1, at
   most 600 steps with an early stop, solved when the test MSE is below a
   tenth of the trivial predictor's. A length is tried only by the models
   that solved the one before, for each seed.
2. **The character model at equal training time** (:func:`lm_comparison`):
   chapter 8's GRU language model against a minGRU stack, both trained by
   :func:`rnn_lib.train.train` for the same number of seconds.
3. **Parity beyond the training length** (:func:`parity_comparison`):
   a minGRU with coefficients in (0, 1), one with coefficients in (-1, 1)
   (Grazzi et al.), and a GRU, trained on sequences of 40 bits and tested on
   1024.

Every run is seeded; the CPU runs on one thread, as the chapters do.

    python -m rnn_lib.long_runs                 # everything, writes RESULTS
    python -m rnn_lib.long_runs --quick --out /tmp/quick.json   # a smoke test

Read next: ``book/10_linear_recurrences``, which shows these results.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from rnn_lib import clipping
from rnn_lib.data.memory_tasks import ADDING_BASELINE_MSE, adding_problem
from rnn_lib.data.text import Vocabulary, load_corpus, split
from rnn_lib.linear_rnn import CharLinearRNN, LinearRNN
from rnn_lib.models import CharRNN
from rnn_lib.train import train

#: Where the results live, inside the package so that a chapter finds them anywhere.
RESULTS = Path(__file__).parent / "data" / "long_runs.json"

SEEDS = (0, 1, 2)

#: Chapter 8's adding-problem protocol, and the lengths tried here.
ADDING = {
    "hidden_size": 32,
    "batch_size": 64,
    "max_steps": 600,
    "clip": 1.0,
    "success": 0.1,  # solved: test MSE < success * the trivial predictor's
    "early_stop": 0.05,  # stop once the mean training MSE of 25 steps is below this
    "test_size": 1000,
    "lengths": (10, 20, 40, 80, 160, 320),
}
#: The models of the adding problem and their learning rates: chapter 8's for
#: its models and the minGRU; the LRU's is the LRU paper's range (1e-2 diverges).
ADDING_MODELS = {"RNN": 1e-2, "LSTM": 1e-2, "GRU": 1e-2, "minGRU": 1e-2, "LRU": 3e-3}
#: Layers of the linear stacks (an encoder, then K blocks; see LinearRNN).
LINEAR_LAYERS = 2

#: The character model: chapter 8's GRU against a minGRU stack, for equal time.
LM = {
    "corpus": "shakespeare",
    "seconds": 45.0,
    "embedding_dim": 32,
    "hidden_size": 128,
    "batch_size": 64,
    "seq_len": 32,
    "lr": 1e-2,
    "clip": 1.0,
}

#: Parity: train on sequences of ``train_length`` bits, test on ``test_length``.
PARITY = {
    "hidden_size": 16,
    "batch_size": 64,
    "steps": 500,
    "lr": 1e-2,
    "clip": 1.0,
    "train_length": 40,
    "test_length": 1024,
    "test_size": 256,
    "bands": ((1, 40), (41, 256), (257, 1024)),  # steps t, both ends included
}
PARITY_MODELS = ("minGRU, a in (0, 1)", "minGRU, a in (-1, 1)", "GRU")


# ---------------------------------------------------------------------------
# The adding problem


class Adder(nn.Module):
    """A recurrent model and a linear read-out of its last output: (L, N, 2) -> (N, 1).

    ``kind`` is RNN, LSTM or GRU (``torch.nn``'s, one layer, as in chapter 8)
    or minGRU, LRU (a :class:`rnn_lib.linear_rnn.LinearRNN` of
    :data:`LINEAR_LAYERS` layers).
    """

    def __init__(self, kind: str, hidden_size: int = 32):
        super().__init__()
        if kind in ("RNN", "LSTM", "GRU"):
            self.rnn = getattr(nn, kind)(2, hidden_size)
        else:
            cell = {"minGRU": "mingru", "LRU": "lru"}[kind]
            options = {"max_phase": 2 * math.pi} if cell == "lru" else {}
            self.rnn = LinearRNN(2, hidden_size, LINEAR_LAYERS, cell, **options)
        self.readout = nn.Linear(hidden_size, 1)

    def forward(self, x):
        output, _ = self.rnn(x)  # (L, N, H)
        return self.readout(output[-1])  # (N, 1)


def train_adder(kind: str, length: int, seed: int) -> dict:
    """One run of the protocol; returns ``{ratio, steps, seconds}``."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Adder(kind, ADDING["hidden_size"])
    optimiser = torch.optim.Adam(model.parameters(), lr=ADDING_MODELS[kind])
    recent, start = [], time.perf_counter()
    for step in range(1, ADDING["max_steps"] + 1):
        x, y = adding_problem(length, ADDING["batch_size"], generator)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        clipping.clip_grad_norm_(model.parameters(), max_norm=ADDING["clip"])
        optimiser.step()
        recent.append(loss.item())
        if (
            step >= 25
            and sum(recent[-25:]) / 25 < ADDING["early_stop"] * ADDING_BASELINE_MSE
        ):
            break
    x, y = adding_problem(
        length, ADDING["test_size"], torch.Generator().manual_seed(1234)
    )
    with torch.no_grad():
        ratio = nn.functional.mse_loss(model(x), y).item() / ADDING_BASELINE_MSE
    return {"ratio": ratio, "steps": step, "seconds": time.perf_counter() - start}


def adding_comparison(
    models: Sequence[str], lengths: Sequence[int], seeds: Sequence[int], log=print
) -> dict:
    """Every model and seed over the lengths, each length only after a success."""
    runs = []
    for kind in models:
        for seed in seeds:
            for length in lengths:
                run = {"model": kind, "seed": seed, "length": length}
                run.update(train_adder(kind, length, seed))
                runs.append(run)
                log(
                    f"adding {kind:6} seed {seed} L = {length:4d}: MSE / trivial "
                    f"{run['ratio']:.3f} after {run['steps']} steps ({run['seconds']:.0f} s)"
                )
                if not run["ratio"] < ADDING["success"]:
                    break
    parameters = {
        kind: sum(p.numel() for p in Adder(kind, ADDING["hidden_size"]).parameters())
        for kind in models
    }
    return {
        "protocol": {
            **ADDING,
            "lengths": list(lengths),
            "learning_rates": ADDING_MODELS,
        },
        "parameters": parameters,
        "runs": runs,
    }


def longest_solved(adding: dict, model: str, seed: int) -> int:
    """The longest length up to which every length tried was solved (0 if none)."""
    solved = 0
    for run in adding["runs"]:
        if run["model"] == model and run["seed"] == seed:
            if not run["ratio"] < adding["protocol"]["success"]:
                break
            solved = run["length"]
    return solved


# ---------------------------------------------------------------------------
# The character model at equal training time


def lm_comparison(seconds: float, seeds: Sequence[int], log=print) -> dict:
    """Chapter 8's GRU language model and a minGRU stack, each trained ``seconds``."""
    text = load_corpus(LM["corpus"])
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), val_fraction=0.1)
    V, E, H = len(vocab), LM["embedding_dim"], LM["hidden_size"]
    builders = {
        "GRU": lambda: CharRNN(V, embedding_dim=E, hidden_size=H, cell="gru"),
        "minGRU": lambda: CharLinearRNN(V, E, H, LINEAR_LAYERS, "mingru"),
    }
    runs, parameters = [], {}
    for name, build in builders.items():
        for seed in seeds:
            torch.manual_seed(seed)
            model = build()
            parameters[name] = sum(p.numel() for p in model.parameters())
            history = train(
                model,
                train_ids,
                val_ids,
                seconds=seconds,
                batch_size=LM["batch_size"],
                seq_len=LM["seq_len"],
                lr=LM["lr"],
                clip=LM["clip"],
                device="cpu",
                progress=False,
            )
            runs.append(
                {
                    "model": name,
                    "seed": seed,
                    "val_loss": history.val_loss[-1],
                    "steps": history.steps,
                    "seconds": history.seconds,
                    "train_loss": history.train_loss,
                    "train_seconds": history.train_seconds,
                }
            )
            log(
                f"lm {name:6} seed {seed}: validation loss {history.val_loss[-1]:.3f} "
                f"after {history.steps} steps in {history.seconds:.0f} s"
            )
    return {
        "protocol": {**LM, "seconds": seconds, "layers_mingru": LINEAR_LAYERS},
        "parameters": parameters,
        "runs": runs,
    }


# ---------------------------------------------------------------------------
# Parity beyond the training length


class ParityModel(nn.Module):
    """Bits in, the parity of every prefix out: (L, N) int64 -> (L, N, 2) logits."""

    def __init__(self, kind: str, hidden_size: int = 16):
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


def train_parity(kind: str, seed: int, steps: int) -> dict:
    """Train on ``train_length`` bits; the accuracy in each band of steps of the test."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = ParityModel(kind, PARITY["hidden_size"])
    optimiser = torch.optim.Adam(model.parameters(), lr=PARITY["lr"])
    start = time.perf_counter()
    for _ in range(steps):
        bits, parity = parity_batch(
            PARITY["train_length"], PARITY["batch_size"], generator
        )
        logits = model(bits)  # (L, N, 2)
        loss = nn.functional.cross_entropy(logits.reshape(-1, 2), parity.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        clipping.clip_grad_norm_(model.parameters(), max_norm=PARITY["clip"])
        optimiser.step()
    seconds = time.perf_counter() - start
    bits, parity = parity_batch(
        PARITY["test_length"], PARITY["test_size"], torch.Generator().manual_seed(999)
    )
    with torch.no_grad():
        correct = (model(bits).argmax(-1) == parity).double().mean(1)  # (L,)
    accuracy = [correct[lo - 1 : hi].mean().item() for lo, hi in PARITY["bands"]]
    return {"accuracy": accuracy, "seconds": seconds}


def parity_comparison(seeds: Sequence[int], steps: int, log=print) -> dict:
    runs = []
    for kind in PARITY_MODELS:
        for seed in seeds:
            run = {"model": kind, "seed": seed, **train_parity(kind, seed, steps)}
            runs.append(run)
            accuracy = ", ".join(f"{a:.3f}" for a in run["accuracy"])
            log(f"parity {kind} seed {seed}: accuracy per band {accuracy}")
    return {"protocol": {**PARITY, "steps": steps}, "runs": runs}


# ---------------------------------------------------------------------------
# Provenance, the file, the command line


def provenance(argv: Sequence[str], seconds: float) -> dict:
    """The command, the code version, the machine and the date of a run."""
    root = Path(__file__).resolve().parents[1]

    def git(*args):
        try:
            result = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=True
            )
        except (OSError, subprocess.CalledProcessError):
            return None
        return result.stdout.strip()

    status = git("status", "--porcelain", "--", "rnn_lib")
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return {
        "command": shlex.join(["python", "-m", "rnn_lib.long_runs", *argv]),
        "git_commit": git("rev-parse", "HEAD"),
        "uncommitted_changes_in_rnn_lib": bool(status),
        "machine": f"{platform.machine()}, {cpu}, "
        f"{os.cpu_count()} cores, {torch.get_num_threads()} torch thread(s)",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "seconds": seconds,
    }


def load_results(path: str | Path | None = None) -> dict:
    """The results file written by ``python -m rnn_lib.long_runs`` (default :data:`RESULTS`)."""
    with open(RESULTS if path is None else path) as f:
        return json.load(f)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m rnn_lib.long_runs",
        description="Run chapter 10's comparisons over several seeds and write the results.",
    )
    parser.add_argument("--out", default=str(RESULTS), help="the results file (JSON)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one seed, short lengths and runs: a smoke test, not results",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    if args.quick:
        results = {
            "adding": adding_comparison(["minGRU", "GRU"], [10], [0]),
            "lm": lm_comparison(1.0, [0]),
            "parity": parity_comparison([0], steps=5),
        }
    else:
        results = {
            "adding": adding_comparison(list(ADDING_MODELS), ADDING["lengths"], SEEDS),
            "lm": lm_comparison(LM["seconds"], SEEDS),
            "parity": parity_comparison(SEEDS, PARITY["steps"]),
        }
    results["provenance"] = provenance(argv, time.perf_counter() - start)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    print(f"wrote {args.out} in {results['provenance']['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
