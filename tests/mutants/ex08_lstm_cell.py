"""Wrong solutions to exercise 8.1 (lstm_cell)."""

import torch
from torch.nn.functional import linear

from mutants import mutant


def _gates(x, h, w_ih, w_hh, b_ih, b_hh):
    return linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh)


@mutant("lstm_cell", "gates in the order i, f, o, g")
def lstm_ifog(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, o, g = _gates(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


@mutant("lstm_cell", "gates in the order i, g, f, o")
def lstm_igfo(x, h, c, w_ih, w_hh, b_ih, b_hh):
    H = h.shape[1]
    z = _gates(x, h, w_ih, w_hh, b_ih, b_hh)
    i, g, f, o = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H], z[:, 3 * H :]
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


@mutant("lstm_cell", "sigmoid on the cell input g")
def lstm_sigmoid_g(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = torch.sigmoid(_gates(x, h, w_ih, w_hh, b_ih, b_hh)).chunk(4, 1)
    c_new = f * c + i * g
    return o * torch.tanh(c_new), c_new


@mutant("lstm_cell", "forget gate ignored")
def lstm_no_forget(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    c_new = c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


@mutant("lstm_cell", "old cell state dropped")
def lstm_no_memory(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    c_new = i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


@mutant("lstm_cell", "no tanh on the new cell state")
def lstm_no_squash(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new, c_new


@mutant("lstm_cell", "missing recurrent term")
def lstm_no_h(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = (x @ w_ih.T + b_ih + b_hh).chunk(4, 1)
    c_new = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c_new.tanh(), c_new


@mutant("lstm_cell", "h_new from the old cell state")
def lstm_old_cell(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b_ih, b_hh).chunk(4, 1)
    h_new = o.sigmoid() * c.tanh()
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return h_new, c
