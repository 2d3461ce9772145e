"""Chapter 9's measurement that needs more than its 90-second budget.

    python tools/seq2seq_experiments.py          # about ten minutes on two cores

Chapter 9 trains encoder-decoders with and without attention for a few
hundred steps. Is the model without attention only slower to learn, or does
its fixed-size message stop it? This script trains the same models, on the
same splits, from the same seeds, ten times longer, and measures exact match
by source length on the chapter's test set as it goes. It writes
``book/results/seq2seq_long_runs.json`` (:mod:`rnn_lib.results`), which
chapter 9 reads.
"""

from __future__ import annotations

import time

import torch

from rnn_lib import results
from rnn_lib import seq2seq as s2s
from rnn_lib.data import number_words as nw

# Chapter 9's configuration (book/09_sequence_to_sequence.ipynb), with ten
# times its steps; accuracy by length is measured at its step count too.
CONFIG = {"n_train": 8000, "n_val": 500, "test_per_length": 60,
          "max_train_length": 10, "split_seed": 0, "seeds": [0, 1, 2],
          "embedding_dim": 32, "hidden_size": 64, "batch_size": 64, "lr": 3e-3,
          "steps": 3000, "every": 300, "max_output": 12}  # fmt: skip
MODELS = {"without attention": False, "with attention": True}


def accuracy_by_length(model, test, test_lengths, lengths) -> list[float]:
    """Greedy exact match on the test sources of each length."""
    bos, eos = nw.TARGET_ID[nw.BOS], nw.TARGET_ID[nw.EOS]
    step, state = model.decoding_step(test.source, test.source_lengths)
    tokens, _ = s2s.greedy_decode(
        step, state, test.source.shape[1], bos, eos, CONFIG["max_output"]
    )
    right = s2s.exact_match(tokens, test.target_out).double()
    return [right[test_lengths == n].mean().item() for n in lengths]


def main() -> None:
    results.started()
    torch.set_num_threads(1)
    splits = nw.make_splits(
        CONFIG["n_train"],
        CONFIG["n_val"],
        CONFIG["test_per_length"],
        CONFIG["max_train_length"],
        seed=CONFIG["split_seed"],
    )
    train, test = nw.batch(splits.train), nw.batch(splits.test)
    test_lengths = torch.tensor([len(e.source) for e in splits.test])
    lengths = sorted(set(test_lengths.tolist()))
    runs = {}
    for label, attention in MODELS.items():
        runs[label] = []
        for seed in CONFIG["seeds"]:
            torch.manual_seed(seed)
            model = s2s.Seq2Seq(
                len(nw.SOURCE_VOCAB),
                len(nw.TARGET_VOCAB),
                CONFIG["embedding_dim"],
                CONFIG["hidden_size"],
                attention=attention,
            )
            start = time.perf_counter()
            history = s2s.fit(
                model,
                train.sampler(CONFIG["batch_size"], seed),
                CONFIG["steps"],
                lr=CONFIG["lr"],
                measure=lambda model=model: accuracy_by_length(
                    model, test, test_lengths, lengths
                ),
                every=CONFIG["every"],
            )
            seconds = time.perf_counter() - start
            runs[label].append(
                {
                    "seed": seed,
                    "steps": history.measured_step,
                    "accuracy": history.measured,  # per measured step, per length
                    "seconds": seconds,
                }
            )
            final = history.measured[-1]
            print(
                f"{label}, seed {seed}: {seconds:.0f} s, exact match by length "
                + " ".join(f"{a:.2f}" for a in final),
                flush=True,
            )
    path = results.save(
        "seq2seq_long_runs", {"config": CONFIG, "lengths": lengths, "runs": runs}
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
