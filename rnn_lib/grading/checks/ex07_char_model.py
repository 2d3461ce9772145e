"""Checks for exercises/07_char_model.ipynb: exercises 7.1 to 7.4 (after chapter 7).

- 7.1 ``sequence_loss(logits, targets)``: the mean cross-entropy per character.
- 7.2 ``next_char_probabilities(logits, temperature)``: the sampling
  distribution at a temperature.
- 7.3 ``train_step(model, optimizer, input, target, h, max_norm) -> (loss, h)``:
  one step of truncated BPTT (checked step by step).
- 7.4 the same ``train_step`` trains a small model to a target loss.

The references are torch's ``cross_entropy`` and ``softmax`` (7.1, 7.2) and
the steps of :func:`rnn_lib.train.train` written out (7.3, 7.4), on
:class:`rnn_lib.models.CharRNN` in float64. Read next:
:mod:`rnn_lib.grading.checks.ex08_lstm_cell`.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import torch
import torch.nn.functional as F

from rnn_lib.data.text import TextStreams, Vocabulary, load_corpus
from rnn_lib.grading.cases import Case, Outcome, float64_generator, randn
from rnn_lib.grading.checking import Check, Mistake, Output, not_written
from rnn_lib.models import CharRNN
from rnn_lib.train import evaluate

# -- 7.1 sequence_loss -----------------------------------------------------------


def _loss_cases() -> list[Case]:
    g = float64_generator(71)
    cases = []
    # batch 1 and length 1; then logits so large that exp under- and overflows.
    for L, N, V, scale in [
        (1, 1, 5, 2.0),
        (3, 2, 4, 2.0),
        (4, 3, 6, 1.0),
        (2, 2, 3, 1000.0),
    ]:
        logits = randn(L, N, V, generator=g, scale=scale)
        targets = torch.randint(V, (L, N), generator=g)
        if scale > 100:
            # a confident model that is wrong: the target is its least likely
            targets = logits.argmin(-1)
        args = {"logits": logits, "targets": targets}
        cases.append(Case({"L": L, "N": N, "V": V, "logit scale": scale}, args))
    return cases


def _loss_reference(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def _gathered(log_p, targets):
    return -log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (L, N)


LOSS_MISTAKES = (
    Mistake(
        "logits not flattened",
        "F.cross_entropy wants classes on axis 1: flatten to logits.reshape(-1, V) and "
        "targets.reshape(-1) first.",
        lambda logits, targets: F.cross_entropy(logits, targets),
    ),
    Mistake(
        "sum instead of mean",
        "the loss per character is the mean over all L * N positions.",
        lambda logits, targets: _gathered(logits.log_softmax(-1), targets).sum(),
    ),
    Mistake(
        "log base 2",
        "the course measures cross-entropy in nats (natural log); bits are nats / ln 2.",
        lambda logits, targets: (
            _gathered(logits.log_softmax(-1), targets).mean() / math.log(2)
        ),
    ),
    Mistake(
        "log of softmax",
        "log(softmax(z)) overflows for large logits (exp(z) is inf): use log_softmax or "
        "F.cross_entropy, which subtract the largest logit first.",
        lambda logits, targets: _gathered(logits.softmax(-1).log(), targets).mean(),
    ),
    Mistake(
        "softmax over the batch axis",
        "normalise over the vocabulary, the last axis: log_softmax(dim=-1).",
        lambda logits, targets: _gathered(logits.log_softmax(1), targets).mean(),
    ),
    Mistake(
        "targets shifted twice",
        "targets[t] is already the character after input[t]: compare logits[t] with "
        "targets[t], not targets[t + 1].",
        lambda logits, targets: _gathered(
            logits[:-1].log_softmax(-1), targets[1:]
        ).mean(),
    ),
)

check_sequence_loss = Check(
    "7.1",
    "sequence_loss",
    _loss_reference,
    _loss_cases,
    (Output("sequence_loss"),),
    LOSS_MISTAKES,
    hint="F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).",
)

# -- 7.2 next_char_probabilities -------------------------------------------------


def _probability_cases() -> list[Case]:
    g = float64_generator(72)
    cases = []
    for N, V, temperature in [(1, 5, 1.0), (3, 4, 0.5), (2, 6, 2.0), (4, 3, 0.8)]:
        args = {
            "logits": randn(N, V, generator=g, scale=2.0),
            "temperature": temperature,
        }
        cases.append(Case({"N": N, "V": V, "temperature": temperature}, args))
    return cases


def _probability_reference(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


PROBABILITY_MISTAKES = (
    Mistake(
        "temperature multiplied",
        "divide the logits by the temperature: a low temperature must sharpen the "
        "distribution.",
        lambda logits, t: torch.softmax(logits * t, dim=-1),
    ),
    Mistake(
        "temperature ignored",
        "use softmax(logits / temperature).",
        lambda logits, t: torch.softmax(logits, dim=-1),
    ),
    Mistake(
        "softmax over the batch axis",
        "each row is one distribution over the vocabulary: softmax(dim=-1).",
        lambda logits, t: torch.softmax(logits / t, dim=0),
    ),
    Mistake(
        "probabilities not renormalised",
        "p ** (1 / T) no longer sums to 1: apply the temperature to the logits, "
        "softmax(logits / T).",
        lambda logits, t: torch.softmax(logits, dim=-1) ** (1 / t),
    ),
    Mistake(
        "exp without normalising",
        "divide by the sum over the vocabulary (softmax), so that each row sums to 1.",
        lambda logits, t: torch.exp(logits / t),
    ),
)

check_next_char_probabilities = Check(
    "7.2",
    "next_char_probabilities",
    _probability_reference,
    _probability_cases,
    (Output("next_char_probabilities", "(N, V)", ("batch row", "character id")),),
    PROBABILITY_MISTAKES,
    hint="torch.softmax(logits / temperature, dim=-1).",
)

# -- 7.3 train_step --------------------------------------------------------------

STEPS = 3  # consecutive chunks of the same streams


def _train_cases() -> list[Case]:
    g = float64_generator(73)
    cases = []
    for V, L, N, max_norm in [(7, 5, 3, 0.5), (5, 1, 1, 0.1), (6, 4, 2, 100.0)]:
        model = CharRNN(V, embedding_dim=4, hidden_size=6).double()
        state = {
            name: randn(*p.shape, generator=g, scale=0.5)
            for name, p in model.state_dict().items()
        }
        chunks = torch.randint(V, (STEPS * L + 1, N), generator=g)
        sizes = {"V": V, "L": L, "N": N, "max_norm": max_norm}
        cases.append(
            Case(
                sizes, {"state": state, "chunks": chunks, "L": L, "max_norm": max_norm}
            )
        )
    return cases


def _train_call(function, case: Case) -> Outcome:
    """Train a fresh model for STEPS chunks with ``function``; what came out."""
    V = case.sizes["V"]
    model = CharRNN(V, embedding_dim=4, hidden_size=6).double()
    model.load_state_dict(case.args["state"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    chunks, L = case.args["chunks"], case.args["L"]
    losses, h = [], None
    try:
        for k in range(STEPS):
            x, y = chunks[k * L : (k + 1) * L], chunks[k * L + 1 : (k + 1) * L + 1]
            loss, h = function(model, optimizer, x, y, h, case.args["max_norm"])
            losses.append(loss)
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=error)
    if isinstance(h, torch.Tensor) and h.requires_grad:
        h = "a state that still requires grad (not detached)"
    weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return Outcome(value=(*losses, h, weights))


def _train_step(model, optimizer, input, target, h, max_norm, detach=True, zero=True,
                clip="before step", carry=True, reduction="mean", step_first=False):  # fmt: skip
    """One step of truncated BPTT, with switches that turn on the known mistakes."""
    logits, h_n = model(input, h if carry else None)  # (L, N, V), (1, N, H)
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction=reduction
    )
    if zero:
        optimizer.zero_grad()
    if step_first:
        optimizer.step()
    loss.backward()
    if clip == "before step":
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    if not step_first:
        optimizer.step()
    return loss.item(), h_n.detach() if detach else h_n


TRAIN_MISTAKES = (
    Mistake(
        "state not detached",
        "return h_n.detach(): the next chunk starts from its value, and backpropagation "
        "stops at the chunk boundary (that is the truncation in truncated BPTT).",
        partial(_train_step, detach=False),
    ),
    Mistake(
        "gradients not zeroed",
        "call optimizer.zero_grad() before loss.backward(): backward adds to .grad.",
        partial(_train_step, zero=False),
    ),
    Mistake(
        "gradients not clipped before the step",
        "clip between loss.backward() and optimizer.step() with "
        "torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm); clipping after "
        "the step (or not at all) leaves the update unclipped.",
        partial(_train_step, clip="never"),
    ),
    Mistake(
        "state reset every chunk",
        "the chunks continue each other's streams: start each chunk from the state "
        "the previous one ended with (the h you are given).",
        partial(_train_step, carry=False),
    ),
    Mistake(
        "loss summed instead of averaged",
        "use the mean cross-entropy per character; a sum makes the step size depend "
        "on L * N.",
        partial(_train_step, reduction="sum"),
    ),
    Mistake(
        "optimizer step before backward",
        "the order is zero_grad, backward, clip, step.",
        partial(_train_step, step_first=True),
    ),
)

check_train_step = Check(
    "7.3",
    "train_step",
    _train_step,
    _train_cases,
    (
        *(Output(f"loss of chunk {k}") for k in range(STEPS)),
        Output("returned state", "(1, N, H)", ("layer", "batch row", "unit")),
        Output("weights after the steps", "(all parameters,)", ("entry",)),
    ),
    TRAIN_MISTAKES,
    hint="logits, h_n = model(input, h); loss = mean cross-entropy; "
    "optimizer.zero_grad(); loss.backward(); clip_grad_norm_; optimizer.step(); "
    "return loss.item(), h_n.detach().",
    call=_train_call,
)

# -- 7.4 train_step reaches a target loss ----------------------------------------

TARGET_LOSS = 2.4  # nats per character; the unigram baseline is about 3.3
TRAIN_CHARS, VAL_CHARS, EPOCHS = 50_000, 10_000, 2


def _train_to_target(train_step, seed: int = 0) -> float:
    """Train a small CharRNN with ``train_step``; its validation loss in nats."""
    text = load_corpus("shakespeare")[: TRAIN_CHARS + VAL_CHARS]
    vocab = Vocabulary(sorted(set(text)))
    ids = torch.as_tensor(vocab.encode(text))
    train_ids, val_ids = ids[:TRAIN_CHARS], ids[TRAIN_CHARS:]
    with torch.random.fork_rng():  # the check neither uses nor moves the global seed
        torch.manual_seed(seed)
        model = CharRNN(len(vocab), embedding_dim=32, hidden_size=128)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(EPOCHS):
        h = None
        for x, y in TextStreams(train_ids, 32, 64):
            _, h = train_step(model, optimizer, x, y, h, 1.0)
    return evaluate(model, val_ids)


def _trained_loss(train_step, case: Case) -> Outcome:
    """The validation loss of a model trained with ``train_step``, or what it raised."""
    try:
        return Outcome(value=_train_to_target(train_step, **case.args))
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=error)


@dataclasses.dataclass(frozen=True, eq=False)
class TargetLoss(Check):
    """A check that passes when training with the student's function beats a loss.

    It has no known mistakes of its own: it grades ``train_step`` again,
    whose mistakes :data:`check_train_step` names.
    """

    @property
    def passed(self) -> str:
        return f"train_step trains the model below {TARGET_LOSS} nats per character"

    def answers(self, student, cases) -> list[Outcome]:
        return [self.call(student, case) for case in cases]

    def judge(self, cases, answers) -> str:
        (case,), (got,) = cases, answers
        if isinstance(got.error, NotImplementedError):
            return not_written("train_step", got.error)
        if got.error is not None:
            return (
                f"training with your train_step raised {type(got.error).__name__}: "
                f"{got.error}. Make check_train_step pass first."
            )
        if got.value < TARGET_LOSS:
            return ""
        reference = self.call(self.reference, case).value
        return (
            f"after {EPOCHS} passes over {TRAIN_CHARS} characters, the model trained with "
            f"your train_step has a validation loss of {got.value:.3f} nats per character; "
            f"the target is {TARGET_LOSS} (the reference reaches {reference:.3f}). "
            "Make check_train_step pass first."
        )


check_char_model = TargetLoss(
    "7.4",
    "char_model",
    _train_step,
    lambda: [Case({"seed": 0}, {"seed": 0})],
    (Output("validation loss"),),
    call=_trained_loss,
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (
    check_sequence_loss,
    check_next_char_probabilities,
    check_train_step,
    check_char_model,
)
