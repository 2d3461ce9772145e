"""``python -m rnn_lib.bench``: rnn_lib's RNN, LSTM and GRU against torch.nn's (chapters 5, 8).

For each case of a grid of sizes (kind, L, N, H_in, H_out, layers, directions)
it builds the ``torch.nn`` module (``RNN``, ``LSTM`` or ``GRU``) and rnn_lib's
with the same weights and times, side by side in one run, three things:

* ``forward``: the forward pass in training mode (parameters require grad, so
  autograd records what backward needs);
* ``forward+backward``: the forward pass and the backward pass from fixed
  cotangents for ``output`` and ``h_n``;
* ``inference``: the forward pass under ``torch.no_grad()``.

The repetitions of the two implementations alternate (so that a busy machine
slows both alike) and the table reports medians, the ratio rnn_lib / torch
(below 1 means rnn_lib is faster), the achieved GFLOP/s and the geometric mean
of the ratios over the grid, per kind. On CUDA, ``torch.nn`` runs cuDNN; on
the CPU, torch's LSTM runs oneDNN's fused kernel where it can (its GRU and RNN
run one ATen operation after another).

FLOPs are those of the matrix products (biases and nonlinearities are left
out). With G gate blocks (1 for the RNN, 3 for the GRU, 4 for the LSTM), a
layer-direction with input size I does ``2 L N G H (I + H)`` in the forward
pass; its backward pass does ``2 L N G H (I + H)`` for the weight gradients,
``2 L N G H^2`` for the gradient flowing back in time and ``2 L N G H I`` for
the gradient of its input, except in the first layer, whose input does not
require grad here. ``I`` is H_in for the first layer and ``D * H_out`` after
it.

Examples::

    python -m rnn_lib.bench                    # full grid, CPU (and CUDA if present)
    python -m rnn_lib.bench --kind lstm --kind gru
    python -m rnn_lib.bench --quick --json bench.json
    python -m rnn_lib.bench --device cpu --threads 1 --timer cpu
    python -m rnn_lib.bench --device cuda --cuda-graph   # also rnn_lib from CUDA graphs

On CUDA, rnn_lib's Python loop launches a few kernels per time step and cuDNN
runs the whole recurrence in a few; ``--cuda-graph`` adds a column for
rnn_lib recorded once as a CUDA graph and replayed, which removes the
per-step launch and Python overhead (the arithmetic stays the same).

``--scan`` times something else, chapter 10's question: the sequential loop
of :func:`rnn_lib.scan.linear_recurrence` against its parallel scan, as the
sequence grows (:func:`scan_timings`)::

    python -m rnn_lib.bench --scan --device cpu

Read next: ``tests/test_bench.py``, which checks that it measures what it says.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import torch

from rnn_lib.gated import GRU, LSTM
from rnn_lib.rnn import RNN
from rnn_lib.scan import linear_recurrence
from rnn_lib.validation import check_choice, check_int

MODES = ("forward", "forward+backward", "inference")
#: kind -> (rnn_lib's module, torch's module, gate blocks G)
KINDS = {
    "rnn": (RNN, torch.nn.RNN, 1),
    "lstm": (LSTM, torch.nn.LSTM, 4),
    "gru": (GRU, torch.nn.GRU, 3),
}


@dataclass(frozen=True)
class Case:
    """One benchmark size: input (L, N, H_in), H_out, layers, directions, kind."""

    L: int
    N: int
    H_in: int
    H: int
    num_layers: int = 1
    bidirectional: bool = False
    kind: str = "rnn"

    def label(self) -> str:
        label = f"{self.kind.upper()} L={self.L} N={self.N} H_in={self.H_in} H={self.H}"
        if self.num_layers > 1:
            label += f" layers={self.num_layers}"
        if self.bidirectional:
            label += " bi"
        return label


def _grid(*sizes: tuple, kinds=tuple(KINDS)) -> tuple[Case, ...]:
    return tuple(Case(*size, kind=kind) for kind in kinds for size in sizes)


# The sizes the chapters train are in the grid: chapter 7's character model
# (L=32, N=128, H_in=64, H=256), chapter 8's adding problem (L=80, N=64, H_in=2,
# H=32) and language models (L=32, N=64, H_in=32, H=128).
GRID = _grid(
    (50, 32, 64, 128),
    (100, 64, 128, 256),
    (32, 64, 32, 128),
    (32, 128, 64, 256),
    (80, 64, 2, 32),
    (200, 16, 32, 64),
    (100, 1, 32, 64),
    (50, 32, 64, 128, 2, True),
)
QUICK_GRID = _grid((20, 8, 16, 32), (10, 4, 8, 16, 2, True))


def flops(case: Case, mode: str) -> int:
    """The matrix-product FLOPs of one run of ``mode`` (see the module docstring)."""
    D = 2 if case.bidirectional else 1
    G = KINDS[case.kind][2]
    rows = case.L * case.N * G * case.H  # output features of every product
    total = 0
    for layer in range(case.num_layers):
        inputs = case.H_in if layer == 0 else D * case.H
        forward = 2 * rows * (inputs + case.H)
        backward = forward + 2 * rows * case.H
        if layer > 0:
            backward += 2 * rows * inputs
        total += D * (forward + backward if mode == "forward+backward" else forward)
    return total


def _make_runs(
    case: Case, device: torch.device, dtype: torch.dtype, cuda_graph: bool = False
) -> dict:
    """For each implementation, ``(module, {mode: function that runs it once})``.

    With ``cuda_graph``, a third entry, ``'rnn_lib+graph'``, replays CUDA
    graphs of a copy of the rnn_lib module (module None: its gradients must
    stay where the graph wrote them).
    """
    ours_class, torch_class, _ = KINDS[case.kind]
    sizes = {"num_layers": case.num_layers, "bidirectional": case.bidirectional}
    factory = {"device": device, "dtype": dtype}
    reference = torch_class(case.H_in, case.H, **sizes, **factory)
    ours = ours_class(case.H_in, case.H, **sizes, **factory)
    ours.load_state_dict(reference.state_dict())
    D = 2 if case.bidirectional else 1
    x = torch.randn(case.L, case.N, case.H_in, **factory)
    states = [torch.randn(D * case.num_layers, case.N, case.H, **factory)]
    if case.kind == "lstm":
        states.append(torch.randn_like(states[0]))
    h_0 = tuple(states) if case.kind == "lstm" else states[0]
    grad_output = torch.randn(case.L, case.N, D * case.H, **factory)
    grad_states = [torch.randn_like(s) for s in states]

    def runs(model: torch.nn.Module) -> dict[str, Callable[[], None]]:
        def forward():
            model(x, h_0)

        def forward_backward():
            output, state_n = model(x, h_0)
            finals = list(state_n) if case.kind == "lstm" else [state_n]
            torch.autograd.backward([output, *finals], [grad_output, *grad_states])

        def inference():
            with torch.no_grad():
                model(x, h_0)

        return {
            "forward": forward,
            "forward+backward": forward_backward,
            "inference": inference,
        }

    implementations = {
        "rnn_lib": (ours, runs(ours)),
        "torch": (reference, runs(reference)),
    }
    if cuda_graph:
        graphed = copy.deepcopy(ours)
        implementations["rnn_lib+graph"] = (
            None,
            {mode: _capture(graphed, fn) for mode, fn in runs(graphed).items()},
        )
    return implementations


def _capture(
    model: torch.nn.Module, fn: Callable[[], None]
) -> Callable[[], None] | None:
    """``fn`` recorded as a CUDA graph: one launch replays every kernel.

    Follows the whole-network capture recipe of torch.cuda.graphs: warm up on
    a side stream, set the gradients to None so that the captured backward
    allocates them from the graph's memory pool, capture, then only replay.
    Returns None (and says why) if the capture fails.
    """
    try:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                model.zero_grad(set_to_none=True)
                fn()
        torch.cuda.current_stream().wait_stream(stream)
        model.zero_grad(set_to_none=True)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
        torch.cuda.synchronize()
        return graph.replay
    except Exception as error:  # report and go on: the other columns stand
        print(f"CUDA graph capture failed ({type(error).__name__}: {error})")
        return None


def _time_interleaved(
    runs: dict, mode: str, device: torch.device, repeats: int, warmup: int, timer: str
) -> dict[str, list[float]]:
    """Seconds per run of each implementation, their repetitions alternating."""
    clock = time.process_time if timer == "cpu" else time.perf_counter
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for i in range(warmup + repeats):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            model, fns = runs[name]
            if fns[mode] is None:  # a CUDA graph that could not be captured
                continue
            if model is not None:
                model.zero_grad(set_to_none=True)
            sync()
            start = clock()
            fns[mode]()
            sync()
            if i >= warmup:
                times[name].append(clock() - start)
    return times


def run_benchmark(
    cases: Sequence[Case] = GRID,
    device: str | torch.device = "cpu",
    modes: Sequence[str] = MODES,
    repeats: int = 20,
    warmup: int = 3,
    timer: str = "wall",
    dtype: torch.dtype = torch.float32,
    cuda_graph: bool = False,
) -> list[dict]:
    """Time rnn_lib's module and torch.nn's on each case and mode.

    Args:
        cases: the sizes to run.
        device: where to run (``'cpu'`` or ``'cuda'``).
        modes: a subset of :data:`MODES`.
        repeats: timed runs per implementation (after ``warmup`` untimed ones).
        timer: ``'wall'`` (``time.perf_counter``) or ``'cpu'`` (the process's
            CPU time, steadier on a shared machine; CPU device only).
        dtype: the parameters' and inputs' dtype.
        cuda_graph: also time rnn_lib replayed from CUDA graphs (CUDA only),
            which removes the per-step Python and kernel-launch overhead.

    Returns:
        one dict per (case, mode) with the case's fields, ``mode``, ``flops``,
        ``rnn_lib_ms`` and ``torch_ms`` (medians), ``ratio`` (rnn_lib / torch)
        and ``rnn_lib_gflops``, ``torch_gflops``; with ``cuda_graph`` also
        ``graph_ms`` and ``graph_ratio`` (graph / torch), None where the
        capture failed.
    """
    device = torch.device(device)
    for mode in modes:
        check_choice("mode", mode, MODES)
    check_choice("timer", timer, ("wall", "cpu"))
    if timer == "cpu" and device.type != "cpu":
        raise ValueError(f"timer='cpu' measures the CPU only, got device {device}")
    check_int("repeats", repeats)
    if cuda_graph and device.type != "cuda":
        raise ValueError(f"cuda_graph=True needs a CUDA device, got {device}")
    results = []
    for case in cases:
        torch.manual_seed(0)
        runs = _make_runs(case, device, dtype, cuda_graph)
        for mode in modes:
            times = _time_interleaved(runs, mode, device, repeats, warmup, timer)
            ours = statistics.median(times["rnn_lib"])
            theirs = statistics.median(times["torch"])
            work = flops(case, mode)
            row = {
                **asdict(case),
                "mode": mode,
                "flops": work,
                "rnn_lib_ms": ours * 1e3,
                "torch_ms": theirs * 1e3,
                "ratio": ours / theirs,
                "rnn_lib_gflops": work / ours / 1e9,
                "torch_gflops": work / theirs / 1e9,
            }
            if cuda_graph:
                graphed = times["rnn_lib+graph"]
                graph = statistics.median(graphed) if graphed else None
                row["graph_ms"] = None if graph is None else graph * 1e3
                row["graph_ratio"] = None if graph is None else graph / theirs
            results.append(row)
    return results


def geometric_means(
    results: Sequence[dict], key: str = "ratio", kind: str | None = None
) -> dict[str, float]:
    """The geometric mean of the ratios ``key`` (rnn_lib / torch), per mode.

    Rows where ``key`` is missing or None (a failed CUDA graph) are left out;
    with ``kind``, only that kind's rows count.
    """
    by_mode: dict[str, list[float]] = {}
    for row in results:
        if kind is not None and row.get("kind", "rnn") != kind:
            continue
        if row.get(key) is not None:
            by_mode.setdefault(row["mode"], []).append(row[key])
    return {
        mode: math.exp(statistics.fmean(math.log(r) for r in ratios))
        for mode, ratios in by_mode.items()
    }


def format_table(results: Sequence[dict], device: str) -> str:
    """The results as a plain-text table, with the geometric means below."""
    reference = "cuDNN" if torch.device(device).type == "cuda" else "torch"
    graphs = any("graph_ms" in row for row in results)
    header = (
        f"{'case':<42} {'mode':<17} {'rnn_lib ms':>10} {reference + ' ms':>10} "
        f"{'ratio':>6} {'rnn_lib GF/s':>12} {reference + ' GF/s':>11}"
    )
    if graphs:
        header += f" {'graph ms':>9} {'ratio':>6}"
    lines = [header, "-" * len(header)]
    for row in results:
        case = case_of(row)
        line = (
            f"{case.label():<42} {row['mode']:<17} {row['rnn_lib_ms']:>10.3f} "
            f"{row['torch_ms']:>10.3f} {row['ratio']:>6.2f} "
            f"{row['rnn_lib_gflops']:>12.2f} {row['torch_gflops']:>11.2f}"
        )
        if graphs and row.get("graph_ms") is not None:
            line += f" {row['graph_ms']:>9.3f} {row['graph_ratio']:>6.2f}"
        elif graphs:
            line += f" {'failed':>9} {'':>6}"
        lines.append(line)
    lines.append("-" * len(header))
    kinds = sorted({row.get("kind", "rnn") for row in results}, key=list(KINDS).index)
    for kind in kinds:
        for mode, mean in geometric_means(results, kind=kind).items():
            lines.append(
                f"geometric mean of the ratios, {kind.upper()}, {mode}: {mean:.2f}"
            )
        graphs = geometric_means(results, "graph_ratio", kind=kind)
        for mode, mean in graphs.items():
            lines.append(
                f"geometric mean of the ratios, {kind.upper()}, {mode}, "
                f"CUDA graph: {mean:.2f}"
            )
    return "\n".join(lines)


def case_of(row: dict) -> Case:
    """The :class:`Case` a result row was measured on."""
    fields = ("L", "N", "H_in", "H", "num_layers", "bidirectional")
    return Case(*(row[k] for k in fields), kind=row.get("kind", "rnn"))


def _parse_case(text: str) -> Case:
    parts = text.split(",")
    if len(parts) not in (4, 5, 6):
        raise argparse.ArgumentTypeError(
            f"expected L,N,H_in,H[,layers[,bi]], got {text!r}"
        )
    try:
        sizes = [int(p) for p in parts[:5]]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integer sizes, got {text!r}"
        ) from None
    if len(parts) == 6 and parts[5] not in ("bi", "uni"):
        raise argparse.ArgumentTypeError(
            f"expected 'bi' or 'uni' last, got {parts[5]!r}"
        )
    return Case(*sizes, bidirectional=len(parts) == 6 and parts[5] == "bi")


def _cases(args) -> list[Case]:
    """The cases the command line asks for: --case sizes for every --kind."""
    kinds = args.kind or list(KINDS)
    if args.case:
        return [replace(case, kind=kind) for kind in kinds for case in args.case]
    grid = QUICK_GRID if args.quick else GRID
    return [case for case in grid if case.kind in kinds]


# ---------------------------------------------------------------------------
# Chapter 10: the loop against the parallel scan

#: The lengths and the two sizes (N, H) that --scan times: a small state, where
#: the loop's per-step overhead dominates, and a large one, where arithmetic does.
SCAN_LENGTHS = (16, 64, 256, 1024, 4096)
SCAN_SIZES = ((8, 32), (64, 256))


def _scan_runs(a: torch.Tensor, b: torch.Tensor) -> dict:
    """For ``'loop'`` and ``'scan'``, ``(None, {mode: function that runs it once})``."""
    cotangent = torch.randn_like(b)

    def runs(method):
        def forward():
            with torch.no_grad():
                linear_recurrence(a, b, method=method)

        def forward_backward():
            h = linear_recurrence(a, b, method=method)
            torch.autograd.grad(h, (a, b), cotangent)

        return None, {"forward": forward, "forward+backward": forward_backward}

    return {"loop": runs("loop"), "scan": runs("scan")}


def scan_timings(
    lengths: Sequence[int] = SCAN_LENGTHS,
    sizes: Sequence[tuple[int, int]] = SCAN_SIZES,
    device: str | torch.device = "cpu",
    modes: Sequence[str] = ("forward", "forward+backward"),
    repeats: int = 10,
    warmup: int = 2,
    timer: str = "wall",
    dtype: torch.dtype = torch.float32,
) -> list[dict]:
    """Time ``linear_recurrence`` with ``method='loop'`` and ``'scan'``, interleaved.

    For each size (N, H), length L and mode (``'forward'``, or
    ``'forward+backward'`` from a fixed cotangent), the two methods run on the
    same inputs (coefficients in (0, 1)), their repetitions alternating.

    Returns:
        one dict per (size, L, mode) with ``L``, ``N``, ``H``, ``mode``,
        ``loop_ms`` and ``scan_ms`` (medians) and ``speedup`` (loop / scan:
        above 1 means the scan is faster).
    """
    device = torch.device(device)
    for mode in modes:
        check_choice("mode", mode, MODES[:2])
    check_choice("timer", timer, ("wall", "cpu"))
    check_int("repeats", repeats)
    results = []
    for N, H in sizes:
        for L in lengths:
            generator = torch.Generator().manual_seed(0)
            a = torch.rand(L, N, H, generator=generator).to(device, dtype)
            b = torch.randn(L, N, H, generator=generator).to(device, dtype)
            implementations = _scan_runs(a.requires_grad_(), b.requires_grad_())
            for mode in modes:
                times = _time_interleaved(
                    implementations, mode, device, repeats, warmup, timer
                )
                loop, scanned = (statistics.median(times[k]) for k in ("loop", "scan"))
                results.append(
                    {
                        "L": L,
                        "N": N,
                        "H": H,
                        "mode": mode,
                        "loop_ms": loop * 1e3,
                        "scan_ms": scanned * 1e3,
                        "speedup": loop / scanned,
                    }
                )
    return results


def format_scan_table(results: Sequence[dict]) -> str:
    """:func:`scan_timings`' results as a plain-text table."""
    header = (
        f"{'N':>4} {'H':>5} {'L':>6} {'mode':<17} {'loop ms':>9} {'scan ms':>9} "
        f"{'loop / scan':>11}"
    )
    lines = [header, "-" * len(header)]
    for row in results:
        lines.append(
            f"{row['N']:>4} {row['H']:>5} {row['L']:>6} {row['mode']:<17} "
            f"{row['loop_ms']:>9.3f} {row['scan_ms']:>9.3f} {row['speedup']:>11.2f}"
        )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_lib.bench",
        description="Time rnn_lib's RNN, LSTM and GRU against torch.nn's (cuDNN on CUDA).",
    )
    parser.add_argument(
        "--device",
        choices=("all", "cpu", "cuda"),
        default="all",
        help="where to run; 'all' (default) is the CPU and CUDA when present",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small grid, a few seconds"
    )
    parser.add_argument(
        "--case",
        action="append",
        type=_parse_case,
        metavar="L,N,H_in,H[,layers[,bi]]",
        help="run this case instead of the grid (repeatable)",
    )
    parser.add_argument(
        "--kind",
        action="append",
        choices=tuple(KINDS),
        help="rnn, lstm or gru (repeatable; default all three)",
    )
    parser.add_argument(
        "--repeats", type=int, default=20, help="timed runs (default 20)"
    )
    parser.add_argument(
        "--warmup", type=int, default=3, help="untimed runs (default 3)"
    )
    parser.add_argument(
        "--timer",
        choices=("wall", "cpu"),
        default="wall",
        help="wall-clock time (default) or the process's CPU time (CPU only)",
    )
    parser.add_argument("--threads", type=int, help="torch.set_num_threads on the CPU")
    parser.add_argument(
        "--dtype",
        choices=("float32", "float64"),
        default="float32",
        help="default float32",
    )
    parser.add_argument(
        "--cuda-graph",
        action="store_true",
        help="on CUDA, also time rnn_lib replayed from CUDA graphs",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--scan",
        action="store_true",
        help="time rnn_lib.scan's loop against its parallel scan instead (chapter 10)",
    )
    return parser


def _devices(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[str]:
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda, but torch sees no CUDA device")
    if args.device == "all":
        return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    return [args.device]


def _scan_report(args: argparse.Namespace, devices: list[str]) -> dict:
    """Chapter 10's loop against scan on each device, printed as it goes."""
    report = {"torch": torch.__version__, "threads": torch.get_num_threads()}
    for device in devices:
        print(f"\n{device}: linear_recurrence, loop against scan, {args.dtype}")
        rows = scan_timings(
            (4, 16) if args.quick else SCAN_LENGTHS,
            ((2, 4),) if args.quick else SCAN_SIZES,
            device=device,
            repeats=args.repeats,
            warmup=args.warmup,
            timer=args.timer if device == "cpu" else "wall",
            dtype=getattr(torch, args.dtype),
        )
        print(format_scan_table(rows))
        report[device] = rows
    return report


def _module_report(args: argparse.Namespace, devices: list[str]) -> dict:
    """rnn_lib's modules against torch.nn's on each device, printed as it goes."""
    cases = _cases(args)
    report = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "timer": args.timer,
        "statistic": "median",
        "flop_formula": (
            "matrix products only, G gate blocks (RNN 1, GRU 3, LSTM 4): forward "
            "2*L*N*G*H*(I+H) per layer and direction; backward adds "
            "2*L*N*G*H*(I+H) + 2*L*N*G*H*H, plus 2*L*N*G*H*I for layers after the "
            "first; I = H_in for the first layer, D*H after it"
        ),
        "runs": [],
    }
    for device in devices:
        report["runs"].append(_device_run(args, device, cases))
    return report


def _device_run(args: argparse.Namespace, device: str, cases: list[Case]) -> dict:
    name = torch.cuda.get_device_name() if device == "cuda" else platform.processor()
    print(
        f"\n{device} ({name or 'unknown'}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {args.dtype}, median of {args.repeats}"
    )
    graph = args.cuda_graph and device == "cuda"
    dtype = getattr(torch, args.dtype)
    results = run_benchmark(
        cases, device, MODES, args.repeats, args.warmup, args.timer, dtype, graph
    )
    print(format_table(results, device))
    run = {
        "device": device,
        "device_name": name,
        "reference": "cuDNN" if device == "cuda" else "torch.nn (CPU)",
        "results": results,
        "geomean": {
            kind: geometric_means(results, kind=kind)
            for kind in KINDS
            if any(row["kind"] == kind for row in results)
        },
    }
    if graph:
        run["geomean_graph"] = {
            kind: geometric_means(results, "graph_ratio", kind=kind)
            for kind in run["geomean"]
        }
    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = _devices(args, parser)
    report = _scan_report(args, devices) if args.scan else _module_report(args, devices)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
