r"""Sequence to sequence: an encoder, additive attention, a decoder, greedy and beam search.

Chapter 9 (``book/09_sequence_to_sequence``) builds these, in the notation of
the book (vectors are rows): a source ``x_1 .. x_{L_src}``, a target
``y*_1 .. y*_{L_tgt}`` that ends with ``<eos>``, and ``y*_0 = <bos>``.

Encoder (Sutskever et al., 2014; Cho et al., 2014). An embedding and a
bidirectional :class:`rnn_lib.GRU` read the packed batch of sources; the
states ``h^enc_s = [h->_s ; h<-_s]`` (one per source token, 2 H_out features)
are the memory, and ``hbar = [h->_{L_src} ; h<-_1]``, each direction's final
state, is the message. The decoder starts from
``h^dec_0 = tanh(hbar W_b^T + b_b)``.

Decoder without attention: the message is all it knows of the source::

    h^dec_t = GRU(E_tgt[y*_{t-1}], h^dec_{t-1}),    y_t = h^dec_t W_hy^T + b_y

Decoder with additive attention (Bahdanau et al., 2015): before each step it
reads the memory again, weighting each source position s by how well it
matches the state so far::

    psi_{t,s} = tanh(h^dec_{t-1} W_dec^T + h^enc_s W_enc^T) W_psi^T    scores
    alpha_{t,s} = softmax over the real s of psi_{t,s}, 0 on padding   weights
    hbar_t = sum_s alpha_{t,s} h^enc_s                                 context
    h^dec_t = GRU([E_tgt[y*_{t-1}] ; hbar_t], h^dec_{t-1})
    y_t = [h^dec_t ; hbar_t] W_hy^T + b_y

Both give ``p(y*_t | y*_{<t}, x) = softmax(y_t)``. Training feeds the true
``y*_{t-1}`` (teacher forcing) and minimises :func:`masked_cross_entropy`;
decoding feeds the model's own tokens back, one at a time, greedily
(:func:`~rnn_lib.decoding.greedy_decode`) or keeping ``S`` prefixes, the likeliest
extensions of those kept before (:func:`beam_search`, built on :func:`beam_step`).

Shapes are time-major as in torch's recurrent layers: ``source (L_src, N)``,
``memory (L_src, N, 2 H_out)``, ``mask (L_src, N)`` (True at real tokens),
attention weights ``(L_src, N)`` per step. Without attention the decoder's
inputs are all known under teacher forcing, so the whole target runs through
one :class:`rnn_lib.GRU` call (with the backward pass of chapter 8); with
attention each input depends on the previous state, so the decoder steps
with :func:`rnn_lib.gated.gru_step` on the same weights.

Decoding, which needs nothing of these models but a :data:`Step`, is in
:mod:`rnn_lib.decoding`; its names are here too, for chapter 9. Read next:
:mod:`rnn_lib.decoding`, then :mod:`rnn_lib.plotting.seq2seq`, the figures
chapter 9 draws from these models.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_lib import clipping
from rnn_lib.decoding import Beams, Step, beam_search, beam_step, greedy_decode
from rnn_lib.gated import GRU, gru_step
from rnn_lib.validation import (
    check_bool,
    check_int,
    check_number,
    check_shape,
    check_tensor,
)

Tensor = torch.Tensor


# ---------------------------------------------------------------------------
# Attention


def source_mask(lengths: Tensor, length: int) -> Tensor:
    """True at the real tokens of a padded batch: (L_src, N) from ``lengths`` (N,).

    Args:
        lengths: the number of tokens of each source, each between 1 and ``length``.
        length: L_src, the padded length.
    """
    check_tensor("lengths", lengths)
    if lengths.dim() != 1 or lengths.numel() == 0:
        raise ValueError(f"expected lengths of shape (N,), got {tuple(lengths.shape)}")
    if int(lengths.min()) < 1 or int(lengths.max()) > length:
        raise ValueError(
            f"expected lengths between 1 and {length}, got {lengths.tolist()}"
        )
    return torch.arange(length, device=lengths.device)[:, None] < lengths[None, :]


def additive_attention(
    query: Tensor,
    memory: Tensor,
    mask: Tensor,
    w_dec: Tensor,
    w_enc: Tensor,
    w_score: Tensor,
    keys: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Additive attention (Bahdanau et al., 2015) over a padded memory.

    ``psi_s = tanh(query W_dec^T + memory_s W_enc^T) w_score`` scores each
    position s; the weights are the softmax of the scores over the real
    positions (exactly 0 on padding); the context is the weighted sum of the
    memory.

    Args:
        query: h^dec_{t-1}, the decoder's state.
        memory: h^enc_1 .. h^enc_{L_src}, the encoder's states, time-major.
        mask: True at real positions; every column needs at least one.
        w_dec: W_dec; w_enc: W_enc; w_score: W_psi's one row.
        keys: ``memory @ w_enc.T`` if already computed (it does not change
            from one decoder step to the next), else None.

    Inputs:
        query: (N, H_dec)
        memory: (L_src, N, H_enc)
        mask: (L_src, N), bool
        w_dec: (H_att, H_dec); w_enc: (H_att, H_enc); w_score: (H_att,)
        keys: (L_src, N, H_att) or None

    Outputs:
        context: (N, H_enc), hbar_t, ``sum_s alpha_s memory_s``.
        weights: (L_src, N), alpha; each column sums to 1.
    """
    if keys is None:
        keys = memory @ w_enc.T  # (L_src, N, H_att)
    scores = torch.tanh(keys + query @ w_dec.T) @ w_score  # (L_src, N)
    scores = scores.masked_fill(~mask, -math.inf)
    weights = torch.softmax(scores, dim=0)  # (L_src, N), over the source positions
    context = (weights.unsqueeze(-1) * memory).sum(0)  # (N, H_enc)
    return context, weights


def _uniform_(weight: Tensor, fan_in: int) -> None:
    """torch's default for a linear layer's weight: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    nn.init.uniform_(weight, -(fan_in**-0.5), fan_in**-0.5)


class AdditiveAttention(nn.Module):
    """:func:`additive_attention` with its weights as parameters.

    Args:
        query_size: H_dec, the decoder state's size.
        memory_size: H_enc, the size of each encoder state.
        attention_size: H_att, the size of the space where they are compared.

    Attributes:
        w_dec: (H_att, H_dec), W_dec.
        w_enc: (H_att, H_enc), W_enc.
        w_score: (H_att,), W_psi's one row.
        Each drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as ``nn.Linear`` is.
    """

    def __init__(self, query_size: int, memory_size: int, attention_size: int):
        super().__init__()
        check_int("query_size", query_size)
        check_int("memory_size", memory_size)
        check_int("attention_size", attention_size)
        self.w_dec = nn.Parameter(torch.empty(attention_size, query_size))
        self.w_enc = nn.Parameter(torch.empty(attention_size, memory_size))
        self.w_score = nn.Parameter(torch.empty(attention_size))
        _uniform_(self.w_dec, query_size)
        _uniform_(self.w_enc, memory_size)
        _uniform_(self.w_score, attention_size)

    def keys(self, memory: Tensor) -> Tensor:
        """``memory_s W_enc^T`` for every position, once per source: (L_src, N, H_att)."""
        return memory @ self.w_enc.T

    def forward(
        self, query: Tensor, memory: Tensor, mask: Tensor, keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """context (N, H_enc) and weights (L_src, N); see :func:`additive_attention`."""
        return additive_attention(
            query, memory, mask, self.w_dec, self.w_enc, self.w_score, keys
        )


# ---------------------------------------------------------------------------
# Encoder and decoder


class Encoder(nn.Module):
    """An embedding and a bidirectional :class:`rnn_lib.GRU` over a packed batch.

    Args:
        vocab_size: the number of source tokens (id 0 is padding).
        embedding_dim: the size of each token's vector.
        hidden_size: H_out of each direction.

    Inputs: source, lengths
        source: (L_src, N), token ids, padded after each source's end.
        lengths: (N,), int64 on the CPU, each source's number of tokens.

    Outputs: memory, message
        memory: (L_src, N, 2 H_out), ``h^enc_s = [h->_s ; h<-_s]`` for each
            position s, zero on padding.
        message: (N, 2 H_out), ``hbar = [h->_{L_src} ; h<-_1]``: each
            direction's state after reading the whole source (its own length,
            not the padding).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, hidden_size: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.rnn = GRU(embedding_dim, hidden_size, bidirectional=True)

    def forward(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        if source.dim() != 2:
            raise ValueError(
                f"expected source of shape (L_src, N), got {tuple(source.shape)}"
            )
        check_shape("lengths", lengths, (source.shape[1],))
        x = self.embedding(source)  # (L_src, N, E)
        packed = pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)
        # output: packed (sum of lengths, 2 H_out); h_n: (2, N, H_out)
        output, h_n = self.rnn(packed)
        memory, _ = pad_packed_sequence(output, total_length=source.shape[0])
        return memory, torch.cat(
            [h_n[0], h_n[1]], dim=1
        )  # (L_src, N, 2 H_out), (N, 2 H_out)


class Decoder(nn.Module):
    """A GRU decoder, with additive attention over the memory or without it.

    Args:
        vocab_size: V, the number of target tokens.
        embedding_dim: the size of each token's vector.
        hidden_size: H_out, the decoder state's size.
        memory_size: H_enc, the size of each encoder state (2 H_out of the encoder).
        attention_size: H_att, or None for a decoder without attention.

    Attributes:
        embedding: ``nn.Embedding(V, E)``, E_tgt.
        rnn: :class:`rnn_lib.GRU` reading ``E_tgt[y*_{t-1}]`` (and ``hbar_t``
            with attention).
        attention: :class:`AdditiveAttention`, or None.
        head: ``nn.Linear`` from ``h^dec_t`` (and ``hbar_t``) to the V logits
            y_t: W_hy and b_y.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int,
        hidden_size: int,
        memory_size: int,
        attention_size: int | None = None,
    ):
        super().__init__()
        read = 0 if attention_size is None else memory_size  # features of hbar_t
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.rnn = GRU(embedding_dim + read, hidden_size)
        self.attention = (
            None
            if attention_size is None
            else AdditiveAttention(hidden_size, memory_size, attention_size)
        )
        self.head = nn.Linear(hidden_size + read, vocab_size)

    def _advance(
        self,
        x: Tensor,
        state: Tensor,
        memory: Tensor,
        mask: Tensor,
        keys: Tensor | None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """From ``E_tgt[y*_{t-1}]`` (N, E) and h^dec_{t-1}: the readout, h^dec_t, alpha_t."""
        if self.attention is None:
            state = gru_step(x, state, *self.rnn.all_weights[0])  # (N, H_out)
            return state, state, None
        context, weights = self.attention(state, memory, mask, keys)  # (N, H_enc)
        x = torch.cat([x, context], dim=1)  # (N, E + H_enc)
        state = gru_step(x, state, *self.rnn.all_weights[0])  # (N, H_out)
        return torch.cat([state, context], dim=1), state, weights  # (N, H_out + H_enc)

    def step(
        self,
        tokens: Tensor,
        state: Tensor,
        memory: Tensor,
        mask: Tensor,
        keys: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """One decoder step from the token before (``y*_{t-1}``) and ``h^dec_{t-1}``.

        Inputs:
            tokens: (N,), the token before
            state: (N, H_out), h^dec_{t-1}
            memory: (L_src, N, H_enc); mask: (L_src, N); keys: (L_src, N, H_att) or None

        Outputs:
            logits: (N, V), y_t
            state: (N, H_out), h^dec_t
            weights: (L_src, N), alpha_t, or None without attention
        """
        readout, state, weights = self._advance(
            self.embedding(tokens), state, memory, mask, keys
        )
        return self.head(readout), state, weights  # (N, V), (N, H_out)

    def forward(
        self, target_in: Tensor, state: Tensor, memory: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor | None]:
        """Teacher forcing: the logits for every step of ``target_in``.

        Inputs:
            target_in: (L_tgt, N), ``y*_0 .. y*_{L_tgt - 1}`` (``<bos>`` first)
            state: (N, H_out), h^dec_0
            memory: (L_src, N, H_enc); mask: (L_src, N)

        Outputs:
            logits: (L_tgt, N, V)
            weights: (L_tgt, L_src, N), alpha_t for every step, or None without attention
        """
        x = self.embedding(target_in)  # (L_tgt, N, E)
        if self.attention is None:  # every input is known: one call for all steps
            states, _ = self.rnn(x, state[None])  # (L_tgt, N, H_out)
            return self.head(states), None  # (L_tgt, N, V)
        keys = self.attention.keys(memory)  # (L_src, N, H_att), once for all steps
        readouts, weights = [], []
        for x_t in x:
            readout, state, alpha = self._advance(x_t, state, memory, mask, keys)
            readouts.append(readout)
            weights.append(alpha)
        # (L_tgt, N, V), (L_tgt, L_src, N)
        return self.head(torch.stack(readouts)), torch.stack(weights)


class Seq2Seq(nn.Module):
    """An :class:`Encoder`, a bridge to the decoder's first state, and a :class:`Decoder`.

    Args:
        source_vocab_size, target_vocab_size: the two vocabularies' sizes
            (id 0 is padding in both).
        embedding_dim: the size of every token's vector.
        hidden_size: H_out, of each encoder direction and of the decoder.
        attention: True for additive attention, False for the message alone.
        attention_size: H_att (default H_out).

    Inputs: source, lengths, target_in
        source: (L_src, N); lengths: (N,) on the CPU; target_in: (L_tgt, N).

    Outputs: logits, weights
        logits: (L_tgt, N, V), teacher-forced.
        weights: (L_tgt, L_src, N), or None without attention.

    Attributes:
        encoder, decoder: the two halves.
        bridge: ``nn.Linear(2 H_out, H_out)``: ``h^dec_0 = tanh(hbar W_b^T + b_b)``.
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 64,
        attention: bool = True,
        attention_size: int | None = None,
    ):
        super().__init__()
        check_int("source_vocab_size", source_vocab_size)
        check_int("target_vocab_size", target_vocab_size)
        check_int("embedding_dim", embedding_dim)
        check_int("hidden_size", hidden_size)
        check_bool("attention", attention)
        if attention_size is not None:
            check_int("attention_size", attention_size)
        H = hidden_size
        self.encoder = Encoder(source_vocab_size, embedding_dim, H)
        self.bridge = nn.Linear(2 * H, H)
        size = (attention_size or H) if attention else None
        self.decoder = Decoder(target_vocab_size, embedding_dim, H, 2 * H, size)

    def encode(self, source: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """memory (L_src, N, 2 H_out), mask (L_src, N), first state h^dec_0 (N, H_out)."""
        memory, message = self.encoder(source, lengths)
        mask = source_mask(lengths.to(source.device), source.shape[0])  # (L_src, N)
        return memory, mask, torch.tanh(self.bridge(message))  # (N, H_out)

    def forward(self, source: Tensor, lengths: Tensor, target_in: Tensor):
        memory, mask, state = self.encode(source, lengths)
        return self.decoder(target_in, state, memory, mask)

    def decoding_step(
        self, source: Tensor, lengths: Tensor, beam_size: int = 1
    ) -> tuple[Step, Tensor]:
        """The decoder as a :data:`Step` for :func:`greedy_decode` and :func:`beam_search`.

        Each source is read once; its memory is repeated for its
        ``beam_size`` rows (rows ``n * S .. n * S + S - 1`` belong to source n).

        Returns:
            step: tokens (N S,) and states (N S, H_out) -> log-probabilities
                (N S, V) and new states.
            state: (N S, H_out), h^dec_0 of every row.
        """
        check_int("beam_size", beam_size)
        memory, mask, state = self.encode(source, lengths)
        memory = memory.repeat_interleave(beam_size, dim=1)  # (L_src, N S, 2 H)
        mask = mask.repeat_interleave(beam_size, dim=1)  # (L_src, N S)
        attention = self.decoder.attention
        keys = None if attention is None else attention.keys(memory)

        def step(tokens: Tensor, state: Tensor) -> tuple[Tensor, Tensor]:
            logits, state, _ = self.decoder.step(tokens, state, memory, mask, keys)
            return logits.log_softmax(-1), state  # (N S, V), (N S, H_out)

        return step, state.repeat_interleave(beam_size, dim=0)


def masked_cross_entropy(logits: Tensor, targets: Tensor, pad: int = 0) -> Tensor:
    """The mean cross-entropy over the real tokens of a padded batch (nats per token).

    Inputs:
        logits: (L_tgt, N, V)
        targets: (L_tgt, N), token ids; ``pad`` marks the padding, which counts
            for nothing, neither in the sum nor in the number of tokens.

    Outputs:
        loss: a scalar.
    """
    return F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=pad, reduction="mean"
    )


# ---------------------------------------------------------------------------
# Training and measuring


def exact_match(predicted: Tensor, target: Tensor, pad: int = 0) -> Tensor:
    """Whether each predicted sequence equals its target, token for token: (N,) bool.

    Inputs:
        predicted: (L_p, N) and target: (L_tgt, N), each padded with ``pad``
            after its ``<eos>``; the shorter is padded to the longer's length.
    """
    L = max(predicted.shape[0], target.shape[0])
    a = F.pad(predicted, (0, 0, 0, L - predicted.shape[0]), value=pad)  # (L, N)
    b = F.pad(target, (0, 0, 0, L - target.shape[0]), value=pad)  # (L, N)
    return (a == b).all(dim=0)


@torch.no_grad()
def evaluate(
    model: Seq2Seq,
    batch: Sequence[Tensor],
    bos: int,
    eos: int,
    max_length: int,
) -> dict[str, float]:
    """The teacher-forced loss and token accuracy, and the free-running exact match.

    Args:
        model: the model.
        batch: ``(source, lengths, target_in, target_out)``, as :func:`fit` takes.
        bos, eos: the ids of ``<bos>`` and ``<eos>``; padding is 0.
        max_length: the most tokens greedy decoding writes.

    Returns:
        ``loss``: :func:`masked_cross_entropy` with teacher forcing;
        ``token_accuracy``: the share of target tokens that are the likeliest
        given the true prefix; ``exact_match``: the share of sequences that
        :func:`greedy_decode` writes exactly.
    """
    source, lengths, target_in, target_out = batch
    logits, _ = model(source, lengths, target_in)  # (L_tgt, N, V)
    real = target_out != 0  # (L_tgt, N)
    right = (logits.argmax(-1) == target_out) & real
    step, state = model.decoding_step(source, lengths)
    tokens, _ = greedy_decode(step, state, source.shape[1], bos, eos, max_length)
    return {
        "loss": masked_cross_entropy(logits, target_out).item(),
        "token_accuracy": (right.sum() / real.sum()).item(),
        "exact_match": exact_match(tokens, target_out).double().mean().item(),
    }


@dataclasses.dataclass
class History:
    """What :func:`fit` recorded.

    Attributes:
        train_loss: the loss of every step's batch.
        measured_step: the steps after which ``measure`` ran (0: before training).
        measured: what it returned each time.
    """

    train_loss: list[float] = dataclasses.field(default_factory=list)
    measured_step: list[int] = dataclasses.field(default_factory=list)
    measured: list = dataclasses.field(default_factory=list)


def fit(
    model: Seq2Seq,
    batches: Callable[[int], Sequence[Tensor]],
    steps: int,
    lr: float = 3e-3,
    clip: float = 1.0,
    measure: Callable[[], object] | None = None,
    every: int | None = None,
) -> History:
    """Train with teacher forcing, Adam and gradient-norm clipping.

    Args:
        model: the model, on the device of the batches.
        batches: ``batches(i)`` gives step i's ``(source, lengths, target_in,
            target_out)``.
        steps: the number of updates.
        lr: Adam's learning rate.
        clip: the largest global gradient norm.
        measure: called before training, every ``every`` steps and after the
            last (for example :func:`evaluate` on a validation batch).
        every: how often to call ``measure``.

    Returns:
        the :class:`History` of the run; the model is left in eval mode.
    """
    check_int("steps", steps)
    check_number("lr", lr, positive=True)
    check_number("clip", clip, positive=True)
    if every is not None:
        check_int("every", every)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()

    def record(step: int) -> None:
        if measure is not None:
            model.eval()
            history.measured_step.append(step)
            history.measured.append(measure())

    record(0)
    for i in range(steps):
        model.train()
        source, lengths, target_in, target_out = batches(i)
        logits, _ = model(source, lengths, target_in)  # (L_tgt, N, V)
        loss = masked_cross_entropy(logits, target_out)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clipping.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        history.train_loss.append(loss.item())
        if (every and (i + 1) % every == 0) or i + 1 == steps:
            record(i + 1)
    model.eval()
    return history


__all__ = [  # what chapter 9 uses, decoding included
    "AdditiveAttention",
    "Beams",
    "Decoder",
    "Encoder",
    "History",
    "Seq2Seq",
    "Step",
    "additive_attention",
    "beam_search",
    "beam_step",
    "evaluate",
    "exact_match",
    "fit",
    "greedy_decode",
    "masked_cross_entropy",
    "source_mask",
]
