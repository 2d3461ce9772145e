"""Crafted answers to exercises 7.5 (ngram_log_probs), 7.6 (ngram_cross_entropy)
and 7.7 (choose_alpha)."""

import torch

from grading_submissions import correct, wrong

# The notebook's own 7.5 and 7.6 (right), which choose_alpha calls.
from mutants.ex07_ngram_baseline import ngram_cross_entropy, ngram_log_probs

# -- right answers -----------------------------------------------------------------


@correct("ngram_log_probs")
def log_probs_by_counter(ids, order, vocab_size, alpha):
    seen = {}  # n-gram -> count, as a student without Counter might
    for t in range(order - 1, len(ids)):
        gram = tuple(ids[t - order + 1 : t + 1].tolist())
        seen[gram] = seen.get(gram, 0) + 1
    table = torch.full((vocab_size,) * order, float(alpha), dtype=torch.float64)
    for gram, count in seen.items():
        table[gram] += count
    return table.log() - table.sum(dim=-1, keepdim=True).log()


@correct("ngram_log_probs")
def log_probs_by_index_put(ids, order, vocab_size, alpha):
    T = len(ids)
    index = tuple(ids[j : T - order + 1 + j] for j in range(order))
    counts = torch.zeros((vocab_size,) * order, dtype=torch.float64)
    counts.index_put_(index, torch.ones(T - order + 1, dtype=torch.float64), True)
    smoothed = counts + alpha
    return torch.log(smoothed / smoothed.sum(-1, keepdim=True))


@correct("ngram_cross_entropy")
def cross_entropy_by_loop(log_probs, ids):
    n = log_probs.dim()
    total, count = 0.0, 0
    for t in range(n - 1, len(ids)):
        total -= log_probs[tuple(ids[t - n + 1 : t + 1].tolist())].item()
        count += 1
    return total / count


@correct("ngram_cross_entropy")
def cross_entropy_by_codes(log_probs, ids):
    n, V = log_probs.dim(), log_probs.shape[0]
    windows = ids.unfold(0, n, 1)  # (T - n + 1, n)
    codes = (windows * V ** torch.arange(n - 1, -1, -1)).sum(1)
    return -log_probs.reshape(-1)[codes].mean()


@correct("choose_alpha")
def choose_by_argmin(train_ids, held_out_ids, order, vocab_size, alphas):
    losses = torch.stack(
        [
            torch.as_tensor(
                ngram_cross_entropy(
                    ngram_log_probs(train_ids, order, vocab_size, a), held_out_ids
                )
            )
            for a in alphas
        ]
    )
    return float(alphas[int(losses.argmin())])


@correct("choose_alpha")
def choose_by_sorting(train_ids, held_out_ids, order, vocab_size, alphas):
    scored = sorted(
        (
            float(
                ngram_cross_entropy(
                    ngram_log_probs(train_ids, order, vocab_size, a), held_out_ids
                )
            ),
            a,
        )
        for a in alphas
    )
    return float(scored[0][1])


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("ngram_log_probs", "correct when order=1, wrong when order=2")
def log_probs_joint(ids, order, vocab_size, alpha):
    # the n-grams' joint frequencies, not the next character's given the context
    T = len(ids)
    index = tuple(ids[j : T - order + 1 + j] for j in range(order))
    counts = torch.zeros((vocab_size,) * order, dtype=torch.float64)
    counts.index_put_(index, torch.ones(T - order + 1, dtype=torch.float64), True)
    return torch.log((counts + alpha) / (counts.sum() + alpha * counts.numel()))


@wrong("ngram_cross_entropy", "correct when order=1, wrong when order=2")
def cross_entropy_over_length(log_probs, ids):
    # every character counted in the mean, the unscored first n - 1 too
    n = log_probs.dim()
    total = sum(
        -log_probs[tuple(ids[t - n + 1 : t + 1].tolist())]
        for t in range(n - 1, len(ids))
    )
    return total / len(ids)


@wrong("choose_alpha", "alpha is wrong")
def choose_roles_swapped(train_ids, held_out_ids, order, vocab_size, alphas):
    # counted on the held-out text, scored on the training text
    losses = [
        ngram_cross_entropy(
            ngram_log_probs(held_out_ids, order, vocab_size, a), train_ids
        )
        for a in alphas
    ]
    return float(alphas[min(range(len(alphas)), key=losses.__getitem__)])
