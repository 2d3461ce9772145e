"""Training a character-level language model (chapter 7).

:func:`train` is truncated backpropagation through time: the text comes as
``N`` parallel streams in chunks of ``L`` characters (:class:`TextStreams`);
each step runs one chunk, backpropagates through that chunk only, clips the
global gradient norm and updates the weights. The final state of a chunk is
*detached* and becomes the initial state of the next chunk, which continues
the same streams (each pass over the text starts from zeros): the model sees
the history of its stream through its state, while the gradient stops at the
chunk's start. So the loss at position ``j`` of a chunk (``j = 1 .. L``)
reaches back ``j - 1`` steps: from 0 steps for the chunk's first prediction to
``L - 1`` for its last, ``(L - 1) / 2`` on average.

:func:`character_losses` measures the loss of every character, and
:func:`evaluate` their mean, the cross-entropy per character (its exp is the
perplexity); :func:`save_checkpoint` and :func:`load_checkpoint` keep a model
with its vocabulary and architecture. The command line trains, evaluates and
samples without a notebook::

    python -m rnn_lib.train train --corpus shakespeare --seconds 60 --out ckpt.pt
    python -m rnn_lib.train sample ckpt.pt --prime "ROMEO:" --temperature 0.8
    python -m rnn_lib.train evaluate ckpt.pt

Read next: :mod:`rnn_lib.gated`, the cells chapter 8 swaps in.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rnn_lib.data.text import CORPORA, TextStreams, Vocabulary, load_corpus, split
from rnn_lib.environment import pick_device, seed_everything
from rnn_lib.models import CharRNN, generate, unigram_cross_entropy
from rnn_lib.validation import check_choice, check_int, check_number

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("cosine", "constant")
CHECKPOINT_FORMAT = "rnn_lib.CharRNN/1"


@dataclass
class History:
    """What a training run records; losses are in nats per character.

    Attributes:
        train_loss: the loss of each step's batch, before that step's update.
        train_seconds: training time at the end of each step (validation excluded).
        grad_norm: the global gradient norm of each step, before clipping.
        val_step: the steps after which the held-out losses were measured.
        val_loss: the validation loss at those steps.
        train_eval_loss: the loss on a piece of the training text at those
            steps, measured as the validation loss is (empty unless asked for).
    """

    train_loss: list[float] = field(default_factory=list)
    train_seconds: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val_step: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_eval_loss: list[float] = field(default_factory=list)

    @property
    def steps(self) -> int:
        return len(self.train_loss)

    @property
    def seconds(self) -> float:
        return self.train_seconds[-1] if self.train_seconds else 0.0

    @property
    def val_perplexity(self) -> list[float]:
        """``exp`` of each validation loss."""
        return [math.exp(loss) for loss in self.val_loss]


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def _loss(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy of (L, N, V) logits against (L, N) targets."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), target.reshape(-1), reduction=reduction
    )


@torch.no_grad()
def character_losses(
    model: CharRNN,
    ids: torch.Tensor,
    batch_size: int = 16,
    seq_len: int = 256,
    carry_state: bool = True,
) -> torch.Tensor:
    """The cross-entropy of every character of ``ids`` that the model predicts, in nats.

    The text runs as ``batch_size`` streams (fewer if the text is short: a
    stream has at least 1,000 characters, or the whole text), laid out as
    :class:`TextStreams` lays them out, in chunks of ``seq_len``. With
    ``carry_state`` every character but each stream's first is predicted from
    all the text before it in its stream, and ``seq_len`` changes only the
    speed; without it, every chunk starts from zeros and sees at most
    ``seq_len - 1`` characters of context.

    Inputs:
        ids: (number of characters,), the encoded text, at least 2 of them.

    Outputs:
        losses: (len(ids) // N - 1, N), float64: ``losses[i, n]`` is the loss of
        predicting character ``i + 1`` of stream ``n``
        (``TextStreams(ids, N, L).data[i + 1, n]``), where N is the number of
        streams and ``len(ids) // N`` the characters of each.
    """
    if len(ids) < 2:
        raise ValueError(f"evaluation needs at least 2 characters, got {len(ids)}")
    batch_size = max(1, min(batch_size, len(ids) // 1000))
    seq_len = min(seq_len, len(ids) // batch_size - 1)
    device = _device_of(model)
    was_training = model.training
    model.eval()
    losses, h = [], None
    for x, y in TextStreams(ids.to(device), batch_size, seq_len):
        logits, h = model(x, h if carry_state else None)  # (L, N, V)
        losses.append(_loss(logits, y, reduction="none").view(y.shape))  # (L, N)
    model.train(was_training)
    return torch.cat(losses).double().cpu()  # (S - 1, N)


def evaluate(
    model: CharRNN,
    ids: torch.Tensor,
    batch_size: int = 16,
    seq_len: int = 256,
    carry_state: bool = True,
) -> float:
    """The mean cross-entropy per character of ``model`` on ``ids``, in nats.

    The mean of :func:`character_losses` (same arguments); ``exp`` of the
    result is the perplexity.

    Inputs:
        ids: (number of characters,), the encoded text, at least 2 of them.
    """
    return character_losses(model, ids, batch_size, seq_len, carry_state).mean().item()


def _learning_rate(lr: float, schedule: str, progress: float) -> float:
    """Cosine decay from ``lr`` to ``lr / 10`` as ``progress`` goes from 0 to 1."""
    if schedule == "constant":
        return lr
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def train(
    model: CharRNN,
    train_ids: torch.Tensor,
    val_ids: torch.Tensor | None = None,
    *,
    steps: int | None = None,
    seconds: float | None = None,
    batch_size: int = 64,
    seq_len: int = 32,
    lr: float = 4e-3,
    optimizer: str = "adam",
    clip: float | None = 1.0,
    schedule: str = "cosine",
    carry_state: bool = True,
    eval_every: int | None = None,
    train_eval_ids: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` with truncated BPTT until ``steps`` or ``seconds`` run out.

    Args:
        model: the model; moved to ``device``.
        train_ids: the encoded training text, (number of characters,).
        val_ids: the encoded validation text, (number of characters,), or None.
        steps: stop after this many updates (None: no limit).
        seconds: stop after this much training time, validation excluded
            (None: no limit). At least one of ``steps`` and ``seconds`` is needed.
        batch_size: N, the number of parallel streams.
        seq_len: L, the characters per chunk. The gradient stops at each chunk's
            start, so the loss at position j of a chunk (j = 1 .. L) reaches
            back j - 1 steps: 0 to L - 1, (L - 1) / 2 on average.
        lr: the (initial) learning rate.
        optimizer: ``'adam'`` or ``'sgd'`` (plain SGD, no momentum).
        clip: the largest global gradient norm (``clip_grad_norm_``), or None.
        schedule: ``'cosine'`` decays the learning rate to ``lr / 10`` over the
            budget (whichever of steps and seconds runs out first); ``'constant'``
            keeps it.
        carry_state: start each chunk from the previous chunk's final state
            (detached); False starts every chunk from zeros.
        eval_every: measure the validation loss every this many steps (it is
            always measured once at the end when ``val_ids`` is given).
        train_eval_ids: a piece of the training text, (number of characters,),
            whose loss is measured with :func:`evaluate` at the same steps as
            the validation loss (``History.train_eval_loss``): the training
            loss measured the way the validation loss is, to compare the two.
            None: not measured.
        device: where to train; None picks CUDA when present, else the CPU.
        progress: show a ``tqdm`` progress bar with the loss.

    Returns:
        the :class:`History` of the run.
    """
    if steps is None and seconds is None:
        raise ValueError("give steps, seconds or both, got neither")
    if steps is not None:
        check_int("steps", steps)
    if seconds is not None:
        check_number("seconds", seconds, positive=True)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("schedule", schedule, SCHEDULES)
    if clip is not None:
        check_number("clip", clip, positive=True)
    if train_eval_ids is not None and val_ids is None:
        raise ValueError(
            "train_eval_ids is measured at the steps of the validation loss: "
            "give val_ids too"
        )
    device = pick_device() if device is None else torch.device(device)
    model.to(device)
    model.train()
    streams = TextStreams(train_ids.to(device), batch_size, seq_len)
    optim_class = torch.optim.Adam if optimizer == "adam" else torch.optim.SGD
    opt = optim_class(model.parameters(), lr=lr)
    history = History()
    bar = tqdm(total=steps, disable=not progress, unit="step", desc="training")
    elapsed, step = 0.0, 0
    done = False
    while not done:
        h = None  # each pass over the text starts from zeros
        for x, y in streams:
            start = time.perf_counter()
            if h is not None:
                h = h.detach() if carry_state else None  # truncate BPTT here
            logits, h = model(x, h)  # (L, N, V), (num_layers, N, H_out)
            loss = _loss(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # The norm before clipping; an infinite threshold only measures it.
            norm = torch.nn.utils.clip_grad_norm_(
                model.parameters(), math.inf if clip is None else clip
            )
            loss_value = loss.item()
            step += 1
            if not math.isfinite(loss_value):
                bar.close()
                raise FloatingPointError(
                    f"the loss is {loss_value} at step {step}; try a smaller learning rate "
                    f"(lr={lr} now) or clipping the gradient norm (clip={clip} now)"
                )
            budget = max(
                step / steps if steps else 0.0,
                (elapsed + time.perf_counter() - start) / seconds if seconds else 0.0,
            )
            for group in opt.param_groups:
                group["lr"] = _learning_rate(lr, schedule, budget)
            opt.step()
            elapsed += time.perf_counter() - start
            history.train_loss.append(loss_value)
            history.train_seconds.append(elapsed)
            history.grad_norm.append(norm.item())
            bar.set_postfix(loss=f"{loss_value:.3f}", refresh=False)
            bar.update(1)
            done = (steps is not None and step >= steps) or (
                seconds is not None and elapsed >= seconds
            )
            if val_ids is not None and (
                done or (eval_every and step % eval_every == 0)
            ):
                history.val_step.append(step)
                history.val_loss.append(evaluate(model, val_ids))
                if train_eval_ids is not None:
                    history.train_eval_loss.append(evaluate(model, train_eval_ids))
                bar.set_postfix(
                    loss=f"{loss_value:.3f}", val=f"{history.val_loss[-1]:.3f}"
                )
            if done:
                break
    bar.close()
    return history


def save_checkpoint(
    path: str | Path, model: CharRNN, vocab: Vocabulary, **meta
) -> None:
    """Save the weights with what is needed to rebuild the model.

    Args:
        path: the file to write.
        model: the model; its ``config`` (architecture) is saved with it.
        vocab: the vocabulary it was trained with.
        **meta: anything else worth keeping (plain Python values), e.g. the
            corpus name and the validation loss.
    """
    if model.config["vocab_size"] != len(vocab):
        raise ValueError(
            f"the model has {model.config['vocab_size']} outputs but the vocabulary "
            f"{len(vocab)} characters"
        )
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": dict(model.config),
            "vocab": vocab.state_dict(),
            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()},
            "meta": meta,
        },
        path,
    )


def load_checkpoint(
    path: str | Path,
    model: CharRNN | None = None,
    vocab: Vocabulary | None = None,
    device: torch.device | str | None = None,
) -> tuple[CharRNN, Vocabulary, dict]:
    """Load a checkpoint written by :func:`save_checkpoint`.

    Args:
        path: the file.
        model: None to build a new model from the checkpoint's architecture, or
            a model to load the weights into; it must have the same architecture.
        vocab: if given, the checkpoint must have been trained with it.
        device: where to put a new model; None picks CUDA when present.

    Returns:
        ``(model, vocab, meta)``.
    """
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if (
        not isinstance(checkpoint, dict)
        or checkpoint.get("format") != CHECKPOINT_FORMAT
    ):
        raise ValueError(f"{path} is not a CharRNN checkpoint written by rnn_lib.train")
    saved_vocab = Vocabulary.from_state_dict(checkpoint["vocab"])
    if vocab is not None and vocab != saved_vocab:
        only_saved = sorted(set(saved_vocab.chars) - set(vocab.chars))
        only_given = sorted(set(vocab.chars) - set(saved_vocab.chars))
        raise ValueError(
            f"the checkpoint was trained with another vocabulary: {len(saved_vocab)} "
            f"characters against {len(vocab)}; only in the checkpoint: "
            f"{''.join(only_saved)!r}, only in yours: {''.join(only_given)!r}"
            + ("" if only_saved or only_given else ", same characters in another order")
        )
    config = checkpoint["config"]
    if model is None:
        model = CharRNN(**config).to(pick_device() if device is None else device)
    elif model.config != config:
        different = ", ".join(
            f"{key} {config.get(key)!r} in the checkpoint, {model.config.get(key)!r} in the model"
            for key in sorted(set(config) | set(model.config))
            if config.get(key) != model.config.get(key)
        )
        raise ValueError(f"the checkpoint has another architecture: {different}")
    model.load_state_dict(checkpoint["state_dict"])
    return model, saved_vocab, checkpoint["meta"]


# The command line ---------------------------------------------------------


def _read_text(corpus: str | None, text_file: str | None) -> str:
    text = (
        load_corpus(corpus)
        if text_file is None
        else Path(text_file).read_text(encoding="utf-8")
    )
    if not text:
        raise ValueError(f"the corpus {text_file or corpus!r} is empty")
    return text


def _set_threads(threads: int | None) -> None:
    if threads is None:
        return
    check_int("threads", threads)
    torch.set_num_threads(threads)


def _command_train(args: argparse.Namespace) -> None:
    _set_threads(args.threads)
    seed_everything(args.seed)
    text = _read_text(args.corpus, args.text)
    vocab = Vocabulary.from_text(text)
    train_ids, val_ids = split(vocab.encode(text), args.val_fraction)
    model = CharRNN(
        len(vocab),
        args.embedding_dim,
        args.hidden_size,
        args.num_layers,
        dropout=args.dropout,
    )
    n_params = sum(p.numel() for p in model.parameters())
    device = pick_device() if args.device is None else torch.device(args.device)
    print(
        f"{args.text or args.corpus}: {len(train_ids):,} training and {len(val_ids):,} "
        f"validation characters, {len(vocab)} distinct; {n_params:,} parameters on {device}"
    )
    history = train(
        model,
        train_ids,
        val_ids,
        steps=args.steps,
        seconds=args.seconds,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        lr=args.lr,
        optimizer=args.optimizer,
        clip=args.clip or None,
        carry_state=not args.reset_state,
        eval_every=args.eval_every,
        device=device,
        progress=not args.quiet,
    )
    unigram = unigram_cross_entropy(train_ids, val_ids, len(vocab))
    val = history.val_loss[-1]
    print(
        f"{history.steps} steps in {history.seconds:.1f} s of training: validation loss "
        f"{val:.4f} nats/char (perplexity {math.exp(val):.2f}); unigram baseline {unigram:.4f}"
    )
    save_checkpoint(
        args.out,
        model,
        vocab,
        corpus=None if args.text else args.corpus,
        text=args.text,
        val_fraction=args.val_fraction,
        val_loss=val,
        steps=history.steps,
        seconds=history.seconds,
    )
    print(f"saved {args.out}")


def _command_evaluate(args: argparse.Namespace) -> None:
    model, vocab, meta = load_checkpoint(args.checkpoint, device=args.device)
    corpus = args.corpus or (None if args.text else meta.get("corpus"))
    text = _read_text(corpus, args.text or (None if corpus else meta.get("text")))
    val_fraction = args.val_fraction or meta.get("val_fraction", 0.1)
    _, val_ids = split(vocab.encode(text), val_fraction)
    loss = evaluate(model, val_ids)
    print(
        f"validation loss on the last {val_fraction:.0%} ({len(val_ids):,} characters): "
        f"{loss:.4f} nats/char, perplexity {math.exp(loss):.2f}"
    )


def _command_sample(args: argparse.Namespace) -> None:
    model, vocab, _ = load_checkpoint(args.checkpoint, device=args.device)
    prime = args.prime.replace("\\n", "\n")
    print(generate(model, vocab, prime, args.length, args.temperature, seed=args.seed))


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, unless it has none worth showing."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_lib.train",
        description="Train a character-level RNN language model, evaluate it, sample from it.",
        epilog="examples:\n"
        "  python -m rnn_lib.train train --corpus shakespeare --seconds 60 --out ckpt.pt\n"
        "  python -m rnn_lib.train evaluate ckpt.pt\n"
        '  python -m rnn_lib.train sample ckpt.pt --prime "ROMEO:" --temperature 0.8',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "train",
        help="train a model and save a checkpoint",
        formatter_class=_HelpFormatter,
        description="Train a CharRNN with truncated BPTT and save a checkpoint. "
        "The last --val-fraction of the text is held out for validation. The "
        "defaults are tuned for the best validation loss after a minute on a CPU.",
    )
    data = p.add_argument_group("data")
    source = data.add_mutually_exclusive_group()
    source.add_argument(
        "--corpus",
        choices=sorted(CORPORA),
        default="shakespeare",
        help="a corpus shipped with rnn_lib",
    )
    source.add_argument(
        "--text", metavar="FILE", help="train on this UTF-8 file instead"
    )
    data.add_argument(
        "--val-fraction",
        type=float,
        default=0.1,
        help="the share of the text, at its end, kept for validation",
    )
    budget = p.add_argument_group("budget (give one or both)")
    budget.add_argument(
        "--seconds", type=float, help="training time, validation excluded"
    )
    budget.add_argument("--steps", type=int, help="number of updates")
    arch = p.add_argument_group("model")
    arch.add_argument(
        "--embedding-dim", type=int, default=64, help="E, numbers per character"
    )
    arch.add_argument(
        "--hidden-size", type=int, default=320, help="H_out, the state size"
    )
    arch.add_argument("--num-layers", type=int, default=1, help="stacked RNN layers")
    arch.add_argument(
        "--dropout", type=float, default=0.0, help="between stacked layers"
    )
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--batch-size", type=int, default=64, help="parallel streams N")
    opt.add_argument("--seq-len", type=int, default=32, help="truncated-BPTT length L")
    opt.add_argument(
        "--lr",
        type=float,
        default=4e-3,
        help="initial learning rate (cosine decay to lr/10)",
    )
    opt.add_argument(
        "--optimizer", choices=OPTIMIZERS, default="adam", help="sgd: plain SGD"
    )
    opt.add_argument(
        "--clip",
        type=float,
        default=1.0,
        help="max global gradient norm; 0 turns clipping off",
    )
    opt.add_argument(
        "--reset-state",
        action="store_true",
        help="start every chunk from zeros instead of carrying the state",
    )
    p.add_argument("--eval-every", type=int, help="validate every this many steps")
    p.add_argument("--out", default="charrnn.pt", help="checkpoint file to write")
    p.add_argument("--seed", type=int, default=0, help="seeds every generator")
    p.add_argument("--device", help="cpu, cuda, ... (default: CUDA when present)")
    p.add_argument(
        "--threads",
        type=int,
        help="CPU threads for torch (default: torch's choice, one per core); use 1 "
        "on a machine shared with other jobs, where threads that wait for each "
        "other are much slower",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_command_train)

    p = commands.add_parser(
        "evaluate",
        help="validation loss and perplexity of a checkpoint",
        formatter_class=_HelpFormatter,
        description="Measure a checkpoint on the validation part of the text it was trained on "
        "(or of another corpus with the same characters).",
    )
    p.add_argument("checkpoint", help="a file written by the train command")
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--corpus", choices=sorted(CORPORA), help="default: the checkpoint's"
    )
    source.add_argument(
        "--text", metavar="FILE", help="evaluate on this UTF-8 file instead"
    )
    p.add_argument("--val-fraction", type=float, help="default: the checkpoint's")
    p.add_argument("--device", help="cpu, cuda, ... (default: CUDA when present)")
    p.set_defaults(run=_command_evaluate)

    p = commands.add_parser(
        "sample",
        help="write text with a checkpoint",
        formatter_class=_HelpFormatter,
        description="Print the prime followed by sampled characters.",
    )
    p.add_argument("checkpoint", help="a file written by the train command")
    p.add_argument(
        "--prime",
        default=r"\n",
        help=r"text that sets the state before sampling; \n stands for a newline",
    )
    p.add_argument("--length", type=int, default=500, help="characters to sample")
    p.add_argument(
        "--temperature",
        type=float,
        default=0.8,
        help="below 1: safer and more repetitive; above 1: more varied",
    )
    p.add_argument("--seed", type=int, help="the same seed gives the same text")
    p.add_argument("--device", help="cpu, cuda, ... (default: CUDA when present)")
    p.set_defaults(run=_command_sample)
    return parser


def main(argv: list[str] | None = None) -> None:
    """The command line; ``python -m rnn_lib.train --help`` describes it."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (ValueError, FloatingPointError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
