"""Crafted answers to exercises 7.1 (sequence_loss), 7.2 (next_char_probabilities)
and 7.3 (train_step)."""

import torch
import torch.nn.functional as F

from grading_submissions import correct, wrong


def sequence_loss(logits, targets):
    """The notebook's own sequence_loss (right), which train_step calls."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


# -- right answers -----------------------------------------------------------------


@correct("sequence_loss")
def loss_by_logsumexp(logits, targets):
    picked = logits.gather(-1, targets[..., None])[..., 0]  # (L, N)
    return (logits.logsumexp(-1) - picked).mean()


@correct("sequence_loss")
def loss_nll(logits, targets):
    log_p = F.log_softmax(logits, dim=2).flatten(0, 1)
    return F.nll_loss(log_p, targets.flatten())


@correct("next_char_probabilities")
def probs_by_hand(logits, temperature):
    scaled = logits / temperature
    scaled = scaled - scaled.max(dim=1, keepdim=True).values
    return scaled.exp() / scaled.exp().sum(dim=1, keepdim=True)


@correct("train_step")
def step_exact_clipping(model, optimizer, input, target, h, max_norm):
    # the clipping of exercise 6.2, exact: max_norm / total_norm
    logits, h_n = model(input, h)
    loss = sequence_loss(logits, target)
    optimizer.zero_grad()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / total)
    optimizer.step()
    return loss.item(), h_n.detach()


@correct("train_step")
def step_set_to_zero(model, optimizer, input, target, h, max_norm):
    optimizer.zero_grad(set_to_none=False)
    logits, h_n = model(input, None if h is None else h.detach())
    loss = F.cross_entropy(logits.flatten(0, 1), target.flatten())
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=max_norm)
    optimizer.step()
    return float(loss.detach()), h_n.detach().clone()


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("sequence_loss", "should be a tensor, but is a float", "not loss.item()")
def loss_item(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)).item()


@wrong("sequence_loss", "correct when L=1, wrong when L=2")
def loss_summed_over_time(logits, targets):
    log_p = logits.log_softmax(-1)
    picked = -log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (L, N)
    return picked.mean(dim=1).sum()


@wrong(
    "next_char_probabilities",
    "correct when temperature=1.0, wrong when temperature=0.5",
)
def probs_temperature_squared(logits, temperature):
    return torch.softmax(logits / temperature**2, dim=-1)


@wrong("train_step", "should hold Python floats, but chunk 0's is a tensor")
def step_returns_the_loss_tensor(model, optimizer, input, target, h, max_norm):
    logits, h_n = model(input, h)
    loss = sequence_loss(logits, target)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss, h_n.detach()


@wrong("train_step", 'known mistake, "state not detached"')
def step_keeps_the_graph(model, optimizer, input, target, h, max_norm):
    logits, h_n = model(input, h)
    loss = sequence_loss(logits, target)
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), h_n


@wrong("train_step", "Your answers are the same for max_norm=100.0 and max_norm=0.1")
def step_clips_at_one(model, optimizer, input, target, h, max_norm):
    logits, h_n = model(input, h)
    loss = sequence_loss(logits, target)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the usual value
    optimizer.step()
    return loss.item(), h_n.detach()
