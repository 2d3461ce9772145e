"""Decoding a sequence, one token at a time: greedy and beam search.

A decoder is seen only through a :data:`Step`, a function from the tokens
just written (R,) and the states (R, H) to the log-probabilities of the next
token (R, V) and the new states, so these work for any autoregressive model
(chapter 9's :meth:`rnn_lib.seq2seq.Seq2Seq.decoding_step` makes one).
:func:`greedy_decode` feeds back the likeliest token; :func:`beam_search`
keeps S prefixes of each sequence, the likeliest extensions of those it kept
(:func:`beam_step` is one of its steps, which the graded notebook
``exercises/09_attention_beam_search`` asks for). Neither is guaranteed to
find the likeliest sequence.

Read next: :mod:`rnn_lib.plotting.seq2seq`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import torch

from rnn_lib.validation import check_int, check_number

Tensor = torch.Tensor

#: What a decoding step is: next tokens (R,) and states (R, H) -> the
#: log-probabilities of the token after them (R, V) and the new states.
Step = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def _check_decoding(batch_size: int, max_length: int, bos: int, eos: int) -> None:
    check_int("batch_size", batch_size)
    check_int("max_length", max_length)
    check_int("bos", bos, minimum=0)
    check_int("eos", eos, minimum=0)


@torch.no_grad()
def greedy_decode(
    step: Step,
    state: Tensor,
    batch_size: int,
    bos: int,
    eos: int,
    max_length: int,
    pad: int = 0,
) -> tuple[Tensor, Tensor]:
    """Feed back the likeliest token at every step, until ``<eos>`` or ``max_length``.

    Args:
        step, state: a :data:`Step` and the first states, one row per sequence.
        batch_size: N.
        bos, eos, pad: the ids of ``<bos>``, ``<eos>`` and padding.
        max_length: the most tokens to write, ``<eos>`` included.

    Outputs:
        tokens: (L, N), each row's tokens up to and with its ``<eos>``, then
            ``pad``; L <= ``max_length`` is the longest.
        log_prob: (N,), ``log p(tokens | x)``, the sum over the tokens written.
    """
    _check_decoding(batch_size, max_length, bos, eos)
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=state.device)
    done = torch.zeros(batch_size, dtype=torch.bool, device=state.device)
    log_prob = torch.zeros(batch_size, dtype=torch.float64, device=state.device)
    written = []
    for _ in range(max_length):
        log_probs, state = step(tokens, state)  # (N, V)
        best, tokens = log_probs.max(dim=-1)  # (N,), (N,)
        log_prob += torch.where(done, 0.0, best.double())
        written.append(torch.where(done, pad, tokens))
        done |= tokens == eos
        if done.all():
            break
    return torch.stack(written), log_prob  # (L, N), (N,)


def beam_step(
    scores: Tensor, log_probs: Tensor, finished: Tensor, eos: int
) -> tuple[Tensor, Tensor, Tensor]:
    """One step of beam search: the S best extensions of S hypotheses, per sequence.

    Each live hypothesis b, with log-probability ``scores[n, b]``, can be
    extended by any token v, which gives ``scores[n, b] + log_probs[n, b, v]``;
    an ended one (``finished[n, b]``) competes as it is, once, as the
    extension by ``eos`` at its own score. The S best of these S V
    candidates, over the whole beam, are the new hypotheses: an ended one
    keeps its slot only while it is among them, and is dropped for good once
    S others score higher.

    Inputs:
        scores: (N, S), each hypothesis's log-probability so far (-inf for an
            empty slot, such as S - 1 of the slots at the first step).
        log_probs: (N, S, V), the log-probabilities of the next token.
        finished: (N, S), bool, True for hypotheses that have written ``eos``.
        eos: the id of ``<eos>``.

    Outputs:
        scores: (N, S), the new log-probabilities, best first.
        beams: (N, S), which hypothesis each one extends.
        tokens: (N, S), the token it adds.
    """
    N, S, V = log_probs.shape
    candidates = scores.unsqueeze(-1) + log_probs  # (N, S, V)
    ended = torch.full_like(candidates, -math.inf)
    ended[..., eos] = scores  # an ended hypothesis stays as it is, once
    candidates = torch.where(finished.unsqueeze(-1), ended, candidates)
    scores, index = candidates.view(N, S * V).topk(S, dim=1)  # (N, S), over the beam
    return scores, index // V, index % V


@dataclasses.dataclass
class Beams:
    """What :func:`beam_search` found: S hypotheses per sequence, best first.

    Attributes:
        tokens: (L, N, S), each hypothesis up to and with its ``<eos>``, then pad.
        log_prob: (N, S), ``log p(tokens | x)``.
        lengths: (N, S), the tokens written, ``<eos>`` included.
        score: (N, S), ``log_prob / lengths ** length_penalty``, by which they
            are sorted.
    """

    tokens: Tensor
    log_prob: Tensor
    lengths: Tensor
    score: Tensor

    @property
    def best(self) -> Tensor:
        """(L, N): the best hypothesis of each sequence."""
        return self.tokens[:, :, 0]


@torch.no_grad()
def beam_search(
    step: Step,
    state: Tensor,
    batch_size: int,
    beam_size: int,
    bos: int,
    eos: int,
    max_length: int,
    length_penalty: float = 1.0,
    pad: int = 0,
) -> Beams:
    """Keep the S likeliest prefixes at every step (:func:`beam_step`) until all end.

    Hypotheses compete on their log-probability while they grow; an ended one
    keeps its score and competes for its slot at every step, which it keeps
    only while it is among the S best. The search stops when every hypothesis
    has ended, or after ``max_length`` tokens. Only then are the S hypotheses
    found ranked by their log-probability divided by
    ``length ** length_penalty``: with 0 the likeliest of them wins, which
    favours short ones (every token costs probability); with 1 the best mean
    log-probability per token wins.

    Args:
        step, state: a :data:`Step` and the first states, S rows per sequence
            (``Seq2Seq.decoding_step(..., beam_size=S)`` makes both).
        batch_size: N.
        beam_size: S; ``S = 1`` is :func:`greedy_decode`.
        bos, eos, pad: the ids of ``<bos>``, ``<eos>`` and padding.
        max_length: the most tokens to write, ``<eos>`` included.
        length_penalty: the exponent of the length in the final ranking, >= 0.

    Returns:
        :class:`Beams`.
    """
    _check_decoding(batch_size, max_length, bos, eos)
    check_int("beam_size", beam_size)
    check_number("length_penalty", length_penalty, minimum=0)
    N, S, device = batch_size, beam_size, state.device
    if state.shape[0] != N * S:
        raise ValueError(
            f"expected state with N * S = {N * S} rows, got {state.shape[0]}"
        )
    scores = torch.full((N, S), -math.inf, dtype=torch.float64, device=device)
    scores[:, 0] = 0.0  # one hypothesis, <bos>, to start from
    finished = torch.zeros(N, S, dtype=torch.bool, device=device)
    lengths = torch.zeros(N, S, dtype=torch.long, device=device)
    tokens = torch.full((N * S,), bos, dtype=torch.long, device=device)
    offsets = torch.arange(N, device=device)[:, None] * S  # (N, 1): row of beam 0
    written, parents = [], []
    for _ in range(max_length):
        log_probs, state = step(tokens, state)  # (N S, V)
        new_scores, beams, new_tokens = beam_step(
            scores, log_probs.view(N, S, -1).double(), finished, eos
        )  # each (N, S)
        was_finished = finished.gather(1, beams)  # (N, S)
        lengths = lengths.gather(1, beams) + (~was_finished).long()
        finished = was_finished | (new_tokens == eos)
        written.append(torch.where(was_finished, pad, new_tokens))
        parents.append(beams)
        scores = new_scores
        rows = (offsets + beams).flatten()  # (N S,): the row each extends
        state, tokens = state.index_select(0, rows), new_tokens.flatten()
        if finished.all():
            break
    # Follow each hypothesis back through its parents.
    out = torch.empty(len(written), N, S, dtype=torch.long, device=device)
    slot = torch.arange(S, device=device).expand(N, S)  # (N, S)
    for t in range(len(written) - 1, -1, -1):
        out[t] = written[t].gather(1, slot)
        slot = parents[t].gather(1, slot)
    score = scores / lengths.clamp(min=1).double() ** length_penalty  # (N, S)
    score, order = score.sort(dim=1, descending=True)
    return Beams(
        out.gather(2, order.expand(len(written), N, S)),
        scores.gather(1, order),
        lengths.gather(1, order),
        score,
    )
