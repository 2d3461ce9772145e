"""A character-level language model, its baseline and its sampler (chapter 7).

:class:`CharRNN` reads characters as ids, embeds them, runs them through
:class:`rnn_lib.RNN` (or, from chapter 8, :class:`rnn_lib.LSTM` or
:class:`rnn_lib.GRU`) and turns every hidden state into scores (logits) for the
next character. :func:`unigram_cross_entropy` is the baseline that any model
must beat: it predicts every character from its frequency alone, ignoring the
context. :func:`generate` writes text with a trained model, one character at a
time, fed back as the next input; :func:`generate_ngram` writes the same way
with a count-based model of :mod:`rnn_lib.ngram`, so that the two can be
compared sample for sample.

Read next: :mod:`rnn_lib.train`, the loop that trains these models.
"""

from __future__ import annotations

import torch
from torch import nn

from rnn_lib.data.text import Vocabulary
from rnn_lib.gated import GRU, LSTM
from rnn_lib.ngram import NGramModel
from rnn_lib.rnn import RNN
from rnn_lib.validation import check_choice, check_int, check_number

CELLS = ("rnn", "lstm", "gru")


class CharRNN(nn.Module):
    """Embedding, a recurrent network, a linear read-out.

    ``y_t = h_t W_hy^T + b_y`` (the book's row form) scores every character of
    the vocabulary as the one that follows input ``t``; a softmax turns the
    scores into the predicted distribution.

    Args:
        vocab_size: V, the number of distinct characters.
        embedding_dim: H_in, the size of each character's learned vector (a row
            of the embedding matrix E).
        hidden_size: H_out, the size of the recurrent state.
        num_layers: stacked recurrent layers.
        nonlinearity: ``'tanh'`` or ``'relu'``, for ``cell='rnn'`` only.
        dropout: dropout on the outputs of every recurrent layer but the last.
        cell: ``'rnn'`` (:class:`rnn_lib.RNN`), ``'lstm'``
            (:class:`rnn_lib.LSTM`) or ``'gru'`` (:class:`rnn_lib.GRU`).

    Inputs: input, h_0
        input: (L, N), character ids (int64).
        h_0: (num_layers, N, H_out), (2 * num_layers, N, H_out) for an LSTM,
            or None for zeros.

    Outputs: logits, h_n
        logits: (L, N, V), unnormalised scores for the next character.
        h_n: like h_0, the state after the last character.

    The state is one tensor whatever the cell, so that the training loop and
    the sampler can carry it without knowing the cell: for an LSTM it is
    ``h`` and ``c`` stacked, ``torch.cat([h_n, c_n])``, twice the layers of an
    RNN's or a GRU's.

    Attributes:
        embedding: ``nn.Embedding(V, H_in)``, its weight the embedding matrix E.
        rnn: ``rnn_lib.RNN(H_in, H_out, num_layers)`` (or LSTM, GRU), time-major.
        head: ``nn.Linear(H_out, V)``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        dropout: float = 0.0,
        cell: str = "rnn",
    ):
        super().__init__()
        check_choice("cell", cell, CELLS)
        if cell != "rnn" and nonlinearity != "tanh":
            raise ValueError(
                f"nonlinearity applies to cell='rnn' only, got {nonlinearity!r} "
                f"with cell={cell!r}"
            )
        check_int("vocab_size", vocab_size)
        self.config = {
            "vocab_size": vocab_size,
            "embedding_dim": embedding_dim,
            "hidden_size": hidden_size,
            "num_layers": num_layers,
            "nonlinearity": nonlinearity,
            "dropout": dropout,
            "cell": cell,
        }
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        if cell == "rnn":
            self.rnn = RNN(
                embedding_dim,
                hidden_size,
                num_layers,
                nonlinearity=nonlinearity,
                dropout=dropout,
            )
        else:
            gated = LSTM if cell == "lstm" else GRU
            self.rnn = gated(embedding_dim, hidden_size, num_layers, dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(
        self, input: torch.Tensor, h_0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if input.dim() != 2:
            raise ValueError(
                f"expected input of shape (L, N), got {tuple(input.shape)}"
            )
        x = self.embedding(input)  # (L, N, H_in)
        if isinstance(self.rnn, LSTM):
            state = None if h_0 is None else tuple(h_0.chunk(2))  # (h_0, c_0)
            output, (h_n, c_n) = self.rnn(x, state)  # (L, N, H_out)
            h_n = torch.cat([h_n, c_n])  # (2 * num_layers, N, H_out)
        else:
            output, h_n = self.rnn(x, h_0)  # (L, N, H_out), (num_layers, N, H_out)
        return self.head(output), h_n  # (L, N, V)


def unigram_cross_entropy(
    train_ids: torch.Tensor, val_ids: torch.Tensor, vocab_size: int
) -> float:
    """The loss of a model that ignores context, in nats per character.

    It predicts ``p(c) = (count_train(c) + 1) / (len(train_ids) + V)`` for every
    position (add-one smoothing keeps characters unseen in training finite) and
    returns ``-mean(log p(c))`` over ``val_ids``.

    Inputs:
        train_ids: (number of characters,), val_ids: (number of characters,)
    """
    counts = torch.bincount(train_ids.cpu(), minlength=vocab_size).double() + 1  # (V,)
    log_p = counts.log() - counts.sum().log()  # (V,)
    return -log_p[val_ids.cpu()].mean().item()


def _draw(
    scores: torch.Tensor,
    vocab: Vocabulary,
    temperature: float,
    generator: torch.Generator | None,
) -> int:
    """One id drawn from ``softmax(scores / temperature)``, never ``UNK``.

    Sampled on the CPU with a CPU generator: the same seed gives the same
    draws whatever the model's device.

    Inputs:
        scores: (V,), logits, or log-probabilities.
    """
    scores = scores.double().cpu() / temperature  # (V,), a new tensor
    if vocab.unknown == "replace":
        scores[0] = -float("inf")  # id 0 is UNK
    probs = torch.softmax(scores, dim=-1)  # (V,)
    return torch.multinomial(probs, 1, generator=generator).item()


def _check_sampling(prime: str, length: int, temperature: float) -> None:
    if not prime:
        raise ValueError("prime must hold at least one character, got ''")
    check_int("length", length, minimum=0)
    check_number("temperature", temperature, positive=True)


@torch.no_grad()
def generate(
    model: CharRNN,
    vocab: Vocabulary,
    prime: str,
    length: int,
    temperature: float = 1.0,
    seed: int | None = None,
) -> str:
    """Text from the model: ``prime`` followed by ``length`` sampled characters.

    The prime runs through the network to set the state; then each step draws
    the next character from ``softmax(logits / temperature)`` and feeds it
    back. A temperature below 1 sharpens the distribution (safer, more
    repetitive text), above 1 flattens it (more varied, more mistakes).

    Args:
        model: a trained :class:`CharRNN`.
        vocab: the vocabulary it was trained with.
        prime: at least one character; every one must be in ``vocab``.
        length: how many characters to sample.
        temperature: a positive number.
        seed: seeds a private generator, so the same seed gives the same text;
            None draws from torch's global generator.

    With a vocabulary whose policy is ``'replace'`` the sampler never draws
    ``UNK``: it stands for many characters and would print as �.
    """
    _check_sampling(prime, length, temperature)
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    ids = vocab.encode(prime).to(device)[:, None]  # (len(prime), 1)
    logits, h = model(ids)  # (len(prime), 1, V)
    sampled = []
    for _ in range(length):
        sampled.append(_draw(logits[-1, 0], vocab, temperature, generator))
        next_id = torch.tensor([[sampled[-1]]], device=device)  # (1, 1)
        logits, h = model(next_id, h)  # (1, 1, V)
    model.train(was_training)
    return prime + vocab.decode(sampled)


def generate_ngram(
    model: NGramModel,
    vocab: Vocabulary,
    prime: str,
    length: int,
    temperature: float = 1.0,
    seed: int | None = None,
) -> str:
    """Text from a count-based model, sampled as :func:`generate` samples.

    Each step draws the next character from ``P(w | the n - 1 characters
    before)`` of :func:`rnn_lib.ngram.fit`'s model, reshaped by the temperature
    as the network's softmax is (``softmax(log P / T)``, which is ``P`` at
    ``T = 1``), and never draws ``UNK``: the same rules as :func:`generate`, so
    that samples of the two can be compared.

    Args:
        model: an :class:`rnn_lib.ngram.NGramModel` counted on text encoded
            with ``vocab``.
        vocab, prime, length, temperature, seed: as for :func:`generate`.
    """
    _check_sampling(prime, length, temperature)
    if model.vocab_size != len(vocab):
        raise ValueError(
            f"the model has {model.vocab_size} characters but the vocabulary "
            f"{len(vocab)}"
        )
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    ids = vocab.encode(prime).tolist()
    for _ in range(length):
        p = model.next_distribution(torch.tensor(ids, dtype=torch.long))  # (V,)
        ids.append(_draw(p.log(), vocab, temperature, generator))
    return prime + vocab.decode(ids[len(prime) :])
