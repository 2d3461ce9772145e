"""Crafted answers to exercise 8.1 (lstm_cell)."""

import torch

from grading_submissions import correct, wrong

# -- right answers -----------------------------------------------------------------


@correct("lstm_cell")
def lstm_gate_by_gate(x, h, c, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[1]

    def gate(k):
        rows = slice(k * H, (k + 1) * H)
        return x @ w_ih[rows].T + h @ w_hh[rows].T + b_ih[rows] + b_hh[rows]

    i, f, g, o = (gate(k) for k in range(4))
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


@correct("lstm_cell")
def lstm_split(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = torch.addmm(b_ih + b_hh, torch.cat([x, h], 1), torch.cat([w_ih, w_hh], 1).T)
    i, f, g, o = torch.split(gates, h.shape[1], dim=1)
    c_new = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), torch.tanh(g))
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("lstm_cell", "correct when H_out=1, wrong when H_out=2", "gate blocks")
def lstm_interleaved_gates(x, h, c, w_ih, w_hh, b_ih, b_hh):
    gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    blocks = gates.view(gates.shape[0], -1, 4)  # reads every fourth column as a gate
    i, f, g, o = (blocks[..., k] for k in range(4))
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


@wrong("lstm_cell", "wrong even there")
def lstm_tanh_forget_gate(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, 1)
    c_new = torch.tanh(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new
