"""Tests for rnn_lib.bench: the CLI's JSON structure and arithmetic, not timings."""

import json
import math
import subprocess
import sys

import pytest

from rnn_lib import bench
from rnn_lib.bench import Case

TINY = [
    "--case",
    "3,2,2,3",
    "--case",
    "2,1,2,2,2,bi",
    "--kind",
    "rnn",
    "--kind",
    "lstm",
    "--repeats",
    "2",
    "--warmup",
    "1",
    "--threads",
    "1",  # a busy machine can stall a thread pool; one thread keeps this test quick
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnn_lib.bench",
            "--device",
            "cpu",
            *TINY,
            "--json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(path.read_text()), result.stdout


def test_json_structure(report):
    data, _ = report
    assert data["repeats"] == 2 and data["warmup"] == 1 and data["dtype"] == "float32"
    assert data["threads"] == 1
    assert data["statistic"] == "median" and "2*L*N*G*H*(I+H)" in data["flop_formula"]
    (run,) = data["runs"]
    assert run["device"] == "cpu"
    cases = {
        (
            r["kind"],
            r["L"],
            r["N"],
            r["H_in"],
            r["H"],
            r["num_layers"],
            r["bidirectional"],
        )
        for r in run["results"]
    }
    assert cases == {
        (kind, *sizes)
        for kind in ("rnn", "lstm")
        for sizes in [(3, 2, 2, 3, 1, False), (2, 1, 2, 2, 2, True)]
    }
    assert [r["mode"] for r in run["results"]] == list(bench.MODES) * 4
    assert set(run["geomean"]) == {"rnn", "lstm"}
    assert all(set(means) == set(bench.MODES) for means in run["geomean"].values())


def test_numbers_are_positive_and_consistent(report):
    data, _ = report
    (run,) = data["runs"]
    for row in run["results"]:
        case = bench.case_of(row)
        assert row["flops"] == bench.flops(case, row["mode"])
        assert row["rnn_lib_ms"] > 0 and row["torch_ms"] > 0
        assert row["ratio"] == pytest.approx(row["rnn_lib_ms"] / row["torch_ms"])
        assert row["rnn_lib_gflops"] == pytest.approx(
            row["flops"] / row["rnn_lib_ms"] / 1e6
        )
        assert row["torch_gflops"] == pytest.approx(
            row["flops"] / row["torch_ms"] / 1e6
        )
    for kind, means in run["geomean"].items():
        for mode, mean in means.items():
            ratios = [
                r["ratio"]
                for r in run["results"]
                if r["mode"] == mode and r["kind"] == kind
            ]
            assert len(ratios) == 2
            assert mean == pytest.approx(math.prod(ratios) ** (1 / len(ratios)))


def test_table_is_printed(report):
    _, stdout = report
    assert "RNN L=3 N=2 H_in=2 H=3" in stdout
    assert "LSTM L=2 N=1 H_in=2 H=2 layers=2 bi" in stdout
    assert "geometric mean of the ratios, LSTM, forward+backward" in stdout


def test_flops_by_hand():
    # One layer: forward 2*L*N*H*(H_in + H); backward adds the weight gradients
    # (the same again) and the gradient through time, 2*L*N*H*H.
    case = Case(L=10, N=4, H_in=3, H=5)
    forward = 2 * 10 * 4 * 5 * (3 + 5)
    assert bench.flops(case, "forward") == bench.flops(case, "inference") == forward
    assert bench.flops(case, "forward+backward") == 2 * forward + 2 * 10 * 4 * 5 * 5
    # Two bidirectional layers: the second reads 2*H features and passes a
    # gradient to its input, 2*L*N*H*(2H) more per direction.
    two = Case(L=10, N=4, H_in=3, H=5, num_layers=2, bidirectional=True)
    second = 2 * 10 * 4 * 5 * (10 + 5)
    assert bench.flops(two, "forward") == 2 * (forward + second)
    first_fb = 2 * forward + 2 * 10 * 4 * 5 * 5
    second_fb = 2 * second + 2 * 10 * 4 * 5 * 5 + 2 * 10 * 4 * 5 * 10
    assert bench.flops(two, "forward+backward") == 2 * (first_fb + second_fb)
    # An LSTM stacks four gate blocks, a GRU three: four and three times the work.
    for kind, G in (("lstm", 4), ("gru", 3)):
        gated = Case(
            L=10, N=4, H_in=3, H=5, num_layers=2, bidirectional=True, kind=kind
        )
        for mode in bench.MODES:
            assert bench.flops(gated, mode) == G * bench.flops(two, mode)


def test_run_benchmark_validates():
    with pytest.raises(
        ValueError,
        match=r"mode must be 'forward', 'forward\+backward' or 'inference', got 'backward'",
    ):
        bench.run_benchmark([Case(2, 1, 1, 1)], modes=["backward"])
    with pytest.raises(ValueError, match=r"timer must be 'wall' or 'cpu', got 'gpu'"):
        bench.run_benchmark([Case(2, 1, 1, 1)], timer="gpu")
    with pytest.raises(ValueError, match=r"repeats must be >= 1, got 0"):
        bench.run_benchmark([Case(2, 1, 1, 1)], repeats=0)
    with pytest.raises(
        ValueError, match=r"cuda_graph=True needs a CUDA device, got cpu"
    ):
        bench.run_benchmark([Case(2, 1, 1, 1)], cuda_graph=True)


def test_graph_columns_and_means():
    rows = [
        {
            **dict(L=2, N=1, H_in=1, H=1, num_layers=1, bidirectional=False),
            "mode": "forward",
            "rnn_lib_ms": 2.0,
            "torch_ms": 1.0,
            "ratio": 2.0,
            "rnn_lib_gflops": 1.0,
            "torch_gflops": 2.0,
            "graph_ms": 0.5,
            "graph_ratio": 0.5,
        },
        {
            **dict(L=3, N=1, H_in=1, H=1, num_layers=1, bidirectional=False),
            "mode": "forward",
            "rnn_lib_ms": 8.0,
            "torch_ms": 1.0,
            "ratio": 8.0,
            "rnn_lib_gflops": 1.0,
            "torch_gflops": 2.0,
            "graph_ms": None,
            "graph_ratio": None,
        },
    ]
    assert bench.geometric_means(rows) == {"forward": pytest.approx(4.0)}
    assert bench.geometric_means(rows, "graph_ratio") == {"forward": pytest.approx(0.5)}
    table = bench.format_table(rows, "cuda")
    assert "cuDNN ms" in table and "graph ms" in table and "failed" in table
    assert "geometric mean of the ratios, RNN, forward, CUDA graph: 0.50" in table


@pytest.mark.parametrize(
    "text,message",
    [
        ("1,2,3", r"expected L,N,H_in,H\[,layers\[,bi\]\], got '1,2,3'"),
        ("1,2,a,4", r"expected integer sizes, got '1,2,a,4'"),
        ("1,2,3,4,2,both", r"expected 'bi' or 'uni' last, got 'both'"),
    ],
)
def test_parse_case_rejects(text, message):
    with pytest.raises(Exception, match=message):
        bench._parse_case(text)


def test_parse_case():
    assert bench._parse_case("5,4,3,2") == Case(5, 4, 3, 2)
    assert bench._parse_case("5,4,3,2,3,bi") == Case(5, 4, 3, 2, 3, True)
    assert bench._parse_case("5,4,3,2,3,uni") == Case(5, 4, 3, 2, 3, False)
