"""Count-based character models: the n-gram baselines of chapter 7.

An n-gram model predicts the next character from the n - 1 before it, from
counts in the training text. Counts alone give probability 0 to anything not
seen, so the estimate is smoothed, here by interpolated Kneser-Ney
(Kneser and Ney 1995; Chen and Goodman 1999), in chapter 7's letters: with a
discount disc for each order,

    p(v | ctx) = max(count(ctx v) - disc, 0) / total(ctx)
                 + disc * types(ctx) / total(ctx) * p(v | ctx')

where ctx' is ctx without its oldest character, total(ctx) is the sum over
v' of count(ctx v') and types(ctx) the number of v' with count(ctx v') > 0.
At the model's own order, count is how often a string occurs; the lower
orders count *continuations* instead (count(ctx' v) becomes the number of
distinct characters seen before ctx' v), so their total(ctx') is not how
often ctx' occurs. The empty context, order 1, is interpolated with the
uniform distribution over the V characters, so no probability is 0. A
context never seen (total(ctx) = 0) backs off entirely to the order below:
p(v | ctx) = p(v | ctx'). The discount of each order is chosen on held-out
text (:func:`fit`), never on the text the model is scored on.

Counting is vectorised: an n-gram of ids is one int64 code, ``sum_j
x[i - j] V^j`` for the n-gram ending at index i (the newest character in the
lowest digit), and counts are ``numpy.unique`` over all codes; scoring looks
the codes up with ``numpy.searchsorted``. A 5-gram model of Tiny Shakespeare
fits, discounts chosen, in seconds (chapter 7 prints the time).

Read next: :mod:`rnn_lib.models`, the recurrent model these are compared with.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rnn_lib.validation import check_int, check_number, check_tensor

#: The discounts :func:`fit` tries for each order.
DISCOUNTS = (0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 0.95, 0.99)


def _codes(ids: np.ndarray, n: int, V: int) -> np.ndarray:
    """The code of every n-gram of ``ids`` ending at indices n - 1 .. len(ids) - 1."""
    T = len(ids)
    codes = np.zeros(T - n + 1, dtype=np.int64)
    for j in range(n):  # j = how far back: the newest character is j = 0
        codes += ids[n - 1 - j : T - j].astype(np.int64) * V**j
    return codes


@dataclasses.dataclass
class _Table:
    """Counts of one order: sorted n-gram codes, and per context its total and types."""

    grams: np.ndarray  # sorted unique codes of (ctx, v)
    counts: np.ndarray  # count(ctx v), raw or continuation
    contexts: np.ndarray  # sorted unique codes of ctx
    totals: np.ndarray  # total(ctx) = sum over v of count(ctx v)
    types: np.ndarray  # types(ctx) = |{v : count(ctx v) > 0}|

    @classmethod
    def from_counts(cls, grams: np.ndarray, counts: np.ndarray, V: int) -> _Table:
        contexts, inverse = np.unique(grams // V, return_inverse=True)
        totals = np.bincount(inverse, weights=counts)
        types = np.bincount(inverse)
        return cls(grams, counts.astype(np.float64), contexts, totals, types)


def _lookup(keys: np.ndarray, table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` at the position of each key in the sorted ``table``, 0 if absent."""
    if len(table) == 0:
        return np.zeros(len(keys))
    where = np.clip(np.searchsorted(table, keys), 0, len(table) - 1)
    return np.where(table[where] == keys, values[where], 0.0)


@dataclasses.dataclass
class NGramModel:
    """An interpolated Kneser-Ney character model of one order.

    Build it with :func:`fit`. Attributes: ``order`` (n), ``vocab_size`` (V),
    ``discounts`` (one per order 1..n) and the count tables.
    """

    order: int
    vocab_size: int
    discounts: tuple[float, ...]
    tables: list[_Table]

    def probabilities(self, ids: torch.Tensor) -> torch.Tensor:
        """p(ids[i] | the n - 1 ids before it) for i = n - 1 .. len(ids) - 1.

        Outputs: (len(ids) - n + 1,).
        """
        return torch.from_numpy(self._probabilities(_as_array(ids, self.vocab_size)))

    def _probabilities(self, x: np.ndarray, orders: int | None = None) -> np.ndarray:
        """The estimate of orders 1 .. ``orders`` (default all) at every scored position."""
        n, V = self.order, self.vocab_size
        if len(x) < n:
            raise ValueError(
                f"expected at least {n} ids for a {n}-gram model, got {len(x)}"
            )
        p = np.full(len(x) - n + 1, 1.0 / V)  # order 0: uniform
        for k in range(1, (n if orders is None else orders) + 1):
            grams = _codes(x, k, V)[
                n - k :
            ]  # the k-gram ending at each scored position
            p = self._interpolate(k, grams, p)
        return p

    def next_distribution(self, context: torch.Tensor) -> torch.Tensor:
        """p(v | context) for every v: (V,). ``context``: the ids before, any length."""
        x = _as_array(context, self.vocab_size)
        x = x[len(x) - (self.order - 1) :] if self.order > 1 else x[:0]
        V = self.vocab_size
        candidates = np.arange(V, dtype=np.int64)
        p = np.full(V, 1.0 / V)
        for k in range(1, self.order + 1):
            history = x[len(x) - (k - 1) :] if k > 1 else x[:0]
            if len(history) < k - 1:
                break  # not enough context for this order
            code = sum(int(c) * V ** (k - 2 - j) for j, c in enumerate(history))
            p = self._interpolate(k, code * V + candidates, p)
        return torch.from_numpy(p)

    def _interpolate(
        self, k: int, grams: np.ndarray, lower: np.ndarray, D: float | None = None
    ) -> np.ndarray:
        """Order k's estimate for these k-gram codes, on top of order k - 1's.

        ``D`` overrides order k's discount disc (:func:`fit` tries candidates).
        """
        table, V = self.tables[k - 1], self.vocab_size
        D = self.discounts[k - 1] if D is None else D
        count = _lookup(grams, table.grams, table.counts)
        contexts = grams // V
        total = _lookup(contexts, table.contexts, table.totals)
        types = _lookup(contexts, table.contexts, table.types.astype(np.float64))
        seen = total > 0
        safe = np.where(seen, total, 1.0)
        mixed = np.maximum(count - D, 0.0) / safe + D * types / safe * lower
        return np.where(seen, mixed, lower)

    def cross_entropy(self, ids: torch.Tensor) -> float:
        """Mean -log p per scored character, in nats (the first n - 1 are not scored)."""
        return float(-self.probabilities(ids).log().mean())

    def sample(self, prime: torch.Tensor, length: int, seed: int) -> torch.Tensor:
        """``length`` ids drawn one at a time after ``prime``, from a private generator."""
        check_int("length", length, minimum=0)
        generator = torch.Generator().manual_seed(seed)
        ids = list(_as_array(prime, self.vocab_size))
        for _ in range(length):
            p = self.next_distribution(torch.tensor(ids, dtype=torch.long))
            ids.append(int(torch.multinomial(p, 1, generator=generator)))
        return torch.tensor(ids[len(ids) - length :], dtype=torch.long)


def _as_array(ids: torch.Tensor, V: int) -> np.ndarray:
    check_tensor("ids", ids)
    if ids.dim() != 1:
        raise ValueError(
            f"expected ids of shape (number of characters,), got {tuple(ids.shape)}"
        )
    x = ids.cpu().numpy().astype(np.int64)
    if len(x) and (x.min() < 0 or x.max() >= V):
        raise ValueError(
            f"expected ids in [0, {V}), got one of {int(x.min())} .. {int(x.max())}"
        )
    return x


def _tables(x: np.ndarray, order: int, V: int) -> list[_Table]:
    """Raw counts for the highest order, continuation counts below it."""
    grams, counts = np.unique(_codes(x, order, V), return_counts=True)
    tables = [_Table.from_counts(grams, counts, V)]
    for k in range(order - 1, 0, -1):
        # count(ctx' v) for order k = how many distinct characters precede ctx' v.
        suffixes = tables[0].grams % V**k
        grams, counts = np.unique(suffixes, return_counts=True)
        tables.insert(0, _Table.from_counts(grams, counts, V))
    return tables


def fit(
    train_ids: torch.Tensor,
    order: int,
    vocab_size: int,
    held_out: float = 0.1,
) -> NGramModel:
    """An interpolated Kneser-Ney model of ``order``, its discounts chosen on held-out text.

    The last ``held_out`` of ``train_ids`` is set aside; each order's discount
    (orders 1, 2, ... in turn, from :data:`DISCOUNTS`) is the one that gives
    the lowest cross-entropy on it when the model is counted on the rest.
    The returned model is then counted on all of ``train_ids``.

    The search is greedy, and made for other models than the one returned:
    order k's discount is chosen while k is the highest order, whose counts
    are occurrences, and is then kept when order k sits below a higher order
    and counts continuations. The discounts are not chosen again for the
    returned model's own structure, so they are not the best ones for it.

    Inputs:
        train_ids: (number of characters,), ids in [0, vocab_size).
    """
    check_int("order", order)
    check_int("vocab_size", vocab_size)
    check_number("held_out", held_out, minimum=0.01, maximum=0.5)
    x = _as_array(train_ids, vocab_size)
    cut = int(len(x) * (1 - held_out))
    discounts: list[float] = []
    for k in range(1, order + 1):
        # Order k's candidates share the estimate of the orders below it.
        tables = _tables(x[:cut], k, vocab_size)
        model = NGramModel(k, vocab_size, (*discounts, 0.0), tables)
        lower = model._probabilities(x[cut:], orders=k - 1)
        grams = _codes(x[cut:], k, vocab_size)
        scores = {
            D: -np.log(model._interpolate(k, grams, lower, D)).mean() for D in DISCOUNTS
        }
        discounts.append(min(scores, key=scores.get))
    return NGramModel(
        order, vocab_size, tuple(discounts), _tables(x, order, vocab_size)
    )
