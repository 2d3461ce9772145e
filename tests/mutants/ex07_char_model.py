"""Wrong solutions to exercises 7.1 (sequence_loss), 7.2 (next_char_probabilities)
and 7.3 (train_step)."""

import math

import torch
import torch.nn.functional as F

from mutants import mutant


@mutant("sequence_loss", "logits not flattened")
def loss_unflattened(logits, targets):
    return F.cross_entropy(logits, targets)


@mutant("sequence_loss", "sum instead of mean")
def loss_sum(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.view(-1, V), targets.view(-1), reduction="sum")


@mutant("sequence_loss", "log base 2")
def loss_bits(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), targets.flatten()) / math.log(2)


@mutant("sequence_loss", "log of softmax")
def loss_naive(logits, targets):
    p = torch.exp(logits - logits.max(-1, keepdim=True).values)
    p = p / p.sum(-1, keepdim=True)
    picked = torch.gather(p, 2, targets[..., None])[..., 0]
    return -torch.log(picked).mean()


@mutant("sequence_loss", "softmax over the batch axis")
def loss_wrong_axis(logits, targets):
    log_p = torch.log_softmax(logits, dim=1)
    return -log_p.gather(2, targets.unsqueeze(2)).mean()


@mutant("sequence_loss", "targets shifted twice")
def loss_shifted(logits, targets):
    V = logits.shape[-1]
    return F.cross_entropy(logits[:-1].reshape(-1, V), targets[1:].reshape(-1))


@mutant("next_char_probabilities", "temperature multiplied")
def probs_times_t(logits, temperature):
    return F.softmax(temperature * logits, dim=1)


@mutant("next_char_probabilities", "temperature ignored")
def probs_no_t(logits, temperature):
    e = logits.exp()
    return e / e.sum(dim=-1, keepdim=True)


@mutant("next_char_probabilities", "softmax over the batch axis")
def probs_batch_axis(logits, temperature):
    return F.softmax(logits / temperature, dim=0)


@mutant("next_char_probabilities", "probabilities not renormalised")
def probs_power(logits, temperature):
    return F.softmax(logits, dim=-1).pow(1.0 / temperature)


@mutant("next_char_probabilities", "exp without normalising")
def probs_exp(logits, temperature):
    return (logits / temperature).exp()


def _loss(model, input, target, h):
    logits, h_n = model(input, h)
    return F.cross_entropy(logits.flatten(0, 1), target.flatten()), h_n


@mutant("train_step", "state not detached")
def step_keeps_graph(model, optimizer, input, target, h, max_norm):
    loss, h_n = _loss(model, input, target, h)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), h_n


@mutant("train_step", "gradients not zeroed")
def step_accumulates(model, optimizer, input, target, h, max_norm):
    loss, h_n = _loss(model, input, target, h)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), h_n.detach()


@mutant("train_step", "gradients not clipped before the step")
def step_clips_late(model, optimizer, input, target, h, max_norm):
    loss, h_n = _loss(model, input, target, h)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return loss.item(), h_n.detach()


@mutant("train_step", "gradients not clipped before the step")
def step_never_clips(model, optimizer, input, target, h, max_norm):
    loss, h_n = _loss(model, input, target, h)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), h_n.detach()


@mutant("train_step", "state reset every chunk")
def step_resets(model, optimizer, input, target, h, max_norm):
    loss, h_n = _loss(model, input, target, None)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), h_n.detach()


@mutant("train_step", "loss summed instead of averaged")
def step_sums(model, optimizer, input, target, h, max_norm):
    logits, h_n = model(input, h)
    loss = F.cross_entropy(logits.flatten(0, 1), target.flatten(), reduction="sum")
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    optimizer.step()
    return loss.item(), h_n.detach()


@mutant("train_step", "optimizer step before backward")
def step_too_early(model, optimizer, input, target, h, max_norm):
    optimizer.zero_grad()
    optimizer.step()
    loss, h_n = _loss(model, input, target, h)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    return loss.item(), h_n.detach()
