"""Checks for exercises/09_attention_beam_search.ipynb: exercises 9.1 to 9.3 (after chapter 9).

- 9.1 ``additive_attention(query, memory, mask, w_dec, w_enc, w_score) ->
  (context, weights)``: additive attention with the padding masked.
- 9.2 ``beam_step(scores, log_probs, finished, eos) -> (scores, beams,
  tokens)``: one step of beam search.
- 9.3 ``masked_cross_entropy(logits, targets, pad)``: the mean cross-entropy
  over the real tokens of a padded batch.

The references are :func:`rnn_lib.seq2seq.additive_attention`,
:func:`rnn_lib.seq2seq.beam_step` and :func:`rnn_lib.seq2seq.masked_cross_entropy`
(checked by ``tests/test_seq2seq.py`` against a computation by hand, an
enumeration of every sequence and one example at a time); the exercise's text
rules out calling them. Read next: :mod:`rnn_lib.grading.release`, which
makes the student notebooks.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from rnn_lib import seq2seq
from rnn_lib.grading.cases import N_DIM, Cases, Dim, randn
from rnn_lib.grading.checking import STATE, Check, Mistake, Output
from rnn_lib.grading.recording import Forbidden

# -- 9.1 additive_attention ------------------------------------------------------

ATTENTION = (
    Forbidden(
        "rnn_lib.seq2seq.additive_attention",
        lambda: (seq2seq.additive_attention, seq2seq.AdditiveAttention.forward),
    ),
)


def _lengths(L_src: int, N: int, padding: int) -> torch.Tensor:
    """Row 0 runs the whole length; the others end ``padding`` steps earlier or more."""
    lengths = [L_src] + [max(1, L_src - padding - n % 2) for n in range(1, N)]
    return torch.tensor(lengths if padding else [L_src] * N)


def _attention_args(sizes: dict, g) -> dict:
    L, N = sizes["L_src"], sizes["N"]
    H_dec, H_enc, H_att = sizes["H_dec"], sizes["H_enc"], sizes["H_att"]
    mask = torch.arange(L)[:, None] < _lengths(L, N, sizes["padding"])[None, :]
    return {
        "query": randn(N, H_dec, generator=g),
        "memory": randn(L, N, H_enc, generator=g),
        "mask": mask,  # (L_src, N)
        "w_dec": randn(H_att, H_dec, generator=g, scale=H_dec**-0.5),
        "w_enc": randn(H_att, H_enc, generator=g, scale=H_enc**-0.5),
        "w_score": randn(H_att, generator=g, scale=2.0),
    }


ATTENTION_CASES = Cases(
    _attention_args,
    tuple(
        {"L_src": L, "N": N, "H_dec": Hd, "H_enc": He, "H_att": Ha, "padding": p}
        for L, N, Hd, He, Ha, p in [
            (1, 1, 2, 3, 2, 0),
            (4, 3, 3, 2, 5, 1),
            (5, 2, 4, 3, 3, 2),
            (3, 4, 2, 5, 4, 1),
            (6, 3, 3, 4, 2, 0),
        ]
    ),
    seed=91,
    dims={
        "N": N_DIM,
        "L_src": Dim(
            (1, 2, 3), "look at how the source positions are scored and weighted"
        ),
        "padding": Dim((0, 1), "look at the mask: a padded position gets weight 0"),
    },
    base={"H_dec": 2, "H_enc": 3, "H_att": 2},
)


def _attention(query, memory, mask, w_dec, w_enc, w_score, masked=True, fill=-math.inf,
               after=False, dim=0, squash=True, values="memory"):  # fmt: skip
    """Additive attention with switches that turn on the known mistakes."""
    keys = memory @ w_enc.T  # (L_src, N, H_att)
    inside = keys + query @ w_dec.T
    scores = (torch.tanh(inside) if squash else inside) @ w_score  # (L_src, N)
    if masked and not after:
        scores = scores.masked_fill(~mask, fill)
    weights = torch.softmax(scores, dim=dim)
    if after:
        weights = weights * mask
    read = memory if values == "memory" else keys
    return (weights.unsqueeze(-1) * read).sum(0), weights


ATTENTION_MISTAKES = (
    Mistake(
        "mask forgotten",
        "padded positions must get weight 0: set their scores to -inf before the "
        "softmax, scores.masked_fill(~mask, float('-inf')).",
        partial(_attention, masked=False),
    ),
    Mistake(
        "padding scored 0 instead of -inf",
        "a score of 0 still gets weight exp(0) in the softmax: fill the padded "
        "scores with float('-inf'), whose exponential is exactly 0.",
        partial(_attention, fill=0.0),
    ),
    Mistake(
        "mask applied after the softmax",
        "zeroing weights after the softmax leaves the rest summing to less than 1: "
        "mask the scores with -inf first, then take the softmax.",
        partial(_attention, after=True),
    ),
    Mistake(
        "softmax over the batch axis",
        "the scores are (L_src, N), time-major: normalise over the source "
        "positions, dim=0, not over the batch (dim=-1).",
        partial(_attention, dim=-1),
    ),
    Mistake(
        "no tanh in the score",
        "additive attention squashes the sum before scoring it: "
        "psi = tanh(query @ w_dec.T + memory @ w_enc.T) @ w_score.",
        partial(_attention, squash=False),
    ),
    Mistake(
        "context from the projected memory",
        "the context is the weighted sum of the encoder states themselves, "
        "sum_s alpha_s memory[s], not of memory @ w_enc.T.",
        partial(_attention, values="keys"),
    ),
)

check_additive_attention = Check(
    "9.1",
    "additive_attention",
    seq2seq.additive_attention,
    ATTENTION_CASES,
    (
        Output("context", "(N, H_enc)", STATE),
        Output("weights", "(L_src, N)", ("source position index", "batch row")),
    ),
    ATTENTION_MISTAKES,
    hint="scores = torch.tanh(memory @ w_enc.T + query @ w_dec.T) @ w_score; "
    "weights = torch.softmax(scores.masked_fill(~mask, float('-inf')), dim=0); "
    "context = (weights.unsqueeze(-1) * memory).sum(0).",
    forbidden=ATTENTION,
)

# -- 9.2 beam_step ---------------------------------------------------------------

BEAM = (
    Forbidden(
        "rnn_lib.seq2seq.beam_step",
        lambda: (seq2seq.beam_step, seq2seq.beam_search),
    ),
)


def _beam_args(sizes: dict, g) -> dict:
    N, S, V, eos = sizes["N"], sizes["S"], sizes["V"], sizes["V"] - 1
    log_probs = randn(N, S, V, generator=g, scale=2.0).log_softmax(-1)
    if sizes["first"]:  # every slot holds <bos>; only the first one counts
        scores = torch.full((N, S), -math.inf, dtype=torch.float64)
        scores[:, 0] = 0.0
        finished = torch.zeros(N, S, dtype=torch.bool)
    else:
        scores = -(randn(N, S, generator=g).abs() * 3).sort(dim=1).values
        finished = torch.rand(N, S, generator=g) < sizes["ended"]
    return {"scores": scores, "log_probs": log_probs, "finished": finished, "eos": eos}


BEAM_CASES = Cases(
    _beam_args,
    tuple(
        {"N": N, "S": S, "V": V, "first": first, "ended": ended}
        for N, S, V, first, ended in [
            (1, 1, 4, False, 0.0),
            (2, 3, 5, True, 0.0),
            (3, 2, 6, False, 0.0),
            (2, 4, 5, False, 0.5),
            (4, 3, 7, False, 0.4),
            (3, 5, 6, False, 0.7),
        ]
    ),
    seed=92,
    dims={
        "N": N_DIM,
        "S": Dim((1, 2, 3), "look at how the hypotheses of one sequence compete"),
        "ended": Dim((0.0, 1.0), "look at what happens to an ended hypothesis"),
    },
    base={"V": 4, "first": False},
)


def _beam(scores, log_probs, finished, eos, accumulate="add", whole_beam=True,
          ended="keep", split="right"):  # fmt: skip
    """One beam-search step with switches that turn on the known mistakes."""
    N, S, V = log_probs.shape
    if accumulate == "add":
        candidates = scores.unsqueeze(-1) + log_probs
    elif accumulate == "multiply":
        candidates = scores.unsqueeze(-1) * log_probs
    else:  # only the last token counts
        candidates = log_probs.clone()
    done = finished.unsqueeze(-1)
    if ended == "keep":
        kept = torch.full_like(candidates, -math.inf)
        kept[..., eos] = scores
        candidates = torch.where(done, kept, candidates)
    elif ended == "copied":  # ended: every token at the same score
        candidates = torch.where(
            done, scores.unsqueeze(-1).expand_as(candidates), candidates
        )
    elif ended == "charged":  # ended: eos only, charged its log-probability again
        kept = torch.full_like(candidates, -math.inf)
        kept[..., eos] = candidates[..., eos]
        candidates = torch.where(done, kept, candidates)
    if not whole_beam:  # each hypothesis extended by its own best token
        best, tokens = candidates.max(dim=-1)  # (N, S)
        new, order = best.sort(dim=1, descending=True)
        return new, order, tokens.gather(1, order)
    new, index = candidates.reshape(N, S * V).topk(S, dim=1)
    if split == "swapped":
        return new, index % S, index // S
    return new, index // V, index % V


BEAM_MISTAKES = (
    Mistake(
        "scores not accumulated",
        "a hypothesis's score is the sum of the log-probabilities of all its tokens: "
        "add log_probs to scores.unsqueeze(-1), then choose.",
        partial(_beam, accumulate="last"),
    ),
    Mistake(
        "log-probabilities multiplied, not added",
        "probabilities multiply, so their logarithms add: "
        "scores.unsqueeze(-1) + log_probs, not scores.unsqueeze(-1) * log_probs.",
        partial(_beam, accumulate="multiply"),
    ),
    Mistake(
        "each hypothesis extended on its own",
        "the S best extensions are chosen over the whole beam, all S * V candidates "
        "of a sequence together: candidates.reshape(N, S * V).topk(S, dim=1).",
        partial(_beam, whole_beam=False),
    ),
    Mistake(
        "ended hypotheses extended",
        "a hypothesis that has written eos is complete: keep it once, at its own "
        "score (as the extension by eos), and give its other extensions -inf.",
        partial(_beam, ended="extended"),
    ),
    Mistake(
        "an ended hypothesis copied into several slots",
        "an ended hypothesis may be kept once only: its extension by eos at its "
        "own score, every other token -inf; otherwise its copies crowd out the rest.",
        partial(_beam, ended="copied"),
    ),
    Mistake(
        "an ended hypothesis charged for eos again",
        "an ended hypothesis keeps its score unchanged: scores[n, b] itself, not "
        "scores[n, b] + log_probs[n, b, eos].",
        partial(_beam, ended="charged"),
    ),
    Mistake(
        "flat index split the wrong way",
        "in candidates.reshape(N, S * V), entry b * V + v is hypothesis b extended "
        "by token v: beams = index // V, tokens = index % V.",
        partial(_beam, split="swapped"),
    ),
)

_INDEX = ("sequence", "hypothesis")

check_beam_step = Check(
    "9.2",
    "beam_step",
    seq2seq.beam_step,
    BEAM_CASES,
    (
        Output("scores", "(N, S)", _INDEX),
        Output("beams", "(N, S)", _INDEX),
        Output("tokens", "(N, S)", _INDEX),
    ),
    BEAM_MISTAKES,
    hint="candidates = scores.unsqueeze(-1) + log_probs; an ended hypothesis keeps "
    "only candidates[n, b, eos] = scores[n, b]; then "
    "new, index = candidates.reshape(N, S * V).topk(S, dim=1); beams = index // V, "
    "tokens = index % V.",
    forbidden=BEAM,
)

# -- 9.3 masked_cross_entropy ----------------------------------------------------

LOSS = (
    Forbidden(
        "rnn_lib.seq2seq.masked_cross_entropy", lambda: (seq2seq.masked_cross_entropy,)
    ),
)


def _loss_args(sizes: dict, g) -> dict:
    L, N, V, pad = sizes["L_tgt"], sizes["N"], sizes["V"], sizes["pad"]
    lengths = [L] + [max(1, L - 1 - n % 3) for n in range(1, N)]
    targets = torch.randint(V - 1, (L, N), generator=g)
    targets = targets + (targets >= pad).long()  # every real token differs from pad
    for n, length in enumerate(lengths):
        targets[length:, n] = pad
    return {
        "logits": randn(L, N, V, generator=g, scale=2.0),
        "targets": targets,
        "pad": pad,
    }


LOSS_CASES = Cases(
    _loss_args,
    tuple(
        {"L_tgt": L, "N": N, "V": V, "pad": pad}
        for L, N, V, pad in [(1, 1, 3, 0), (4, 3, 5, 0), (3, 2, 4, 0), (5, 4, 6, 2)]
    ),
    seed=93,
    dims={
        "N": Dim((1, 2, 3), "look at how sequences of different lengths are counted"),
        "L_tgt": Dim((1, 2, 3), "look at how the tokens of a sequence are counted"),
    },
    base={"V": 3, "pad": 0},
)


def _loss(logits, targets, pad, mask=True, count="tokens", average="tokens",
          pad_id=None):  # fmt: skip
    """The masked mean with switches that turn on the known mistakes."""
    pad = pad if pad_id is None else pad_id
    nll = -logits.log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    real = (targets != pad) if mask else torch.ones_like(targets, dtype=torch.bool)
    nll = nll * real  # (L_tgt, N)
    if average == "sequences":
        return (nll.sum(0) / real.sum(0)).mean()
    if average == "sum":
        return nll.sum()
    total = real.sum() if count == "tokens" else torch.tensor(targets.numel())
    return nll.sum() / total


LOSS_MISTAKES = (
    Mistake(
        "padding counted",
        "padded positions are not tokens: leave them out of the sum and of the count, "
        "F.cross_entropy(..., ignore_index=pad) or a mask targets != pad.",
        partial(_loss, mask=False),
    ),
    Mistake(
        "padding in the count",
        "the mean divides by the number of real tokens, (targets != pad).sum(), "
        "not by every position, targets.numel().",
        partial(_loss, count="positions"),
    ),
    Mistake(
        "mean of the sequences' means",
        "every token counts the same: the sum over all real tokens divided by their "
        "number, not each sequence's mean averaged (which weighs short ones more).",
        partial(_loss, average="sequences"),
    ),
    Mistake(
        "sum instead of mean",
        "the loss is the mean per real token, in nats: divide the sum by the number "
        "of real tokens.",
        partial(_loss, average="sum"),
    ),
    Mistake(
        "padding id taken as 0",
        "the padding id is the argument pad; it need not be 0.",
        partial(_loss, pad_id=0),
    ),
)

check_masked_cross_entropy = Check(
    "9.3",
    "masked_cross_entropy",
    seq2seq.masked_cross_entropy,
    LOSS_CASES,
    (Output("masked_cross_entropy", kind="number"),),
    LOSS_MISTAKES,
    hint="F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad).",
    forbidden=LOSS,
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_additive_attention, check_beam_step, check_masked_cross_entropy)
