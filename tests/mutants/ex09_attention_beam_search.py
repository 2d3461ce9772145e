"""Wrong solutions to exercises 9.1 (additive_attention), 9.2 (beam_step), 9.3 (masked_cross_entropy)."""

import math

import torch
import torch.nn.functional as F

from mutants import mutant

# -- 9.1 additive_attention ------------------------------------------------------


def _scores(query, memory, w_dec, w_enc, w_score):
    return torch.einsum(
        "lna,a->ln", torch.tanh(memory @ w_enc.T + (query @ w_dec.T)[None]), w_score
    )


@mutant("additive_attention", "mask forgotten")
def attention_no_mask(query, memory, mask, w_dec, w_enc, w_score):
    weights = _scores(query, memory, w_dec, w_enc, w_score).softmax(0)
    return torch.einsum("ln,lnh->nh", weights, memory), weights


@mutant("additive_attention", "padding scored 0 instead of -inf")
def attention_zero_fill(query, memory, mask, w_dec, w_enc, w_score):
    scores = _scores(query, memory, w_dec, w_enc, w_score) * mask  # 0 on padding
    weights = torch.exp(scores) / torch.exp(scores).sum(0, keepdim=True)
    return (weights[..., None] * memory).sum(0), weights


@mutant("additive_attention", "mask applied after the softmax")
def attention_mask_after(query, memory, mask, w_dec, w_enc, w_score):
    weights = torch.softmax(_scores(query, memory, w_dec, w_enc, w_score), 0)
    weights = weights.masked_fill(~mask, 0.0)
    return torch.einsum("ln,lnh->nh", weights, memory), weights


@mutant("additive_attention", "softmax over the batch axis")
def attention_batch_softmax(query, memory, mask, w_dec, w_enc, w_score):
    scores = _scores(query, memory, w_dec, w_enc, w_score)
    scores = torch.where(mask, scores, torch.tensor(-math.inf, dtype=scores.dtype))
    weights = F.softmax(scores, dim=1)
    return torch.einsum("ln,lnh->nh", weights, memory), weights


@mutant("additive_attention", "no tanh in the score")
def attention_no_tanh(query, memory, mask, w_dec, w_enc, w_score):
    L, N = mask.shape
    scores = torch.empty(L, N, dtype=memory.dtype)
    for s in range(L):
        scores[s] = (query @ w_dec.T + memory[s] @ w_enc.T) @ w_score
    weights = scores.masked_fill(~mask, -math.inf).softmax(0)
    return (weights.unsqueeze(-1) * memory).sum(0), weights


@mutant("additive_attention", "context from the projected memory")
def attention_keys_as_values(query, memory, mask, w_dec, w_enc, w_score):
    keys = memory @ w_enc.T
    scores = torch.tanh(keys + query @ w_dec.T) @ w_score
    weights = scores.masked_fill(~mask, -math.inf).softmax(0)
    return torch.einsum("ln,lna->na", weights, keys), weights


# -- 9.2 beam_step ---------------------------------------------------------------


def _top(candidates, S):
    N, _, V = candidates.shape
    new, index = candidates.reshape(N, -1).topk(S, dim=1)
    return new, torch.div(index, V, rounding_mode="floor"), index % V


def _keep_ended(candidates, scores, finished, eos):
    ended = torch.full_like(candidates, -math.inf)
    ended[:, :, eos] = scores
    return torch.where(finished[..., None], ended, candidates)


@mutant("beam_step", "scores not accumulated")
def beam_last_token_only(scores, log_probs, finished, eos):
    candidates = _keep_ended(log_probs.clone(), scores, finished, eos)
    return _top(candidates, scores.shape[1])


@mutant("beam_step", "log-probabilities multiplied, not added")
def beam_multiplied(scores, log_probs, finished, eos):
    candidates = scores[:, :, None] * log_probs
    return _top(_keep_ended(candidates, scores, finished, eos), scores.shape[1])


@mutant("beam_step", "each hypothesis extended on its own")
def beam_per_hypothesis(scores, log_probs, finished, eos):
    candidates = _keep_ended(scores[..., None] + log_probs, scores, finished, eos)
    best, tokens = candidates.max(-1)
    order = best.argsort(dim=1, descending=True)
    return best.gather(1, order), order, tokens.gather(1, order)


@mutant("beam_step", "ended hypotheses extended")
def beam_extends_ended(scores, log_probs, finished, eos):
    return _top(scores.unsqueeze(2) + log_probs, scores.shape[1])


@mutant("beam_step", "an ended hypothesis copied into several slots")
def beam_copies_ended(scores, log_probs, finished, eos):
    log_probs = log_probs.masked_fill(finished[..., None], 0.0)  # ended: free tokens
    return _top(scores[..., None] + log_probs, scores.shape[1])


@mutant("beam_step", "an ended hypothesis charged for eos again")
def beam_charges_ended(scores, log_probs, finished, eos):
    candidates = scores[..., None] + log_probs
    only_eos = torch.full_like(candidates, -math.inf)
    only_eos[..., eos] = candidates[..., eos]
    candidates = torch.where(finished[..., None], only_eos, candidates)
    return _top(candidates, scores.shape[1])


@mutant("beam_step", "flat index split the wrong way")
def beam_swapped_split(scores, log_probs, finished, eos):
    N, S, V = log_probs.shape
    candidates = _keep_ended(scores[..., None] + log_probs, scores, finished, eos)
    new, index = candidates.view(N, S * V).topk(S)
    return new, index % S, index // S


# -- 9.3 masked_cross_entropy ----------------------------------------------------


@mutant("masked_cross_entropy", "padding counted")
def loss_counts_padding(logits, targets, pad):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@mutant("masked_cross_entropy", "padding in the count")
def loss_divides_by_positions(logits, targets, pad):
    nll = F.cross_entropy(
        logits.permute(1, 2, 0), targets.T, reduction="none"
    )  # (N, L)
    return (nll * (targets.T != pad)).sum() / nll.numel()


@mutant("masked_cross_entropy", "mean of the sequences' means")
def loss_per_sequence(logits, targets, pad):
    losses = []
    for n in range(targets.shape[1]):
        keep = targets[:, n] != pad
        losses.append(F.cross_entropy(logits[keep, n], targets[keep, n]))
    return torch.stack(losses).mean()


@mutant("masked_cross_entropy", "sum instead of mean")
def loss_sum(logits, targets, pad):
    return F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=pad, reduction="sum"
    )


@mutant("masked_cross_entropy", "padding id taken as 0")
def loss_pad_zero(logits, targets, pad):
    log_p = torch.log_softmax(logits, dim=-1)
    picked = log_p.gather(2, targets[..., None])[..., 0]
    real = targets != 0
    return -(picked * real).sum() / real.sum()
