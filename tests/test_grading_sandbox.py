"""rnn_lib.grading.sandbox: each run in a sandbox of its own, and nothing it starts outlives it.

Every backend that works on this machine is tried (bubblewrap and unshare
where user namespaces are allowed; CI installs bubblewrap): the run has its
own HOME and working folder, cannot write outside it nor reach the network,
sees a fresh /tmp, and a ``setsid`` child it started is gone when the run
returns. Without a sandbox (``none``) only the folders and the process search
hold, and the grader says so.
"""

import os
import subprocess
import sys
import time

import nbformat
import pytest
from test_grading_release import ROOT

from rnn_lib.grading import sandbox
from rnn_lib.grading.execute import run_isolated

PROBE = [
    "import os, socket, subprocess, sys\nprint(os.environ['HOME'])",
    f"open({str(ROOT / 'rnn-grade-sandbox-probe')!r}, 'w')",
    "socket.create_connection(('192.0.2.1', 80), timeout=2)",
    "open(os.path.join(os.environ['HOME'], 'x'), 'w').write('x'); print(os.listdir('/tmp'))",
    "subprocess.Popen(['setsid', 'sleep', '97531'])",
]


def _works(name: str) -> bool:
    try:
        return sandbox.backend(name) == name
    except ValueError:
        return False


BACKENDS = [
    pytest.param(name, marks=pytest.mark.skipif(not _works(name), reason=f"no {name}"))
    for name in ("bwrap", "unshare")
]


@pytest.mark.slow
@pytest.mark.parametrize("name", BACKENDS)
def test_a_sandboxed_run_is_isolated_and_leaves_nothing_running(name, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in PROBE]
    report = run_isolated(nb, 30, 120, 3072, work=tmp_path, sandbox_choice=name)
    errors = {
        i: r["ename"] for i, r in report["replies"].items() if r["status"] != "ok"
    }
    outputs = [cell.outputs for cell in report["notebook"].cells]
    assert outputs[0][0]["text"].strip() == str(tmp_path / "home")
    assert errors == {1: "OSError", 2: "OSError"}, report["replies"]
    assert "Read-only file system" in report["replies"][1]["evalue"]
    # a fresh /tmp: only the folders down to the working one
    assert (
        outputs[3][0]["text"].strip() == f"['{tmp_path.relative_to('/tmp').parts[0]}']"
    )
    assert not (ROOT / "rnn-grade-sandbox-probe").exists()
    assert (
        subprocess.run(["pgrep", "-f", "sleep 97531"], capture_output=True).stdout
        == b""
    )


@pytest.mark.slow
def test_without_a_sandbox_the_processes_still_end(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(PROBE[0]),
        nbformat.v4.new_code_cell(PROBE[4]),
    ]
    with (
        pytest.warns(UserWarning, match="grading without a sandbox"),
        sandbox.Subreaper(),
    ):
        report = run_isolated(nb, 30, 120, 3072, work=tmp_path, sandbox_choice="none")
    assert report["notebook"].cells[0].outputs[0]["text"].strip() == str(
        tmp_path / "home"
    )
    assert (
        subprocess.run(["pgrep", "-f", "sleep 97531"], capture_output=True).stdout
        == b""
    )


def test_a_sandbox_is_named_or_refused_clearly():
    with pytest.raises(ValueError, match="sandbox must be 'auto' or one of"):
        sandbox.backend("docker")
    assert sandbox.backend("auto") in sandbox.BACKENDS


def test_the_environment_holds_no_variable_of_the_instructor(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    env = sandbox.environment(tmp_path, "abc")
    assert "SECRET_TOKEN" not in env
    assert env["HOME"] == str(tmp_path / "home") and env[sandbox.TOKEN] == "abc"


def test_sweep_ends_every_process_that_carries_the_token():
    env = {**os.environ, sandbox.TOKEN: "sweep-test"}
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)"], env=env,
        start_new_session=True,
    )  # fmt: skip
    started = time.monotonic()
    sandbox.sweep("sweep-test")
    child.wait(timeout=10)
    assert child.returncode == -9 and time.monotonic() - started < 10
