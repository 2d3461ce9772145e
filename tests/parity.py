"""Shared helpers of the parity tests: rnn_lib's recurrent modules against
torch.nn's, in float64, on the same weights and inputs.

Used by tests/test_rnn.py and tests/test_gated.py. A model's state is h for
the RNN and the GRU and the pair (h, c) for the LSTM; the helpers take either.
"""

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

DTYPE = torch.float64
TOL = {"atol": 1e-10, "rtol": 1e-10}
MODES = ["unbatched", "batched", "packed_sorted", "packed_unsorted"]


def make_input(mode, batch_first, L, lengths, H_in, device="cpu"):
    """A leaf tensor x and what is fed to the model (x itself, or x packed)."""
    N = len(lengths)
    if mode == "unbatched":
        shape = (L, H_in)
    else:
        shape = (N, L, H_in) if batch_first else (L, N, H_in)
    x = torch.randn(shape, dtype=DTYPE, device=device, requires_grad=True)
    return x, feed(mode, x, lengths, batch_first)


def feed(mode, x, lengths, batch_first):
    """What the model gets for the leaf x in this mode: x itself, or x packed."""
    if mode in ("unbatched", "batched"):
        return x
    if mode == "packed_sorted":
        lengths = sorted(lengths, reverse=True)
    return pack_padded_sequence(
        x, lengths, batch_first=batch_first, enforce_sorted=mode == "packed_sorted"
    )


def as_tuple(state):
    """A state as a tuple: (h,) or (h, c)."""
    return state if isinstance(state, tuple) else (state,)


def run_and_grad(model, inp, hx, x, cotangents):
    """Output, final states (a tuple) and the gradients of a fixed linear loss."""
    output, state_n = model(inp, hx)
    out = output.data if isinstance(output, PackedSequence) else output
    results = (out,) + as_tuple(state_n)
    if cotangents is None:
        cotangents = [torch.randn_like(r) for r in results]
    loss = sum((r * c).sum() for r, c in zip(results, cotangents))
    initial = [] if hx is None else list(as_tuple(hx))
    leaves = [x] + initial + list(model.parameters())
    # retain_graph: a packed input's packing graph is shared by both models.
    grads = torch.autograd.grad(loss, leaves, retain_graph=True)
    return output, as_tuple(state_n), grads, cotangents


def assert_parity(ours, ref, inp, hx, x):
    """ours and ref agree on output, final states and every gradient."""
    assert [n for n, _ in ours.named_parameters()] == [
        n for n, _ in ref.named_parameters()
    ]
    out_ref, state_ref, grads_ref, cot = run_and_grad(ref, inp, hx, x, None)
    out, state, grads, _ = run_and_grad(ours, inp, hx, x, cot)
    if isinstance(out_ref, PackedSequence):
        assert isinstance(out, PackedSequence)
        for a, b in zip(out[1:], out_ref[1:]):  # batch_sizes and indices
            assert (a is None and b is None) or torch.equal(a.cpu(), b.cpu())
        out, out_ref = out.data, out_ref.data
    assert out.shape == out_ref.shape
    torch.testing.assert_close(out.cpu(), out_ref.cpu(), **TOL)
    assert len(state) == len(state_ref)
    for name, s, s_ref in zip(["h_n", "c_n"], state, state_ref):
        assert s.shape == s_ref.shape, name
        torch.testing.assert_close(s.cpu(), s_ref.cpu(), **TOL, msg=name)
    names = ["input"] + (["h_0", "c_0"][: len(as_tuple(hx))] if hx is not None else [])
    names += [n for n, _ in ref.named_parameters()]
    for name, g, g_ref in zip(names, grads, grads_ref, strict=True):
        torch.testing.assert_close(g.cpu(), g_ref.cpu(), **TOL, msg=f"grad of {name}")
