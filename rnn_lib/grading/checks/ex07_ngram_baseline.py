"""Checks for exercises/07_ngram_baseline.ipynb: exercises 7.5 to 7.7 (after chapter 7).

- 7.5 ``ngram_log_probs(ids, order, vocab_size, alpha)``: the table of an
  n-gram model's log-probabilities with add-alpha smoothing, one axis per
  character, ``log_probs[c_1, ..., c_{n-1}, v] = log p(v | c_1 ... c_{n-1})``.
- 7.6 ``ngram_cross_entropy(log_probs, ids)``: such a model's mean
  cross-entropy on a text, in nats per predicted character.
- 7.7 ``choose_alpha(train_ids, held_out_ids, order, vocab_size, alphas)``: the
  smoothing strength of ``alphas`` whose model, counted on the training text,
  has the lowest loss on the held-out text.

Chapter 7's count-based models are :mod:`rnn_lib.ngram`'s, smoothed by
Kneser-Ney; add-alpha smoothing is the simplest smoothing with a strength to
choose, and its references are written out below (counts by ``bincount`` of
one integer code per n-gram, as :mod:`rnn_lib.ngram` counts), with switches
that turn on the known mistakes. Read next:
:mod:`rnn_lib.grading.checks.ex08_lstm_cell`.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib.grading.cases import Cases, Dim
from rnn_lib.grading.checking import Check, Mistake, Output

# -- the references, with their mistakes as switches --------------------------------


def _counts(ids: torch.Tensor, order: int, V: int, drop_last: bool) -> torch.Tensor:
    """How often each n-gram occurs: (V,) * order, indexed oldest character first."""
    grams = len(ids) - order + 1 - drop_last  # n-grams end at indices n-1 .. L-1
    codes = torch.zeros(grams, dtype=torch.long)
    for j in range(order):
        codes = codes * V + ids[j : j + grams]
    return torch.bincount(codes, minlength=V**order).reshape((V,) * order).double()


def _log_probs(ids, order, vocab_size, alpha, total="smoothed", axis=-1,
               drop_last=False, backwards=False, log=torch.log):  # fmt: skip
    """log p(v | context) with add-alpha smoothing, and switches for the mistakes."""
    counts = _counts(ids.flip(0) if backwards else ids, order, vocab_size, drop_last)
    if total == "raw":  # alpha left out of the denominator
        p = (counts + alpha) / (counts.sum(axis, keepdim=True) + alpha)
    elif total == "none":  # no smoothing at all
        p = counts / counts.sum(axis, keepdim=True)
    else:
        p = (counts + alpha) / (counts.sum(axis, keepdim=True) + alpha * vocab_size)
    return log(p)


def _cross_entropy(log_probs, ids, reduce="mean", wrap=False, last=True, exp=False,
                   sign=-1.0):  # fmt: skip
    """The mean of -log p over the predicted characters, and switches for the mistakes."""
    order = log_probs.dim()
    L = len(ids)
    if wrap:  # every position scored, its context taken from the end of the text
        index = tuple(torch.roll(ids, order - 1 - j) for j in range(order))
    else:
        stop = L if last else L - 1
        index = tuple(ids[j : stop - order + 1 + j] for j in range(order))
    picked = sign * log_probs[index]
    loss = picked.sum() if reduce == "sum" else picked.mean()
    return loss.exp() if exp else loss


def _choose_alpha(train_ids, held_out_ids, order, vocab_size, alphas, on="held out",
                  pick=min, give="alpha"):  # fmt: skip
    """The alpha with the lowest held-out loss, and switches for the mistakes."""
    scored_on = train_ids if on == "train" else held_out_ids
    losses = [
        _cross_entropy(_log_probs(train_ids, order, vocab_size, a), scored_on).item()
        for a in alphas
    ]
    best = losses.index(pick(losses))
    alpha = float(alphas[best])
    return {"alpha": alpha, "loss": losses[best], "index": best,
            "tensor": torch.tensor(alpha, dtype=torch.float64)}[give]  # fmt: skip


# -- 7.5 ngram_log_probs -------------------------------------------------------------


def _text(sizes: dict, g: torch.Generator) -> torch.Tensor:
    """A text of L ids in [0, V), from a Markov chain so that contexts matter."""
    V, L = sizes["V"], sizes["L"]
    table = torch.rand(V, V, generator=g, dtype=torch.float64) ** 3  # peaked rows
    ids = [int(torch.randint(V, (1,), generator=g))]
    for _ in range(L - 1):
        ids.append(int(torch.multinomial(table[ids[-1]], 1, generator=g)))
    return torch.tensor(ids)


LOG_PROBS_CASES = Cases(
    lambda sizes, g: {
        "ids": _text(sizes, g),
        "order": sizes["order"],
        "vocab_size": sizes["V"],
        "alpha": sizes["alpha"],
    },
    # order 1 first; then texts too short to see every context.
    tuple(
        {"L": L, "V": V, "order": order, "alpha": alpha}
        for L, V, order, alpha in [
            (10, 3, 1, 1.0),
            (12, 3, 2, 0.5),
            (30, 4, 2, 0.1),
            (9, 3, 3, 1.0),
            (40, 4, 3, 0.25),
        ]
    ),
    seed=75,
    dims={
        "order": Dim((1, 2), "look at how the context is counted and normalised"),
        "L": Dim((4, 6), "look at the first and last n-grams of the text"),
        "alpha": Dim((1.0, 0.5), "look at where alpha enters", parameter=True),
    },
    base={"V": 3},
)

LOG_PROBS_MISTAKES = (
    Mistake(
        "alpha left out of the denominator",
        "each of the V counts of a context gets alpha, so the context's total "
        "grows by alpha * V: p = (count + alpha) / (total + alpha * vocab_size).",
        partial(_log_probs, total="raw"),
    ),
    Mistake(
        "no smoothing",
        "add alpha to every count: without it an n-gram never seen gets "
        "probability 0 (log -inf), and a context never seen 0 / 0.",
        partial(_log_probs, total="none"),
    ),
    Mistake(
        "normalised over the context",
        "normalise over the last axis, the next character: each context's "
        "probabilities sum to 1, log_probs.exp().sum(-1) == 1.",
        partial(_log_probs, axis=0),
    ),
    Mistake(
        "last n-gram not counted",
        "a text of L characters holds L - n + 1 n-grams, the last one ending at "
        "its last character.",
        partial(_log_probs, drop_last=True),
    ),
    Mistake(
        "text read backwards",
        "the context is the n - 1 characters before: index the table as "
        "[ids[t - n + 1], ..., ids[t - 1], ids[t]], oldest first.",
        partial(_log_probs, backwards=True),
    ),
    Mistake(
        "log base 2",
        "the course measures in nats: the natural logarithm, torch.log.",
        partial(_log_probs, log=torch.log2),
    ),
    Mistake(
        "probabilities, not their logarithms",
        "return log p (torch.log of the probabilities).",
        partial(_log_probs, log=lambda p: p),
    ),
)

check_ngram_log_probs = Check(
    "7.5",
    "ngram_log_probs",
    _log_probs,
    LOG_PROBS_CASES,
    (Output("log_probs", "(V,) * order"),),
    LOG_PROBS_MISTAKES,
    hint="count every n-gram of the text into a (V,) * order tensor; then "
    "p = (count + alpha) / (count.sum(-1, keepdim=True) + alpha * vocab_size).",
)

# -- 7.6 ngram_cross_entropy ---------------------------------------------------------


def _cross_entropy_args(sizes: dict, g: torch.Generator) -> dict:
    V, order = sizes["V"], sizes["order"]
    scores = torch.randn((V,) * order, generator=g, dtype=torch.float64)
    return {
        "log_probs": scores.log_softmax(-1),
        "ids": torch.randint(V, (sizes["L"],), generator=g),
    }


CROSS_ENTROPY_CASES = Cases(
    _cross_entropy_args,
    tuple(
        {"L": L, "V": V, "order": order}
        for L, V, order in [(5, 3, 1), (8, 4, 2), (12, 3, 3), (20, 5, 2)]
    ),
    seed=76,
    dims={
        "order": Dim((1, 2), "look at which positions have a whole context"),
        "L": Dim((3, 5), "look at the first and last characters scored"),
    },
    base={"V": 3},
)

CROSS_ENTROPY_MISTAKES = (
    Mistake(
        "sum instead of mean",
        "the loss is the mean over the predicted characters, so that texts of "
        "different lengths compare.",
        partial(_cross_entropy, reduce="sum"),
    ),
    Mistake(
        "perplexity instead of cross-entropy",
        "return the mean of -log p; its exp is the perplexity.",
        partial(_cross_entropy, exp=True),
    ),
    Mistake(
        "sign flipped",
        "the cross-entropy is the mean of -log p, a positive number.",
        partial(_cross_entropy, sign=1.0),
    ),
    Mistake(
        "first characters scored with the end of the text as context",
        "the first n - 1 characters have no whole context: score positions "
        "indices n - 1 .. L - 1 only (negative indices wrap around to the end).",
        partial(_cross_entropy, wrap=True),
    ),
    Mistake(
        "last character not scored",
        "the last n-gram ends at the text's last character, ids[L - 1]: score it too.",
        partial(_cross_entropy, last=False),
    ),
)

check_ngram_cross_entropy = Check(
    "7.6",
    "ngram_cross_entropy",
    _cross_entropy,
    CROSS_ENTROPY_CASES,
    (Output("ngram_cross_entropy", kind="number"),),
    CROSS_ENTROPY_MISTAKES,
    hint="order = log_probs.dim(); for t = order - 1 .. T - 1 take "
    "log_probs[ids[t - order + 1], ..., ids[t]] and return minus their mean.",
)

# -- 7.7 choose_alpha ----------------------------------------------------------------

ALPHAS = [0.01, 0.05, 0.2, 0.5, 1.0, 3.0]


def _choose_alpha_args(sizes: dict, g: torch.Generator) -> dict:
    text = _text({"V": sizes["V"], "L": sizes["L"] + sizes["held out"]}, g)
    return {
        "train_ids": text[: sizes["L"]],
        "held_out_ids": text[sizes["L"] :],
        "order": sizes["order"],
        "vocab_size": sizes["V"],
        "alphas": list(ALPHAS),
    }


CHOOSE_CASES = Cases(
    _choose_alpha_args,
    tuple(
        {"L": L, "held out": held_out, "V": V, "order": order}
        for L, held_out, V, order in [
            (40, 30, 3, 1),
            (30, 40, 4, 2),
            (60, 40, 3, 2),
            (80, 60, 4, 3),
            (20, 30, 5, 2),
            (25, 40, 4, 3),
        ]
    ),
    seed=77,
)

CHOOSE_MISTAKES = (
    Mistake(
        "largest loss chosen",
        "choose the alpha whose held-out loss is the lowest (min, not max).",
        partial(_choose_alpha, pick=max),
    ),
    Mistake(
        "chosen on the training text",
        "score each model on held_out_ids: on the text it was counted on, the "
        "least smoothing always looks best.",
        partial(_choose_alpha, on="train"),
    ),
    Mistake(
        "alpha returned as a tensor",
        "return a Python float, float(alpha), one of the values of alphas.",
        partial(_choose_alpha, give="tensor"),
    ),
    Mistake(
        "the loss returned, not alpha",
        "return the alpha itself, as a float, not its loss.",
        partial(_choose_alpha, give="loss"),
    ),
    Mistake(
        "the index returned, not alpha",
        "return alphas[best], not the position best.",
        partial(_choose_alpha, give="index"),
    ),
)

check_choose_alpha = Check(
    "7.7",
    "choose_alpha",
    _choose_alpha,
    CHOOSE_CASES,
    (Output("alpha", kind="float", note="return float(alpha), one of alphas"),),
    CHOOSE_MISTAKES,
    hint="for each alpha: ngram_cross_entropy(ngram_log_probs(train_ids, order, "
    "vocab_size, alpha), held_out_ids); return the alpha of the smallest loss.",
    uses=(check_ngram_log_probs, check_ngram_cross_entropy),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_ngram_log_probs, check_ngram_cross_entropy, check_choose_alpha)
