"""Tests for rnn_lib/train.py: truncated BPTT, clipping, checkpoints, the CLI."""

import math

import pytest
import torch
import torch.nn.functional as F

from rnn_lib.data.text import Vocabulary
from rnn_lib.models import CharRNN, generate
from rnn_lib.train import (
    _learning_rate,
    character_losses,
    evaluate,
    load_checkpoint,
    main,
    save_checkpoint,
    train,
)

TEXT = "the cat sat on the mat.\n" * 20
VOCAB = Vocabulary.from_text(TEXT)
IDS = VOCAB.encode(TEXT)


def small_model(hidden_size: int = 8, **kwargs) -> CharRNN:
    torch.manual_seed(0)
    return CharRNN(len(VOCAB), embedding_dim=4, hidden_size=hidden_size, **kwargs)


def quiet_train(model, ids=IDS, val=None, **kwargs):
    kwargs.setdefault("device", "cpu")
    kwargs.setdefault("batch_size", 4)
    kwargs.setdefault("seq_len", 5)
    return train(model, ids, val, progress=False, **kwargs)


class StateSpy(CharRNN):
    """A CharRNN that records the initial state of every call."""

    def forward(self, input, h_0=None):
        self.seen.append(h_0)
        logits, h_n = super().forward(input, h_0)
        self.returned.append(h_n)
        return logits, h_n


def spy(**kwargs) -> StateSpy:
    torch.manual_seed(0)
    model = StateSpy(len(VOCAB), embedding_dim=4, hidden_size=8)
    model.seen, model.returned = [], []
    return model


# --- truncated BPTT and the carried state ------------------------------------------


def test_state_is_carried_detached_from_chunk_to_chunk():
    model = spy()
    ids = IDS[:84]  # 4 streams of 21: 4 chunks of 5 per pass
    quiet_train(model, ids, steps=6, lr=1e-3)
    seen, returned = model.seen, model.returned
    assert seen[0] is None
    for k in (1, 2, 3):
        torch.testing.assert_close(seen[k], returned[k - 1])
        assert seen[k].grad_fn is None and returned[k - 1].grad_fn is not None
    # A new pass over the text starts from zeros again: its first chunk does
    # not continue the last chunk of the previous pass.
    assert seen[4] is None
    torch.testing.assert_close(seen[5], returned[4])


def test_reset_state_starts_every_chunk_from_zeros():
    model = spy()
    quiet_train(model, steps=4, carry_state=False)
    assert model.seen == [None] * 4


def test_evaluate_with_one_stream_is_one_pass_over_the_text():
    model = small_model().double()
    ids = IDS[:101]
    logits, _ = model(ids[:-1, None])  # (100, 1, V): the whole text at once
    expected = F.cross_entropy(logits[:, 0], ids[1:]).item()
    assert evaluate(model, ids, batch_size=1, seq_len=7) == pytest.approx(expected)


def test_evaluate_without_carrying_restarts_every_chunk():
    model = small_model().double()
    ids = IDS[:101]
    chunks = [ids[i : i + 11] for i in range(0, 100, 10)]  # 10 inputs + 1 target
    total = sum(
        F.cross_entropy(model(c[:-1, None])[0][:, 0], c[1:], reduction="sum").item()
        for c in chunks
    )
    got = evaluate(model, ids, batch_size=1, seq_len=10, carry_state=False)
    assert got == pytest.approx(total / 100)
    assert got != pytest.approx(evaluate(model, ids, batch_size=1, seq_len=10))


def test_character_losses_are_each_characters_loss_in_stream_layout():
    model = small_model().double()
    ids = IDS.repeat(5)[:2003]  # 2 streams of 1,001, one character left over
    losses = character_losses(model, ids, batch_size=2, seq_len=64)
    assert losses.shape == (1000, 2) and losses.dtype == torch.float64
    with torch.no_grad():
        for n in range(2):
            stream = ids[1001 * n : 1001 * (n + 1)]
            logits, _ = model(stream[:-1, None])  # (1000, 1, V)
            expected = F.cross_entropy(logits[:, 0], stream[1:], reduction="none")
            torch.testing.assert_close(losses[:, n], expected)
    assert evaluate(model, ids, batch_size=2, seq_len=64) == pytest.approx(
        losses.mean().item()
    )


def test_training_learns_a_repetitive_text():
    model = small_model(hidden_size=32)
    history = quiet_train(
        model, IDS[:400], IDS[400:], steps=150, lr=1e-2, eval_every=50
    )
    assert history.steps == 150 and len(history.train_seconds) == 150
    assert history.val_step == [50, 100, 150]
    assert history.val_perplexity == [math.exp(loss) for loss in history.val_loss]
    assert history.val_loss[-1] < 0.3 < math.log(len(VOCAB))
    assert history.val_loss[-1] == pytest.approx(evaluate(model, IDS[400:]))


def test_training_text_loss_is_measured_beside_the_validation_loss():
    model = small_model(hidden_size=32)
    history = quiet_train(
        model,
        IDS[:400],
        IDS[400:],
        steps=100,
        lr=1e-2,
        eval_every=50,
        train_eval_ids=IDS[:200],
    )
    assert history.val_step == [50, 100] and len(history.train_eval_loss) == 2
    assert history.train_eval_loss[-1] == pytest.approx(evaluate(model, IDS[:200]))
    assert history.train_eval_loss != history.val_loss
    without = quiet_train(small_model(), IDS[:400], IDS[400:], steps=5)
    assert without.train_eval_loss == []
    with pytest.raises(ValueError, match="train_eval_ids is measured at the steps"):
        quiet_train(small_model(), steps=1, train_eval_ids=IDS[:200])


def test_a_time_budget_stops_training():
    history = quiet_train(small_model(), seconds=0.2)
    assert history.seconds >= 0.2 and history.steps >= 1
    # The step that crossed the budget is the last one.
    assert history.train_seconds[-2] < 0.2


def test_cosine_schedule_goes_from_lr_to_a_tenth():
    assert _learning_rate(1.0, "cosine", 0.0) == pytest.approx(1.0)
    assert _learning_rate(1.0, "cosine", 0.5) == pytest.approx(0.55)
    assert _learning_rate(1.0, "cosine", 1.0) == pytest.approx(0.1)
    assert _learning_rate(1.0, "cosine", 2.0) == pytest.approx(0.1)
    assert _learning_rate(1.0, "constant", 0.7) == 1.0


# --- clipping -------------------------------------------------------------------


def gradient_of_first_step(model, ids):
    """The unclipped gradient of one training step, as one vector."""
    streams = ids.view(4, 6)  # 4 streams of 6 characters: one chunk of 5
    x, y = streams[:, :5].t(), streams[:, 1:].t()  # (5, 4) each
    model.zero_grad()
    logits, _ = model(x)
    F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("clip", [1e-3, None])
def test_one_sgd_step_moves_the_weights_by_the_clipped_gradient(clip):
    ids = IDS[:24]
    model = small_model()
    grad = gradient_of_first_step(small_model(), ids)
    assert grad.norm() > 1e-3  # so that clipping changes something
    before = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    quiet_train(
        model, ids, steps=1, optimizer="sgd", lr=0.5, clip=clip, schedule="constant"
    )
    after = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    expected = grad if clip is None else grad * clip / grad.norm()
    torch.testing.assert_close(before - after, 0.5 * expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("clip", [1e-3, None])
def test_the_gradient_norm_is_recorded_before_clipping(clip):
    ids = IDS[:24]
    grad = gradient_of_first_step(small_model(), ids)
    history = quiet_train(small_model(), ids, steps=1, optimizer="sgd", clip=clip)
    assert history.grad_norm == pytest.approx([grad.norm().item()], rel=1e-5)


# --- bad input --------------------------------------------------------------------


def test_nan_loss_stops_training_and_names_the_step():
    model = small_model()
    history_steps = 3
    quiet_train(model, steps=history_steps, lr=1e-3)
    with torch.no_grad():
        model.head.bias.fill_(float("nan"))
    with pytest.raises(
        FloatingPointError,
        match=r"the loss is nan at step 1; try a smaller learning rate \(lr=0.001 now\) "
        r"or clipping the gradient norm \(clip=1.0 now\)",
    ):
        quiet_train(model, steps=5, lr=1e-3)


def test_train_rejects_bad_arguments():
    model = small_model()
    with pytest.raises(ValueError, match="give steps, seconds or both, got neither"):
        quiet_train(model)
    with pytest.raises(ValueError, match="steps must be >= 1, got 0"):
        quiet_train(model, steps=0)
    with pytest.raises(TypeError, match="steps must be an int, got float"):
        quiet_train(model, steps=2.0)
    with pytest.raises(ValueError, match="seconds must be positive, got -1"):
        quiet_train(model, seconds=-1)
    with pytest.raises(
        ValueError, match="optimizer must be 'adam' or 'sgd', got 'lbfgs'"
    ):
        quiet_train(model, steps=1, optimizer="lbfgs")
    with pytest.raises(
        ValueError, match="schedule must be 'cosine' or 'constant', got 'step'"
    ):
        quiet_train(model, steps=1, schedule="step")
    with pytest.raises(ValueError, match="clip must be positive, got 0"):
        quiet_train(model, steps=1, clip=0)
    with pytest.raises(ValueError, match="seq_len=500 is longer than the data allows"):
        quiet_train(model, steps=1, seq_len=500)


# --- checkpoints -----------------------------------------------------------------


def test_checkpoint_round_trip(tmp_path):
    model = small_model(num_layers=2)
    quiet_train(model, steps=5)
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, model, VOCAB, corpus="cats", val_loss=1.5)
    loaded, vocab, meta = load_checkpoint(path, device="cpu")
    assert vocab == VOCAB and meta == {"corpus": "cats", "val_loss": 1.5}
    assert loaded.config == model.config
    for (name, p), (name2, q) in zip(
        model.state_dict().items(), loaded.state_dict().items()
    ):
        assert name == name2
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert generate(loaded, vocab, "the", 30, seed=1) == generate(
        model, VOCAB, "the", 30, seed=1
    )
    # Loading into an existing model of the same architecture works too.
    target = small_model(num_layers=2)
    load_checkpoint(path, model=target, vocab=VOCAB)
    torch.testing.assert_close(target.head.weight, model.head.weight, rtol=0, atol=0)


def test_checkpoint_for_another_architecture_raises(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, small_model(hidden_size=8), VOCAB)
    with pytest.raises(
        ValueError,
        match="the checkpoint has another architecture: "
        "hidden_size 8 in the checkpoint, 16 in the model",
    ):
        load_checkpoint(path, model=small_model(hidden_size=16))


def test_checkpoint_for_another_vocabulary_raises(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, small_model(), VOCAB)
    other = Vocabulary.from_text(TEXT + "!")
    with pytest.raises(
        ValueError,
        match=r"another vocabulary: 12 characters against 13; "
        r"only in the checkpoint: '', only in yours: '!'",
    ):
        load_checkpoint(path, vocab=other)
    with pytest.raises(ValueError, match="same characters in another order"):
        load_checkpoint(path, vocab=Vocabulary(sorted(VOCAB.chars)))


def test_checkpoint_rejects_a_mismatched_vocabulary_and_other_files(tmp_path):
    with pytest.raises(
        ValueError, match="the model has 12 outputs but the vocabulary 3 characters"
    ):
        save_checkpoint(tmp_path / "x.pt", small_model(), Vocabulary("abc"))
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(
        ValueError, match="is not a CharRNN checkpoint written by rnn_lib.train"
    ):
        load_checkpoint(tmp_path / "other.pt")


# --- the command line --------------------------------------------------------------


@pytest.fixture
def keep_threads():
    """The train command sets torch's thread count; put it back afterwards."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_command_line_trains_evaluates_and_samples(tmp_path, capsys, keep_threads):
    corpus = tmp_path / "cats.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    ckpt = tmp_path / "cats.pt"
    torch.set_num_threads(2)  # so that --threads 1 has something to change
    main(["train", "--text", str(corpus), "--steps", "3", "--hidden-size", "8",
          "--batch-size", "4", "--seq-len", "8", "--out", str(ckpt), "--quiet", "--threads", "1",
          "--device", "cpu"])  # fmt: skip
    out = capsys.readouterr().out
    assert "3 steps in" in out and "unigram baseline" in out and f"saved {ckpt}" in out
    assert torch.get_num_threads() == 1  # --threads 1
    main(["evaluate", str(ckpt), "--device", "cpu"])
    assert "validation loss on the last 10% (48 characters)" in capsys.readouterr().out
    main(["sample", str(ckpt), "--prime", r"the\n", "--length", "20", "--seed", "0",
          "--device", "cpu"])  # fmt: skip
    sample = capsys.readouterr().out
    assert sample.startswith("the\n") and len(sample) == 4 + 20 + 1  # print's newline


def test_command_line_reports_an_empty_corpus(tmp_path, keep_threads):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SystemExit, match=f"error: the corpus '{empty}' is empty"):
        main(["train", "--text", str(empty), "--steps", "1", "--quiet"])
    with pytest.raises(SystemExit, match="error: threads must be >= 1, got 0"):
        main(["train", "--steps", "1", "--quiet", "--threads", "0"])


def test_command_line_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    assert "--seconds" in capsys.readouterr().out


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_training_and_sampling_on_cuda():
    model = small_model()
    history = train(
        model, IDS, IDS[:100], steps=5, batch_size=4, seq_len=5, progress=False
    )
    assert next(model.parameters()).device.type == "cuda"
    assert math.isfinite(history.val_loss[-1])
    assert generate(model, VOCAB, "the", 10, seed=0).startswith("the")
