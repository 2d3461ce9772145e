"""Tests for rnn_lib/seq2seq.py: attention, the encoder-decoder, the loss, decoding.

Everything that a padded or packed batch computes is compared, in float64,
with the same computation one example at a time and unpadded; attention with
a computation by hand; beam search with an enumeration of every sequence on a
model small enough to enumerate.
"""

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from rnn_lib import seq2seq as s2s

PAD, BOS, EOS = 0, 1, 2


def _batch(lengths, vocab_size, generator, start=1):
    """A padded (L, N) batch of random ids in [start, vocab_size) with these lengths."""
    L = max(lengths)
    ids = torch.randint(start, vocab_size, (L, len(lengths)), generator=generator)
    return ids.masked_fill(~s2s.source_mask(torch.tensor(lengths), L), PAD)


def _model(attention, seed=0):
    torch.manual_seed(seed)
    return s2s.Seq2Seq(11, 7, embedding_dim=5, hidden_size=4, attention=attention).to(
        torch.float64
    )


# ---------------------------------------------------------------------------
# Masks and attention


def test_source_mask():
    mask = s2s.source_mask(torch.tensor([3, 1, 2]), 4)
    assert mask.shape == (4, 3) and mask.dtype == torch.bool
    assert mask.T.tolist() == [
        [True, True, True, False],
        [True, False, False, False],
        [True, True, False, False],
    ]


@pytest.mark.parametrize(
    "lengths, length, message",
    [
        ([0, 2], 3, r"expected lengths between 1 and 3, got \[0, 2\]"),
        ([4, 2], 3, r"expected lengths between 1 and 3, got \[4, 2\]"),
        ([[1]], 3, r"expected lengths of shape \(N,\), got \(1, 1\)"),
    ],
)
def test_source_mask_refuses_impossible_lengths(lengths, length, message):
    with pytest.raises(ValueError, match=message):
        s2s.source_mask(torch.tensor(lengths), length)


def _attention_inputs(seed=0, lengths=(4, 2, 1), H_dec=3, H_enc=5, H_att=6):
    g = torch.Generator().manual_seed(seed)
    L, N = max(lengths), len(lengths)
    query = torch.randn(N, H_dec, generator=g, dtype=torch.float64)
    memory = torch.randn(L, N, H_enc, generator=g, dtype=torch.float64)
    mask = s2s.source_mask(torch.tensor(lengths), L)
    w_dec = torch.randn(H_att, H_dec, generator=g, dtype=torch.float64)
    w_enc = torch.randn(H_att, H_enc, generator=g, dtype=torch.float64)
    w_score = torch.randn(H_att, generator=g, dtype=torch.float64)
    return query, memory, mask, w_dec, w_enc, w_score


def test_additive_attention_by_hand():
    query, memory, mask, w_dec, w_enc, w_score = _attention_inputs()
    context, weights = s2s.additive_attention(
        query, memory, mask, w_dec, w_enc, w_score
    )
    L, N, H_m = memory.shape
    assert context.shape == (N, H_m) and weights.shape == (L, N)
    for n in range(N):
        length = int(mask[:, n].sum())
        scores = [
            sum(
                w_score[a] * math.tanh(w_dec[a] @ query[n] + w_enc[a] @ memory[j, n])
                for a in range(len(w_score))
            )
            for j in range(length)
        ]
        top = max(scores)
        alpha = [math.exp(s - top) for s in scores]
        alpha = [a / sum(alpha) for a in alpha]
        expected = sum(a * memory[j, n] for j, a in enumerate(alpha))
        torch.testing.assert_close(weights[:length, n].tolist(), alpha)
        assert torch.all(weights[length:, n] == 0)
        torch.testing.assert_close(context[n], expected)


def test_attention_ignores_what_the_padding_holds():
    query, memory, mask, w_dec, w_enc, w_score = _attention_inputs(seed=1)
    context, weights = s2s.additive_attention(
        query, memory, mask, w_dec, w_enc, w_score
    )
    noisy = memory.masked_fill(~mask.unsqueeze(-1), 1e3)
    context2, weights2 = s2s.additive_attention(
        query, noisy, mask, w_dec, w_enc, w_score
    )
    torch.testing.assert_close(context, context2)
    torch.testing.assert_close(weights, weights2)
    torch.testing.assert_close(weights.sum(0), torch.ones(3, dtype=torch.float64))


def test_attention_with_precomputed_keys_and_as_a_module():
    query, memory, mask, w_dec, w_enc, w_score = _attention_inputs(seed=2)
    expected = s2s.additive_attention(query, memory, mask, w_dec, w_enc, w_score)
    module = s2s.AdditiveAttention(3, 5, 6).to(torch.float64)
    with torch.no_grad():
        module.w_dec.copy_(w_dec)
        module.w_enc.copy_(w_enc)
        module.w_score.copy_(w_score)
    for got in (
        module(query, memory, mask),
        module(query, memory, mask, module.keys(memory)),
    ):
        torch.testing.assert_close(got, expected)


# ---------------------------------------------------------------------------
# Encoder, decoder, loss: padded and packed against one example at a time


def test_packed_encoder_equals_one_example_at_a_time():
    model = _model(attention=True)
    lengths = [3, 5, 1, 4]
    source = _batch(lengths, 11, torch.Generator().manual_seed(0))
    memory, message = model.encoder(source, torch.tensor(lengths))
    assert memory.shape == (5, 4, 8) and message.shape == (4, 8)
    for n, length in enumerate(lengths):
        alone = source[:length, n : n + 1]  # (length, 1), no padding
        memory_n, message_n = model.encoder(alone, torch.tensor([length]))
        torch.testing.assert_close(memory[:length, n], memory_n[:, 0])
        torch.testing.assert_close(message[n], message_n[0])
        assert torch.all(memory[length:, n] == 0)
    # The message is each direction's state after the whole source.
    n, H = 0, 4
    torch.testing.assert_close(message[n, :H], memory[lengths[n] - 1, n, :H])
    torch.testing.assert_close(message[n, H:], memory[0, n, H:])


@pytest.mark.parametrize("attention", [False, True])
def test_teacher_forcing_equals_one_example_at_a_time(attention):
    model = _model(attention)
    g = torch.Generator().manual_seed(1)
    lengths, target_lengths = [2, 5, 3], [4, 2, 3]
    source = _batch(lengths, 11, g)
    target_in = _batch(target_lengths, 7, g)
    logits, weights = model(source, torch.tensor(lengths), target_in)
    assert logits.shape == (4, 3, 7)
    assert (weights is None) == (not attention)
    for n, (length, steps) in enumerate(zip(lengths, target_lengths)):
        alone, alone_weights = model(
            source[:length, n : n + 1],
            torch.tensor([length]),
            target_in[:steps, n : n + 1],
        )
        torch.testing.assert_close(logits[:steps, n], alone[:, 0])
        if attention:
            assert weights.shape == (4, 5, 3)
            torch.testing.assert_close(
                weights[:steps, :length, n], alone_weights[:, :, 0]
            )
            assert torch.all(weights[:, length:, n] == 0)


def test_decoder_without_attention_one_call_equals_its_steps():
    model = _model(attention=False)
    g = torch.Generator().manual_seed(2)
    source, lengths = _batch([3, 2], 11, g), torch.tensor([3, 2])
    target_in = _batch([4, 4], 7, g)
    memory, mask, state = model.encode(source, lengths)
    logits, _ = model.decoder(target_in, state, memory, mask)
    for t, tokens in enumerate(target_in):
        y, state, weights = model.decoder.step(tokens, state, memory, mask)
        assert weights is None
        torch.testing.assert_close(y, logits[t])


def test_masked_cross_entropy_equals_the_unpadded_mean():
    g = torch.Generator().manual_seed(3)
    target_lengths = [4, 1, 3]
    targets = _batch(target_lengths, 7, g)
    logits = torch.randn(4, 3, 7, generator=g, dtype=torch.float64)
    total = sum(
        F.cross_entropy(logits[:steps, n], targets[:steps, n], reduction="sum")
        for n, steps in enumerate(target_lengths)
    )
    expected = total / sum(target_lengths)
    torch.testing.assert_close(s2s.masked_cross_entropy(logits, targets), expected)
    # Not the mean of every position, padding included, nor of per-sequence means.
    assert not torch.isclose(
        F.cross_entropy(logits.flatten(0, 1), targets.flatten()), expected
    )


# ---------------------------------------------------------------------------
# beam_step


def test_beam_step_by_hand():
    log = torch.tensor(
        [[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]
    ).log()  # (B, V) for one sequence
    scores = torch.tensor([[-1.0, -2.0]])  # (N, B)
    finished = torch.tensor([[False, False]])
    new, beams, tokens = s2s.beam_step(scores, log[None], finished, eos=2)
    # Candidates: -1 + log(.5, .3, .2) and -2 + log(.1, .1, .8).
    candidates = {
        (b, v): scores[0, b].item() + log[b, v].item()
        for b in range(2)
        for v in range(3)
    }
    best = sorted(candidates, key=candidates.get, reverse=True)[:2]
    assert list(zip(beams[0].tolist(), tokens[0].tolist())) == best
    torch.testing.assert_close(new[0].tolist(), [candidates[c] for c in best])


def test_beam_step_keeps_an_ended_hypothesis_once_and_unchanged():
    log = torch.full((1, 2, 4), math.log(0.25), dtype=torch.float64)
    scores = torch.tensor([[-0.1, -5.0]], dtype=torch.float64)
    finished = torch.tensor([[True, False]])
    new, beams, tokens = s2s.beam_step(scores, log, finished, eos=3)
    assert (beams[0, 0].item(), tokens[0, 0].item(), new[0, 0].item()) == (0, 3, -0.1)
    assert beams[0, 1].item() == 1  # the second slot is not the ended one again
    assert new[0, 1].item() == pytest.approx(-5.0 + math.log(0.25))


def test_beam_step_first_step_uses_one_hypothesis():
    log = torch.randn(2, 3, 5, generator=torch.Generator().manual_seed(0)).log_softmax(
        -1
    )
    log[:, 1:] = log[:, :1]  # every slot holds <bos>
    scores = torch.tensor([[0.0, -math.inf, -math.inf]] * 2)
    new, beams, tokens = s2s.beam_step(
        scores, log, torch.zeros(2, 3, dtype=bool), eos=4
    )
    assert torch.all(beams == 0)
    top = log[:, 0].topk(3, dim=-1)
    assert torch.equal(tokens, top.indices) and torch.equal(new, top.values)


# ---------------------------------------------------------------------------
# Decoding with a model small enough to enumerate


class TableModel:
    """A next-token distribution for every prefix, drawn from the prefix itself.

    Tokens 3 and 4 are symbols, 2 is <eos>; <pad> and <bos> are never written.
    After ``max_length - 1`` tokens only <eos> is possible, so every sequence
    ends within ``max_length`` tokens and all of them can be listed.
    """

    V = 5

    def __init__(self, max_length, seed=0, table=None):
        self.max_length, self.seed, self.table = max_length, seed, table or {}

    def log_probs(self, prefix):
        if len(prefix) == self.max_length - 1:
            probs = [0, 0, 1, 0, 0]
        elif prefix in self.table:
            probs = self.table[prefix]
        else:
            g = torch.Generator().manual_seed(hash((self.seed, prefix)) % 2**31)
            p = torch.rand(3, generator=g, dtype=torch.float64) + 0.05
            probs = [0, 0, *(p / p.sum()).tolist()]
        return torch.tensor(probs, dtype=torch.float64).log()

    def step(self, tokens, state):
        """The state of a row is its prefix, written as ids in a (R, max_length) tensor."""
        state = state.clone()
        length = (state > 0).sum(1)  # (R,)
        if tokens[0] != BOS:
            state[torch.arange(len(tokens)), length] = tokens.double()
            length = length + 1
        rows = [tuple(int(t) for t in row[:n]) for row, n in zip(state, length)]
        return torch.stack([self.log_probs(prefix) for prefix in rows]), state

    def start(self, rows):
        return torch.zeros(rows, self.max_length, dtype=torch.float64)

    def every_sequence(self):
        """(tokens, log_prob) of every sequence the model can write."""
        for n in range(1, self.max_length + 1):
            for body in itertools.product((3, 4), repeat=n - 1):
                seq = (*body, EOS)
                yield seq, sum(self.log_probs(seq[:i])[seq[i]].item() for i in range(n))


def _written(tokens):
    """A (L,) tensor of tokens up to and with <eos>, as a tuple."""
    out = []
    for t in tokens.tolist():
        out.append(t)
        if t == EOS:
            break
    return tuple(out)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_beam_finds_the_best_sequence(seed, length_penalty):
    model = TableModel(max_length=4, seed=seed)
    ranked = sorted(
        model.every_sequence(),
        key=lambda item: item[1] / len(item[0]) ** length_penalty,
        reverse=True,
    )
    B = 16  # more than the live hypotheses at any step (2 ** 3 = 8) plus the ended
    found = s2s.beam_search(
        model.step, model.start(B), 1, B, BOS, EOS, 4, length_penalty=length_penalty
    )
    assert _written(found.best[:, 0]) == ranked[0][0]
    assert found.log_prob[0, 0].item() == pytest.approx(ranked[0][1])
    assert found.lengths[0, 0].item() == len(ranked[0][0])
    # Every sequence is among the hypotheses, in the order of their scores.
    listed = [_written(found.tokens[:, 0, b]) for b in range(len(ranked))]
    assert listed == [seq for seq, _ in ranked]


def test_beam_search_beats_greedy_where_greedy_is_trapped():
    # Greedy takes 3 (0.6) but every continuation of 3 is unlikely; 4 (0.4)
    # is followed by <eos> with probability 0.9.
    table = {
        (): [0, 0, 0.0, 0.6, 0.4],
        (3,): [0, 0, 0.3, 0.35, 0.35],
        (4,): [0, 0, 0.9, 0.05, 0.05],
    }
    model = TableModel(max_length=3, table=table)
    greedy, greedy_log_prob = s2s.greedy_decode(
        model.step, model.start(1), 1, BOS, EOS, 3
    )
    assert _written(greedy[:, 0]) == (3, 3, EOS)
    beams = s2s.beam_search(
        model.step, model.start(2), 1, 2, BOS, EOS, 3, length_penalty=0.0
    )
    assert _written(beams.best[:, 0]) == (4, EOS)
    assert beams.log_prob[0, 0].item() == pytest.approx(math.log(0.4 * 0.9))
    assert beams.log_prob[0, 0] > greedy_log_prob[0]


@pytest.mark.parametrize("attention", [False, True])
def test_beam_of_one_is_greedy(attention):
    model = _model(attention, seed=6)
    g = torch.Generator().manual_seed(4)
    lengths = [3, 5, 1, 2]
    source = _batch(lengths, 11, g)
    # A trained model would end its sequences; this one is random, so make
    # <eos> likely enough that some rows end and some run to the limit.
    with torch.no_grad():
        model.decoder.head.bias[EOS] += 0.3
    step, state = model.decoding_step(source, torch.tensor(lengths))
    tokens, log_prob = s2s.greedy_decode(step, state, 4, BOS, EOS, 6)
    step, state = model.decoding_step(source, torch.tensor(lengths), beam_size=1)
    beams = s2s.beam_search(step, state, 4, 1, BOS, EOS, 6)
    assert torch.equal(beams.best, tokens)
    torch.testing.assert_close(beams.log_prob[:, 0], log_prob)
    ended = (tokens == EOS).any(0)
    assert ended.any() and not ended.all()


def test_greedy_log_prob_is_the_teacher_forced_log_prob_of_its_output():
    model = _model(attention=True, seed=5)
    g = torch.Generator().manual_seed(5)
    lengths = [4, 2]
    source = _batch(lengths, 11, g)
    with torch.no_grad():
        model.decoder.head.bias[EOS] += 1.0
    step, state = model.decoding_step(source, torch.tensor(lengths))
    tokens, log_prob = s2s.greedy_decode(step, state, 2, BOS, EOS, 5)
    target_in = torch.cat([torch.full((1, 2), BOS), tokens[:-1]]).masked_fill(
        torch.cat([torch.zeros(1, 2, dtype=bool), tokens[:-1] == PAD]), PAD
    )
    with torch.no_grad():
        logits, _ = model(source, torch.tensor(lengths), target_in)
    picked = logits.log_softmax(-1).gather(2, tokens[..., None])[..., 0]  # (L, N)
    torch.testing.assert_close(picked.masked_fill(tokens == PAD, 0).sum(0), log_prob)


def test_beams_of_a_seq2seq_model_are_sorted_and_consistent():
    model = _model(attention=True, seed=6)
    g = torch.Generator().manual_seed(6)
    lengths = [3, 2, 4]
    source = _batch(lengths, 11, g)
    with torch.no_grad():
        model.decoder.head.bias[EOS] += 1.0
    B = 3
    step, state = model.decoding_step(source, torch.tensor(lengths), beam_size=B)
    beams = s2s.beam_search(step, state, 3, B, BOS, EOS, 6, length_penalty=0.5)
    assert beams.tokens.shape[1:] == (3, B)
    assert torch.all(beams.score[:, :-1] >= beams.score[:, 1:])
    torch.testing.assert_close(
        beams.score, beams.log_prob / beams.lengths.double() ** 0.5
    )
    # Each hypothesis's log-probability is what teacher forcing gives it.
    for n in range(3):
        for b in range(B):
            written = _written(beams.tokens[:, n, b])
            assert len(written) == beams.lengths[n, b]
            target_in = torch.tensor([BOS, *written[:-1]])[:, None]
            logits, _ = model(
                source[: lengths[n], n : n + 1], torch.tensor([lengths[n]]), target_in
            )
            log_p = logits.log_softmax(-1)[torch.arange(len(written)), 0, list(written)]
            assert log_p.sum().item() == pytest.approx(beams.log_prob[n, b].item())


def test_beam_search_refuses_a_state_of_the_wrong_size():
    model = TableModel(max_length=3)
    with pytest.raises(ValueError, match=r"expected state with N \* S = 4 rows, got 2"):
        s2s.beam_search(model.step, model.start(2), 2, 2, BOS, EOS, 3)
    with pytest.raises(ValueError, match="length_penalty must be >= 0, got -1"):
        s2s.beam_search(
            model.step, model.start(2), 1, 2, BOS, EOS, 3, length_penalty=-1
        )


# ---------------------------------------------------------------------------
# The model's arguments, measuring and training


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"hidden_size": 0}, ValueError, "hidden_size must be >= 1, got 0"),
        ({"attention": 1}, TypeError, "attention must be a bool, got int"),
        (
            {"attention_size": 2.0},
            TypeError,
            "attention_size must be an int, got float",
        ),
    ],
)
def test_seq2seq_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        s2s.Seq2Seq(5, 5, **kwargs)


def test_encoder_refuses_a_source_of_the_wrong_rank():
    model = _model(attention=False)
    with pytest.raises(
        ValueError, match=r"expected source of shape \(L_src, N\), got \(3,\)"
    ):
        model.encoder(torch.tensor([1, 2, 3]), torch.tensor([3]))
    with pytest.raises(
        ValueError, match=r"expected lengths of shape \(2,\), got \(3,\)"
    ):
        model.encoder(torch.ones(3, 2, dtype=torch.long), torch.tensor([3, 3, 3]))


def test_exact_match_pads_the_shorter():
    predicted = torch.tensor([[5, 5, 5], [EOS, 6, EOS]])  # (2, 3)
    target = torch.tensor([[5, 5, 5], [EOS, 6, 7], [PAD, EOS, EOS]])  # (3, 3)
    assert s2s.exact_match(predicted, target).tolist() == [True, False, False]


def test_fit_learns_to_copy_one_token():
    torch.manual_seed(0)
    model = s2s.Seq2Seq(6, 6, embedding_dim=8, hidden_size=16, attention=True)
    g = torch.Generator().manual_seed(0)

    def batches(i):
        tokens = torch.randint(3, 6, (1, 32), generator=g)
        target_in = torch.cat([torch.full((1, 32), BOS), tokens])
        target_out = torch.cat([tokens, torch.full((1, 32), EOS)])
        return tokens, torch.ones(32, dtype=torch.long), target_in, target_out

    history = s2s.fit(
        model, batches, steps=40, lr=1e-2, measure=lambda: model.training, every=15
    )
    losses = history.train_loss
    assert len(losses) == 40 and losses[-1] < 0.2 < losses[0]
    assert history.measured_step == [0, 15, 30, 40]
    assert history.measured == [False] * 4 and not model.training


def test_evaluate():
    model = _model(attention=True, seed=7)
    g = torch.Generator().manual_seed(7)
    lengths, target_lengths = torch.tensor([3, 2, 4]), [3, 1, 2]
    source = _batch(lengths.tolist(), 11, g)
    target_out = _batch(target_lengths, 7, g, start=3)
    for n, steps in enumerate(target_lengths):
        target_out[steps - 1, n] = EOS
    target_in = torch.cat([torch.full((1, 3), BOS), target_out[:-1]])
    target_in[target_out == PAD] = PAD
    batch = (source, lengths, target_in, target_out)
    result = s2s.evaluate(model, batch, BOS, EOS, 5)
    with torch.no_grad():
        logits, _ = model(source, lengths, target_in)
        step, state = model.decoding_step(source, lengths)
        tokens, _ = s2s.greedy_decode(step, state, 3, BOS, EOS, 5)
    right = [
        int(logits[t, n].argmax() == target_out[t, n])
        for n, steps in enumerate(target_lengths)
        for t in range(steps)
    ]
    assert result["token_accuracy"] == pytest.approx(sum(right) / len(right))
    assert result["loss"] == pytest.approx(
        s2s.masked_cross_entropy(logits, target_out).item()
    )
    assert result["exact_match"] == s2s.exact_match(tokens, target_out).double().mean()
