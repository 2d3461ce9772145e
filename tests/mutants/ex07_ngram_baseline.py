"""Wrong solutions to exercises 7.5 (ngram_log_probs), 7.6 (ngram_cross_entropy)
and 7.7 (choose_alpha)."""

import math
from collections import Counter

import torch

from mutants import mutant

# -- 7.5 ngram_log_probs -------------------------------------------------------------


def count_table(ids, order, vocab_size, first=0, stop=None):
    """Counts by a loop over the positions, into a (V,) * order table."""
    counts = torch.zeros((vocab_size,) * order, dtype=torch.float64)
    stop = len(ids) if stop is None else stop
    for t in range(max(first, order - 1), stop):
        counts[tuple(ids[t - order + 1 : t + 1].tolist())] += 1
    return counts


@mutant("ngram_log_probs", "alpha left out of the denominator")
def log_probs_plain_total(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size)
    return torch.log((counts + alpha) / (counts.sum(dim=-1, keepdim=True) + alpha))


@mutant("ngram_log_probs", "no smoothing")
def log_probs_unsmoothed(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size)
    return counts.log() - counts.sum(-1, keepdim=True).log()


@mutant("ngram_log_probs", "normalised over the context")
def log_probs_columns(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size) + alpha
    return (counts / counts.sum(0, keepdim=True)).log()


@mutant("ngram_log_probs", "last n-gram not counted")
def log_probs_short_loop(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size, stop=len(ids) - 1)
    totals = counts.sum(-1, keepdim=True)
    return torch.log(counts + alpha) - torch.log(totals + alpha * vocab_size)


@mutant("ngram_log_probs", "text read backwards")
def log_probs_reversed(ids, order, vocab_size, alpha):
    grams = Counter(
        tuple(reversed(ids[t - order + 1 : t + 1].tolist()))
        for t in range(order - 1, len(ids))
    )
    counts = torch.zeros((vocab_size,) * order, dtype=torch.float64)
    for gram, count in grams.items():
        counts[gram] = count
    p = (counts + alpha) / (counts.sum(-1, keepdim=True) + alpha * vocab_size)
    return p.log()


@mutant("ngram_log_probs", "log base 2")
def log_probs_bits(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size)
    p = (counts + alpha) / (counts.sum(-1, keepdim=True) + vocab_size * alpha)
    return torch.log(p) / math.log(2)


@mutant("ngram_log_probs", "probabilities, not their logarithms")
def log_probs_not_logged(ids, order, vocab_size, alpha):
    counts = count_table(ids, order, vocab_size)
    return (counts + alpha) / (counts.sum(-1, keepdim=True) + vocab_size * alpha)


# -- 7.6 ngram_cross_entropy ---------------------------------------------------------


def scored(log_probs, ids, first, stop):
    order = log_probs.dim()
    return [
        log_probs[tuple(ids[t - order + 1 : t + 1].tolist())]
        if t >= order - 1
        else log_probs[tuple(ids[t - order + 1 :].tolist() + ids[: t + 1].tolist())]
        for t in range(first, stop)
    ]


@mutant("ngram_cross_entropy", "sum instead of mean")
def cross_entropy_sum(log_probs, ids):
    return -sum(scored(log_probs, ids, log_probs.dim() - 1, len(ids)))


@mutant("ngram_cross_entropy", "perplexity instead of cross-entropy")
def cross_entropy_perplexity(log_probs, ids):
    terms = scored(log_probs, ids, log_probs.dim() - 1, len(ids))
    return math.exp(-sum(terms).item() / len(terms))


@mutant("ngram_cross_entropy", "sign flipped")
def cross_entropy_negative(log_probs, ids):
    return torch.stack(scored(log_probs, ids, log_probs.dim() - 1, len(ids))).mean()


@mutant(
    "ngram_cross_entropy", "first characters scored with the end of the text as context"
)
def cross_entropy_every_position(log_probs, ids):
    return -torch.stack(scored(log_probs, ids, 0, len(ids))).mean()


@mutant("ngram_cross_entropy", "last character not scored")
def cross_entropy_one_short(log_probs, ids):
    terms = scored(log_probs, ids, log_probs.dim() - 1, len(ids) - 1)
    return -torch.stack(terms).mean()


# -- 7.7 choose_alpha ----------------------------------------------------------------


def ngram_log_probs(ids, order, vocab_size, alpha):
    """A right 7.5, which the mutants of 7.7 call (as a notebook would)."""
    counts = count_table(ids, order, vocab_size)
    p = (counts + alpha) / (counts.sum(-1, keepdim=True) + vocab_size * alpha)
    return p.log()


def ngram_cross_entropy(log_probs, ids):
    """A right 7.6."""
    return -torch.stack(scored(log_probs, ids, log_probs.dim() - 1, len(ids))).mean()


def losses(train_ids, scored_ids, order, vocab_size, alphas):
    return [
        ngram_cross_entropy(
            ngram_log_probs(train_ids, order, vocab_size, a), scored_ids
        )
        for a in alphas
    ]


@mutant("choose_alpha", "largest loss chosen")
def choose_worst(train_ids, held_out_ids, order, vocab_size, alphas):
    found = losses(train_ids, held_out_ids, order, vocab_size, alphas)
    return float(alphas[int(torch.stack(found).argmax())])


@mutant("choose_alpha", "chosen on the training text")
def choose_on_training(train_ids, held_out_ids, order, vocab_size, alphas):
    found = losses(train_ids, train_ids, order, vocab_size, alphas)
    return float(alphas[min(range(len(alphas)), key=lambda i: found[i])])


@mutant("choose_alpha", "alpha returned as a tensor")
def choose_as_tensor(train_ids, held_out_ids, order, vocab_size, alphas):
    found = torch.stack(losses(train_ids, held_out_ids, order, vocab_size, alphas))
    return torch.tensor(alphas, dtype=torch.float64)[found.argmin()]


@mutant("choose_alpha", "the loss returned, not alpha")
def choose_returns_loss(train_ids, held_out_ids, order, vocab_size, alphas):
    return min(
        x.item() for x in losses(train_ids, held_out_ids, order, vocab_size, alphas)
    )


@mutant("choose_alpha", "the index returned, not alpha")
def choose_returns_index(train_ids, held_out_ids, order, vocab_size, alphas):
    found = losses(train_ids, held_out_ids, order, vocab_size, alphas)
    return int(torch.stack(found).argmin())
