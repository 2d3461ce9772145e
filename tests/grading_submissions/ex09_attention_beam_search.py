"""Crafted answers to exercises 9.1 (additive_attention), 9.2 (beam_step), 9.3 (masked_cross_entropy)."""

import math

import torch
import torch.nn.functional as F

from grading_submissions import correct, wrong

# -- right answers -----------------------------------------------------------------


@correct("additive_attention")
def attention_by_loops(query, memory, mask, w_dec, w_enc, w_score):
    L, N, H = memory.shape
    weights = torch.zeros(L, N, dtype=memory.dtype)
    context = torch.zeros(N, H, dtype=memory.dtype)
    for n in range(N):
        real = [s for s in range(L) if mask[s, n]]
        scores = torch.stack(
            [
                torch.tanh(w_dec @ query[n] + w_enc @ memory[s, n]) @ w_score
                for s in real
            ]
        )
        alpha = torch.exp(scores - scores.max())
        alpha = alpha / alpha.sum()
        for a, s in zip(alpha, real):
            weights[s, n] = a
            context[n] = context[n] + a * memory[s, n]
    return context, weights


@correct("additive_attention")
def attention_renormalised(query, memory, mask, w_dec, w_enc, w_score):
    scores = torch.tanh(F.linear(memory, w_enc) + F.linear(query, w_dec)) @ w_score
    scores = scores - scores.max(0, keepdim=True).values
    unnormalised = scores.exp() * mask  # padding contributes nothing
    weights = unnormalised / unnormalised.sum(0, keepdim=True)
    return torch.einsum("sn,snh->nh", weights, memory), weights


@correct("beam_step")
def beam_by_sorting(scores, log_probs, finished, eos):
    N, S, V = log_probs.shape
    candidates = scores[:, :, None] + log_probs
    for n in range(N):
        for b in range(S):
            if finished[n, b]:
                candidates[n, b] = -math.inf
                candidates[n, b, eos] = scores[n, b]
    flat = candidates.reshape(N, S * V)
    order = flat.argsort(dim=1, descending=True)[:, :S]
    return flat.gather(1, order), order // V, order % V


@correct("beam_step")
def beam_with_where(scores, log_probs, finished, eos):
    V = log_probs.shape[-1]
    is_eos = torch.arange(V) == eos  # (V,)
    ended = torch.where(is_eos, 0.0, -math.inf).to(log_probs.dtype)
    step = torch.where(finished[..., None], ended, log_probs)
    new, index = (scores[..., None] + step).flatten(1).topk(scores.shape[1])
    return new, index.div(V, rounding_mode="trunc"), index.remainder(V)


@correct("masked_cross_entropy")
def loss_by_hand(logits, targets, pad):
    log_p = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    nll = -log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (L_tgt, N)
    real = targets != pad
    return nll[real].mean()


@correct("masked_cross_entropy")
def loss_nll(logits, targets, pad):
    log_p = F.log_softmax(logits.reshape(-1, logits.shape[-1]), dim=1)
    return F.nll_loss(log_p, targets.reshape(-1), ignore_index=pad).item()


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("additive_attention", "correct when L_src=1, wrong when L_src=2")
def attention_scaled_scores(query, memory, mask, w_dec, w_enc, w_score):
    # the scaled dot product's 1 / sqrt(d), carried over where it does not belong
    scores = torch.tanh(memory @ w_enc.T + query @ w_dec.T) @ w_score
    scores = scores / math.sqrt(w_score.shape[0])
    weights = scores.masked_fill(~mask, -math.inf).softmax(0)
    return (weights.unsqueeze(-1) * memory).sum(0), weights


@wrong("beam_step", "correct when ended=0.0, wrong when ended=1.0")
def beam_drops_ended(scores, log_probs, finished, eos):
    N, S, V = log_probs.shape
    candidates = scores[..., None] + log_probs
    candidates = candidates.masked_fill(finished[..., None], -math.inf)  # gone
    new, index = candidates.reshape(N, -1).topk(S)
    return new, index // V, index % V


@wrong("beam_step", "correct when N=1, wrong when N=2")
def beam_flat_rows(scores, log_probs, finished, eos):
    # the rows of the flattened (N * S, V) state, not the slot within a sequence
    N, S, V = log_probs.shape
    ended = torch.full_like(log_probs, -math.inf)
    ended[..., eos] = 0.0
    candidates = scores[..., None] + torch.where(finished[..., None], ended, log_probs)
    new, index = candidates.reshape(N, -1).topk(S)
    return new, index // V + S * torch.arange(N)[:, None], index % V


@wrong("masked_cross_entropy", "correct when L_tgt=1, wrong when L_tgt=2")
def loss_per_row(logits, targets, pad):
    nll = F.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=pad, reduction="sum"
    )
    return nll / targets.shape[1]  # divided by the batch size
