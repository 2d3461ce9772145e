"""Checks for exercises/07_char_model.ipynb: exercises 7.1 to 7.4 (after chapter 7).

- 7.1 ``sequence_loss(logits, targets)``: the mean cross-entropy per character.
- 7.2 ``next_char_probabilities(logits, temperature)``: the sampling
  distribution at a temperature.
- 7.3 ``train_step(model, optimizer, input, target, h, max_norm) -> (loss, h)``:
  one step of truncated BPTT (checked step by step).
- 7.4 the same ``train_step`` trains a small model to a target loss.

The references are torch's ``cross_entropy`` and ``softmax`` (7.1, 7.2) and
the steps of :func:`rnn_lib.train.train` written out (7.3, 7.4), on
:class:`rnn_lib.models.CharRNN` in float64. 7.3's text names torch's
clipping, and exercise 6.2 taught the exact one: either passes. For 7.4 the
student's kernel trains the model and sends back its weights; the grader
measures the validation loss itself. Read next:
:mod:`rnn_lib.grading.checks.ex08_lstm_cell`.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial

import torch
import torch.nn.functional as F

from rnn_lib.data.text import TextStreams, Vocabulary, load_corpus
from rnn_lib.grading.cases import L_DIM, N_DIM, Case, Cases, Dim, Outcome, Raised, randn
from rnn_lib.grading.checking import Answers, Check, Mistake, Output, not_written
from rnn_lib.grading.checks.ex06_gradient_norms import clip_exactly
from rnn_lib.models import CharRNN
from rnn_lib.train import evaluate

# -- 7.1 sequence_loss -----------------------------------------------------------


def _loss_args(sizes: dict, g) -> dict:
    L, N, V, scale = sizes["L"], sizes["N"], sizes["V"], sizes["logit scale"]
    logits = randn(L, N, V, generator=g, scale=scale)
    targets = torch.randint(V, (L, N), generator=g)
    if scale > 100:
        # a confident model that is wrong: the target is its least likely
        targets = logits.argmin(-1)
    return {"logits": logits, "targets": targets}


LOSS_CASES = Cases(
    _loss_args,
    # batch 1 and length 1; then logits so large that exp under- and overflows.
    tuple(
        {"L": L, "N": N, "V": V, "logit scale": scale}
        for L, N, V, scale in [
            (1, 1, 5, 2.0),
            (3, 2, 4, 2.0),
            (4, 3, 6, 1.0),
            (2, 2, 3, 1000.0),
        ]
    ),
    seed=71,
    dims={
        "L": Dim((1, 2), "look at how the positions in time are averaged"),
        "N": N_DIM,
        "logit scale": Dim(
            (2.0, 1000.0),
            "look at large logits: exp overflows, so "
            "take the log-softmax, never log(softmax)",
        ),
    },  # fmt: skip
    base={"V": 3},
)


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
    LOSS_CASES,
    (
        Output(
            "sequence_loss",
            "()",
            note="return the tensor itself, not loss.item(): train_step calls "
            ".backward() on it",
        ),
    ),
    LOSS_MISTAKES,
    hint="F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).",
)

# -- 7.2 next_char_probabilities -------------------------------------------------


PROBABILITY_CASES = Cases(
    lambda sizes, g: {
        "logits": randn(sizes["N"], sizes["V"], generator=g, scale=2.0),
        "temperature": sizes["temperature"],
    },
    tuple(
        {"N": N, "V": V, "temperature": temperature}
        for N, V, temperature in [(1, 5, 1.0), (3, 4, 0.5), (2, 6, 2.0), (4, 3, 0.8)]
    ),
    seed=72,
    dims={
        "N": N_DIM,
        # (V = 1 is no distribution: every answer gives 1)
        "V": Dim((2, 3), "look at which axis the distribution runs over"),
        "temperature": Dim(
            (1.0, 0.5), "look at how the temperature enters", parameter=True
        ),
    },
)


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
    PROBABILITY_CASES,
    (Output("next_char_probabilities", "(N, V)", ("batch row", "character id")),),
    PROBABILITY_MISTAKES,
    hint="torch.softmax(logits / temperature, dim=-1).",
)

# -- 7.3 train_step --------------------------------------------------------------


def _train_args(sizes: dict, g) -> dict:
    V, L, N, chunks = sizes["V"], sizes["L"], sizes["N"], sizes["chunks"]
    model = CharRNN(V, embedding_dim=4, hidden_size=6).double()
    state = {
        name: randn(*p.shape, generator=g, scale=0.5)
        for name, p in model.state_dict().items()
    }
    stream = torch.randint(V, (chunks * L + 1, N), generator=g)
    return {"state": state, "stream": stream, "max_norm": sizes["max_norm"]}


TRAIN_CASES = Cases(
    _train_args,
    tuple(
        {"V": V, "L": L, "N": N, "max_norm": max_norm, "chunks": 3}
        for V, L, N, max_norm in [(7, 5, 3, 0.5), (5, 1, 1, 0.1), (6, 4, 2, 100.0)]
    ),
    seed=73,
    dims={
        "chunks": Dim(
            (1, 2),
            "look at what carries over from one chunk to the "
            "next: the state (detached), and the gradients (zeroed)",
        ),
        "max_norm": Dim(
            (100.0, 0.1),
            "look at the clipping (it acts only when the "
            "gradient norm exceeds max_norm)",
            parameter=True,
        ),
        "L": Dim((1, 2), L_DIM.advice),
        "N": N_DIM,
    },  # fmt: skip
    base={"V": 5},
)


def _train_call(function, case: Case) -> Outcome:
    """Train a fresh model on the case's chunks with ``function``; what came out."""
    V = case.sizes["V"]
    model = CharRNN(V, embedding_dim=4, hidden_size=6).double()
    model.load_state_dict(case.args["state"])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    stream, L = case.args["stream"], case.sizes["L"]
    losses, h = [], None
    try:
        for k in range(case.sizes["chunks"]):
            x, y = stream[k * L : (k + 1) * L], stream[k * L + 1 : (k + 1) * L + 1]
            loss, h = function(model, optimizer, x, y, h, case.args["max_norm"])
            losses.append(loss)
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=Raised.of(error))
    weights = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    return Outcome(value=(losses, h, weights))


def _train_step(model, optimizer, input, target, h, max_norm, detach=True, zero=True,
                clip="torch", carry=True, reduction="mean", step_first=False):  # fmt: skip
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
    if clip == "torch":
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    elif clip == "exact":
        clip_exactly(list(model.parameters()), max_norm)
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
    TRAIN_CASES,
    (
        Output(
            "loss of each chunk",
            dims=("chunk",),
            kind="floats",
            note="return loss.item(), a Python float (a tensor keeps the chunk's "
            "whole graph alive)",
        ),
        Output(
            "returned state",
            "(1, N, H)",
            ("layer", "batch row", "unit"),
            kind="detached tensor",
        ),
        Output("weights after the steps", "(all parameters,)", ("entry",)),
    ),  # fmt: skip
    TRAIN_MISTAKES,
    hint="logits, h_n = model(input, h); loss = mean cross-entropy; "
    "optimizer.zero_grad(); loss.backward(); clip_grad_norm_; optimizer.step(); "
    "return loss.item(), h_n.detach().",
    call=_train_call,
    alternatives=(partial(_train_step, clip="exact"),),
    uses=(check_sequence_loss,),
)

# -- 7.4 train_step reaches a target loss ----------------------------------------

TARGET_LOSS = 2.4  # nats per character; the unigram baseline is about 3.3
TRAIN_CHARS, VAL_CHARS, EPOCHS = 50_000, 10_000, 2
EMBEDDING, HIDDEN = 32, 128


def _corpus() -> tuple[Vocabulary, torch.Tensor, torch.Tensor]:
    """The vocabulary, the training ids and the validation ids."""
    text = load_corpus("shakespeare")[: TRAIN_CHARS + VAL_CHARS]
    vocab = Vocabulary(sorted(set(text)))
    ids = torch.as_tensor(vocab.encode(text))
    return vocab, ids[:TRAIN_CHARS], ids[TRAIN_CHARS:]


def _model(vocab: Vocabulary, seed: int) -> CharRNN:
    with torch.random.fork_rng():  # the check neither uses nor moves the global seed
        torch.manual_seed(seed)
        return CharRNN(len(vocab), embedding_dim=EMBEDDING, hidden_size=HIDDEN)


def _trained_weights(train_step, case: Case) -> Outcome:
    """Train a small CharRNN with ``train_step``: its weights, or what it raised."""
    vocab, train_ids, _ = _corpus()
    model = _model(vocab, case.args["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    try:
        for _ in range(EPOCHS):
            h = None
            for x, y in TextStreams(train_ids, 32, 64):
                _, h = train_step(model, optimizer, x, y, h, 1.0)
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=Raised.of(error))
    return Outcome(value=dict(model.state_dict()))


def _validation_loss(weights) -> float | str:
    """The loss of a CharRNN with ``weights`` on the held-out text, or why there is none."""
    vocab, _, val_ids = _corpus()
    model = _model(vocab, 0)
    expected = model.state_dict()
    if type(weights) is not dict or weights.keys() != expected.keys():
        return "the trained model's weights did not come back"
    for name, tensor in weights.items():
        wanted = expected[name]
        if type(tensor) is not torch.Tensor or tensor.shape != wanted.shape:
            return (
                f"the trained model's {name} did not come back as {tuple(wanted.shape)}"
            )
    model.load_state_dict({name: t.to(wanted.dtype) for name, t in weights.items()})
    return evaluate(model, val_ids)


@dataclasses.dataclass(frozen=True, eq=False)
class TargetLoss(Check):
    """A check that passes when training with the student's function beats a loss.

    The student's process trains and sends back the weights; :meth:`judge`
    measures their validation loss in the grader's process. It has no known
    mistakes of its own: it grades ``train_step`` again, whose mistakes
    :data:`check_train_step` names.
    """

    @property
    def passed(self) -> str:
        return f"train_step trains the model below {TARGET_LOSS} nats per character"

    def judge(self, answers: Answers, run_seed: int | None = None) -> str:
        (got,) = answers.cases
        if got.error is not None and got.error.not_implemented:
            return not_written("train_step", got.error.message)
        if got.error is not None:
            feedback = (
                f"training with your train_step raised {got.error.type_name}: "
                f"{got.error.message}."
            )
        else:
            loss = _validation_loss(got.value)
            if isinstance(loss, float) and loss < TARGET_LOSS:
                return ""
            feedback = loss if isinstance(loss, str) else (
                f"after {EPOCHS} passes over {TRAIN_CHARS} characters, the model "
                f"trained with your train_step has a validation loss of {loss:.3f} "
                f"nats per character; the target is {TARGET_LOSS}."
            )  # fmt: skip
        return "\n".join(
            filter(None, [feedback, self._failing_uses(answers, run_seed)])
        )


check_char_model = TargetLoss(
    "7.4",
    "char_model",
    _train_step,
    Cases(lambda sizes, g: dict(sizes), ({"seed": 0},), seed=74),
    (Output("validation loss", kind="float"),),
    call=_trained_weights,
    function="train_step",
    uses=(check_train_step,),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (
    check_sequence_loss,
    check_next_char_probabilities,
    check_train_step,
    check_char_model,
)
