"""Checks for the forward pass: exercises 3.1 to 3.4 (after chapter 3).

- 3.1 ``rnn_step``: one step of the recurrence.
- 3.2 ``rnn_layer``: one layer over a whole sequence.
- 3.3 ``stacked_rnn``: several layers, each reading the one below.
- 3.4 ``bidirectional_rnn``: a forward and a backward direction.

The references are :mod:`rnn_lib.functional` (3.1, 3.2) and torch's own
multi-layer kernel ``torch.rnn_tanh`` (3.3, 3.4), all in float64.
"""

from __future__ import annotations

import torch

from rnn_lib import functional
from rnn_lib.grading.checking import (
    Case,
    Mistake,
    Output,
    float64_generator,
    randn,
    verify,
)

STATE = ("batch row", "unit")
SEQUENCE = ("time step t=", "batch row", "unit")


def _weights(H_in: int, H_out: int, g: torch.Generator) -> dict[str, torch.Tensor]:
    return {
        "w_ih": randn(H_out, H_in, generator=g, scale=H_in**-0.5),
        "w_hh": randn(H_out, H_out, generator=g, scale=H_out**-0.5),
        "b_ih": randn(H_out, generator=g, scale=0.5),
        "b_hh": randn(H_out, generator=g, scale=0.5),
    }


# ---------------------------------------------------------------------------
# 3.1 rnn_step
# ---------------------------------------------------------------------------


def _step_cases() -> list[Case]:
    g = float64_generator(31)
    cases = []
    # batch 1, a square layer (H_in = H_out, so a transposed W_ih runs), a
    # single input feature, and a wider input.
    for N, H_in, H_out in [(1, 3, 4), (3, 5, 5), (2, 1, 2), (4, 6, 3)]:
        args = {
            "x": randn(N, H_in, generator=g),
            "h": randn(N, H_out, generator=g, scale=0.8),
        }
        args.update(_weights(H_in, H_out, g))
        cases.append(Case({"N": N, "H_in": H_in, "H_out": H_out}, args))
    return cases


def _step_reference(x, h, w_ih, w_hh, b_ih, b_hh):
    return functional.rnn_step(x, h, w_ih, w_hh, b_ih, b_hh)


FORMULA = "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)"

STEP_MISTAKES = [
    Mistake(
        "missing recurrent term",
        "the new state must depend on the previous one: add h @ w_hh.T.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + b_ih + b_hh),
    ),
    Mistake(
        "transposed W_hh",
        "use h @ w_hh.T (torch stores W_hh as (H_out, H_out) and computes h W_hh^T).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            x @ w_ih.T + b_ih + h @ w_hh + b_hh
        ),
    ),
    Mistake(
        "transposed W_ih",
        "use x @ w_ih.T (torch stores W_ih as (H_out, H_in) and computes x W_ih^T).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            x @ w_ih + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "ReLU instead of tanh",
        "the Elman RNN of this exercise uses tanh: torch.tanh(...).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.relu(
            x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "sigmoid instead of tanh",
        "use torch.tanh: its outputs lie in (-1, 1), a sigmoid's in (0, 1).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.sigmoid(
            x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "missing nonlinearity",
        "apply torch.tanh to the whole pre-activation.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: x @ w_ih.T + b_ih + h @ w_hh.T + b_hh,
    ),
    Mistake(
        "missing bias b_hh",
        "torch's RNN has two biases: add both b_ih and b_hh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T),
    ),
    Mistake(
        "missing bias b_ih",
        "torch's RNN has two biases: add both b_ih and b_hh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + h @ w_hh.T + b_hh),
    ),
    Mistake(
        "missing biases",
        "add both biases, b_ih and b_hh, inside the tanh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + h @ w_hh.T),
    ),
    Mistake(
        "tanh before the recurrent term",
        f"the tanh wraps the whole sum: {FORMULA}.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: (
            torch.tanh(x @ w_ih.T + b_ih) + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "state laid out as (H_out, N)",
        "keep the batch first: x is (N, H_in), h is (N, H_out), and the result is "
        "(N, H_out): compute x @ w_ih.T + h @ w_hh.T rather than w_ih @ x.T + w_hh @ h.T.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            w_ih @ x.T + w_hh @ h.T + (b_ih + b_hh)[:, None]
        ),
    ),
]


def check_rnn_step(rnn_step) -> None:
    """Exercise 3.1: ``rnn_step(x, h, w_ih, w_hh, b_ih, b_hh)`` against the reference."""
    __tracebackhide__ = True
    verify(
        "rnn_step",
        rnn_step,
        _step_reference,
        _step_cases(),
        [Output("rnn_step", "(N, H_out)", STATE)],
        STEP_MISTAKES,
        hint=f"Compare your code with {FORMULA}, and mind the shapes: "
        "w_ih is (H_out, H_in), w_hh is (H_out, H_out).",
    )
    print("rnn_step: all checks passed")


# ---------------------------------------------------------------------------
# 3.2 rnn_layer
# ---------------------------------------------------------------------------


def _layer_cases() -> list[Case]:
    g = float64_generator(32)
    cases = []
    # length 1, batch 1, L = N (so swapping them still runs), a longer one.
    for L, N, H_in, H_out in [(1, 2, 3, 4), (4, 1, 2, 3), (3, 3, 3, 3), (6, 2, 4, 5)]:
        args = {
            "x": randn(L, N, H_in, generator=g),
            "h_0": randn(N, H_out, generator=g, scale=0.8),
        }
        args.update(_weights(H_in, H_out, g))
        cases.append(Case({"L": L, "N": N, "H_in": H_in, "H_out": H_out}, args))
    return cases


def _layer_reference(x, h_0, w_ih, w_hh, b_ih, b_hh):
    return functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)


def _layer_without_state(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs = [functional.rnn_step(x_t, h_0, w_ih, w_hh, b_ih, b_hh) for x_t in x]
    return torch.stack(outputs), outputs[-1]


def _layer_shifted(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for x_t in x:
        outputs.append(h)
        h = functional.rnn_step(x_t, h, w_ih, w_hh, b_ih, b_hh)
    return torch.stack(outputs), h


def _layer_h_n_first(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, _ = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output, output[0]


def _layer_h_n_initial(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, _ = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output, h_0


def _layer_reversed(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in reversed(range(x.shape[0])):
        h = functional.rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


def _layer_batch_as_time(x, h_0, w_ih, w_hh, b_ih, b_hh, stack_dim=0):
    # reads x as if it were (N, L, H_in): step t takes x[:, t]
    h, outputs = h_0, []
    for t in range(x.shape[1]):
        h = functional.rnn_step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=stack_dim), h


def _layer_one_step_short(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in range(x.shape[0] - 1):
        h = functional.rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


def _layer_batch_stacked(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, h_n = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output.transpose(0, 1), h_n


LAYER_MISTAKES = [
    Mistake(
        "state not carried over",
        "each step must start from the state the previous step produced: "
        "h = rnn_step(x[t], h, ...), starting from h = h_0.",
        _layer_without_state,
    ),
    Mistake(
        "outputs shifted by one step",
        "output[t] is the state after reading x[t], so store h after the update, not before "
        "(output[0] is h_1, never h_0).",
        _layer_shifted,
    ),
    Mistake(
        "h_n is the first output",
        "h_n is the state after the last step: output[-1] (for one direction).",
        _layer_h_n_first,
    ),
    Mistake(
        "h_n is the initial state",
        "return the state after the last step, not the h_0 you were given.",
        _layer_h_n_initial,
    ),
    Mistake(
        "sequence read backwards",
        "read x from t = 0 to L - 1, and store output[t] in that order.",
        _layer_reversed,
    ),
    Mistake(
        "batch taken as time",
        "x is time-major (L, N, H_in): step t reads x[t], not x[:, t].",
        _layer_batch_as_time,
    ),
    Mistake(
        "batch taken as time",
        "x is time-major (L, N, H_in): step t reads x[t], not x[:, t].",
        lambda *args: _layer_batch_as_time(*args, stack_dim=1),
    ),
    Mistake(
        "loop stops one step early",
        "range(L) runs all L steps; range(L - 1) misses the last one.",
        _layer_one_step_short,
    ),
    Mistake(
        "outputs stacked along the batch axis",
        "stack the states along a new first axis: torch.stack(outputs) gives (L, N, H_out).",
        _layer_batch_stacked,
    ),
]


def check_rnn_layer(rnn_layer) -> None:
    """Exercise 3.2: ``rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh) -> (output, h_n)``."""
    __tracebackhide__ = True
    verify(
        "rnn_layer",
        rnn_layer,
        _layer_reference,
        _layer_cases(),
        [
            Output("output", "(L, N, H_out)", SEQUENCE),
            Output("h_n", "(N, H_out)", STATE),
        ],
        LAYER_MISTAKES,
        hint="Start from h = h_0; for t in range(L): h = rnn_step(x[t], h, ...) and keep "
        "each h. If check_rnn_step fails too, fix rnn_step first: rnn_layer calls it.",
    )
    print("rnn_layer: all checks passed")


# ---------------------------------------------------------------------------
# 3.3 stacked_rnn and 3.4 bidirectional_rnn: references from torch's kernel
# ---------------------------------------------------------------------------


def _torch_rnn(x, h_0, layers, bidirectional):
    """torch's multi-layer tanh RNN; ``layers`` lists (w_ih, w_hh, b_ih, b_hh)."""
    params = [w for layer in layers for w in layer]
    num_layers = len(layers) // (2 if bidirectional else 1)
    return torch.rnn_tanh(
        x, h_0, params, True, num_layers, 0.0, False, bidirectional, False
    )


def _stacked_cases() -> list[Case]:
    g = float64_generator(33)
    cases = []
    # one layer, length 1, batch 1, H_in = H_out (so feeding x to every layer runs).
    for num_layers, L, N, H_in, H_out in [
        (1, 3, 2, 2, 3),
        (2, 1, 3, 3, 4),
        (3, 4, 1, 4, 4),
        (2, 5, 2, 3, 2),
    ]:
        layers = []
        for layer in range(num_layers):
            w = _weights(H_in if layer == 0 else H_out, H_out, g)
            layers.append((w["w_ih"], w["w_hh"], w["b_ih"], w["b_hh"]))
        args = {
            "x": randn(L, N, H_in, generator=g),
            "h_0": randn(num_layers, N, H_out, generator=g, scale=0.8),
            "layers": layers,
        }
        sizes = {"num_layers": num_layers, "L": L, "N": N, "H_in": H_in, "H_out": H_out}
        cases.append(Case(sizes, args))
    return cases


def _stacked_reference(x, h_0, layers):
    return _torch_rnn(x, h_0, layers, bidirectional=False)


def _stacked(x, h_0, layers, inputs="below", states="own", h_n="all", output="last"):
    """A stacked RNN with switches that turn on the known mistakes."""
    below, outputs, finals = x, [], []
    for layer, weights in enumerate(layers):
        start = h_0[layer] if states == "own" else h_0[0]
        out, h = functional.rnn_layer(x if inputs == "x" else below, start, *weights)
        outputs.append(out)
        finals.append(h)
        below = out
    if h_n == "last":
        return outputs[-1 if output == "last" else 0], finals[-1]
    if h_n == "reversed":
        finals = finals[::-1]
    return outputs[-1 if output == "last" else 0], torch.stack(finals)


STACKED_MISTAKES = [
    Mistake(
        "every layer reads x",
        "layer l > 0 reads the output of layer l - 1, not the input x.",
        lambda x, h_0, layers: _stacked(x, h_0, layers, inputs="x"),
    ),
    Mistake(
        "one initial state for every layer",
        "layer l starts from its own initial state h_0[l].",
        lambda x, h_0, layers: _stacked(x, h_0, layers, states="first"),
    ),
    Mistake(
        "h_n holds only the last layer",
        "h_n stacks every layer's last state: (num_layers, N, H_out), like torch.",
        lambda x, h_0, layers: _stacked(x, h_0, layers, h_n="last"),
    ),
    Mistake(
        "h_n's layers in reverse order",
        "h_n[l] is the last state of layer l, the lowest layer first.",
        lambda x, h_0, layers: _stacked(x, h_0, layers, h_n="reversed"),
    ),
    Mistake(
        "output of the first layer returned",
        "output is what the top (last) layer produced at every step.",
        lambda x, h_0, layers: _stacked(x, h_0, layers, output="first"),
    ),
]


def check_stacked_rnn(stacked_rnn) -> None:
    """Exercise 3.3: ``stacked_rnn(x, h_0, layers) -> (output, h_n)``."""
    __tracebackhide__ = True
    verify(
        "stacked_rnn",
        stacked_rnn,
        _stacked_reference,
        _stacked_cases(),
        [
            Output("output", "(L, N, H_out)", SEQUENCE),
            Output("h_n", "(num_layers, N, H_out)", ("layer",) + STATE),
        ],
        STACKED_MISTAKES,
        hint="Run rnn_layer once per layer: layer l reads the previous layer's output "
        "and starts from h_0[l]; h_n stacks each layer's last state.",
    )
    print("stacked_rnn: all checks passed")


def _bidirectional_cases() -> list[Case]:
    g = float64_generator(34)
    cases = []
    for L, N, H_in, H_out in [(1, 2, 3, 2), (4, 1, 2, 3), (3, 3, 4, 4), (5, 2, 3, 2)]:
        forward, backward = _weights(H_in, H_out, g), _weights(H_in, H_out, g)
        args = {
            "x": randn(L, N, H_in, generator=g),
            "h_0": randn(2, N, H_out, generator=g, scale=0.8),
            "forward": tuple(forward.values()),
            "backward": tuple(backward.values()),
        }
        cases.append(Case({"L": L, "N": N, "H_in": H_in, "H_out": H_out}, args))
    return cases


def _bidirectional_reference(x, h_0, forward, backward):
    return _torch_rnn(x, h_0, [forward, backward], bidirectional=True)


def _bidirectional(
    x,
    h_0,
    forward,
    backward,
    flip_in=True,
    flip_out=True,
    h_n_at="own",
    order="fb",
    weights="own",
    states="own",
):
    """A bidirectional RNN with switches that turn on the known mistakes."""
    if weights == "forward":
        backward = forward
    out_f, h_f = functional.rnn_layer(x, h_0[0], *forward)
    start = h_0[1] if states == "own" else h_0[0]
    out_b, h_b = functional.rnn_layer(x.flip(0) if flip_in else x, start, *backward)
    if flip_out:
        out_b = out_b.flip(0)
    if h_n_at == "last":
        h_b = out_b[-1]
    halves = [out_f, out_b] if order == "fb" else [out_b, out_f]
    return torch.cat(halves, dim=-1), torch.stack([h_f, h_b])


BIDIRECTIONAL_MISTAKES = [
    Mistake(
        "backward outputs not flipped back",
        "after running the backward direction on x.flip(0), flip its outputs back so that "
        "output[t] holds both directions' states at time t.",
        lambda x, h_0, f, b: _bidirectional(x, h_0, f, b, flip_out=False),
    ),
    Mistake(
        "backward direction reads the sequence forwards",
        "the backward direction reads x from t = L - 1 down to 0: run it on x.flip(0).",
        lambda x, h_0, f, b: _bidirectional(
            x, h_0, f, b, flip_in=False, flip_out=False
        ),
    ),
    Mistake(
        "backward h_n taken at the last time step",
        "the backward direction ends at t = 0: its h_n is its state there, "
        "not output[-1]'s backward half (which has seen one step).",
        lambda x, h_0, f, b: _bidirectional(x, h_0, f, b, h_n_at="last"),
    ),
    Mistake(
        "halves concatenated in the wrong order",
        "torch puts the forward direction first: torch.cat([forward, backward], dim=-1).",
        lambda x, h_0, f, b: _bidirectional(x, h_0, f, b, order="bf"),
    ),
    Mistake(
        "forward weights used for both directions",
        "each direction has its own weights: run the backward one with `backward`.",
        lambda x, h_0, f, b: _bidirectional(x, h_0, f, b, weights="forward"),
    ),
    Mistake(
        "one initial state for both directions",
        "h_0[0] starts the forward direction, h_0[1] the backward one.",
        lambda x, h_0, f, b: _bidirectional(x, h_0, f, b, states="first"),
    ),
]


def check_bidirectional_rnn(bidirectional_rnn) -> None:
    """Exercise 3.4: ``bidirectional_rnn(x, h_0, forward, backward) -> (output, h_n)``."""
    __tracebackhide__ = True
    verify(
        "bidirectional_rnn",
        bidirectional_rnn,
        _bidirectional_reference,
        _bidirectional_cases(),
        [
            Output("output", "(L, N, 2 * H_out)", SEQUENCE),
            Output("h_n", "(2, N, H_out)", ("direction",) + STATE),
        ],
        BIDIRECTIONAL_MISTAKES,
        hint="Run the forward weights on x, the backward weights on x.flip(0) and flip "
        "their outputs back; concatenate the halves along the last axis.",
    )
    print("bidirectional_rnn: all checks passed")


# What each check knows, for the tests that prove the checks.
check_rnn_step.mistakes = STEP_MISTAKES
check_rnn_layer.mistakes = LAYER_MISTAKES
check_stacked_rnn.mistakes = STACKED_MISTAKES
check_bidirectional_rnn.mistakes = BIDIRECTIONAL_MISTAKES
