"""Run one notebook in a fresh kernel, in a child process with limits.

Used by ``grade`` (the Exercises part of the book). :func:`run_isolated`
starts ``python -m rnn_lib.grading.execute IN OUT`` in a new session with a
memory limit (``RLIMIT_DATA``) and a CPU-time limit (``RLIMIT_CPU``),
both inherited by the kernel it starts. The child executes every cell with a
per-cell timeout (a timed-out cell is interrupted and the next one runs),
keeps at most ``output_cap`` bytes of output per cell, and writes the executed
notebook with a small report to OUT. The parent kills the child (and its
kernel) when the whole run exceeds its timeout: SIGUSR1 asks it to kill its
kernel and write what it has, SIGKILL follows if it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

TRUNCATED = "\n[output truncated by the grader]\n"
SETUP_TIMEOUT = 120  # seconds for the first code cell, whatever the cell timeout


class LimitedClient(NotebookClient):
    """A NotebookClient that caps each cell's output and records timeouts."""

    def __init__(self, nb, output_cap: int, **kwargs):
        super().__init__(nb, **kwargs)
        self.output_cap = output_cap
        self.output_sizes: dict[int, int] = {}
        self.timed_out: list[int] = []
        # cells that ran to the end (with or without error)
        self.completed: list[int] = []

    def output(self, outs, msg, display_id, cell_index):
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not outs or outs[-1] is not out:
            return out
        size = self.output_sizes.get(cell_index, 0)
        if size > self.output_cap:  # already truncated: drop silently
            outs.pop()
            return None
        room = self.output_cap - size
        size += len(json.dumps(out))
        self.output_sizes[cell_index] = size
        if size > self.output_cap:
            if out.get("output_type") == "stream" and room > 0:
                out["text"] = out["text"][:room]  # keep what fits
            else:
                outs.pop()
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=TRUNCATED))
        return out

    async def async_execute_cell(
        self, cell, cell_index, execution_count=None, store_history=True
    ):
        cell = await super().async_execute_cell(
            cell, cell_index, execution_count, store_history
        )
        self.completed.append(cell_index)
        return cell

    def _get_timeout(self, cell):
        # The setup cell imports torch, which can take long on a busy machine;
        # the student's code never runs in it.
        code = [c for c in self.nb.cells if c.cell_type == "code"]
        if code and cell is code[0]:
            return max(self.timeout, SETUP_TIMEOUT)
        return super()._get_timeout(cell)

    async def _async_handle_timeout(self, timeout, cell=None):
        if cell is not None:
            self.timed_out.append(self.nb.cells.index(cell))
        return await super()._async_handle_timeout(timeout, cell)


def _client(nb, cell_timeout: float, output_cap: int, workdir: str) -> LimitedClient:
    return LimitedClient(
        nb,
        output_cap,
        timeout=cell_timeout,
        kernel_name="python3",
        allow_errors=True,
        interrupt_on_timeout=True,
        error_on_timeout={
            "ename": "TimeoutError",
            "evalue": f"cell timed out after {cell_timeout:g} s",
            "traceback": [],
        },
        record_timing=False,
        resources={"metadata": {"path": workdir}},
    )


def _execute(source: Path, target: Path, cell_timeout: float, output_cap: int) -> None:
    nb = nbformat.read(source, as_version=4)
    report: dict = {"timed_out": [], "failure": ""}
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as workdir:
        client = _client(nb, cell_timeout, output_cap, workdir)

        def stop(signum, frame):  # the parent's overall timeout
            try:
                provisioner = getattr(client.km, "provisioner", None)
                process = getattr(provisioner, "process", None)
                if process is not None:  # the kernel has its own session
                    os.killpg(process.pid, signal.SIGKILL)
                report["failure"] = "timeout"
                _write(target, nb, report, client)
            finally:
                os._exit(3)

        # SIGUSR1, since nbclient takes SIGTERM and SIGINT for itself.
        signal.signal(signal.SIGUSR1, stop)
        try:
            client.execute()
        except DeadKernelError as error:
            report["failure"] = (
                f"the kernel died ({error}): a crash, or memory beyond the limit"
            )
        except Exception as error:  # nbclient's own failures: starting the kernel, ...
            report["failure"] = f"{type(error).__name__}: {error}"
        _write(target, nb, report, client)


def _write(target: Path, nb, report: dict, client: LimitedClient) -> None:
    report["timed_out"] = sorted(set(client.timed_out))
    report["completed"] = sorted(set(client.completed))
    report["notebook"] = nb
    target.write_text(json.dumps(report, default=str), encoding="utf-8")


def _limits(memory_mb: int, timeout: float) -> Callable[[], None]:
    """What the child sets before exec; the kernel it starts inherits it."""
    memory = memory_mb * 2**20
    cpu = int(timeout) + 30

    def limits() -> None:
        # RLIMIT_DATA counts the heap and private writable mappings (every tensor),
        # not address space merely reserved (thread stacks, malloc arenas), which
        # grows with the number of cores.
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    return limits


def _run_child(command: list[str], log: Path, limits, timeout: float) -> int:
    """Run ``command`` in a new session within ``timeout``; its return code."""
    # One thread per kernel: the checks use small tensors, submissions run one
    # after another, and the CPU limit then means the same on every machine.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with open(log, "wb") as stderr:
        child = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=stderr,
            preexec_fn=limits, start_new_session=True, env=env,
        )  # fmt: skip
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # it kills its kernel and writes what it has
            child.send_signal(signal.SIGUSR1)
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    return child.returncode


def _read_report(target: Path, log: Path, returncode: int) -> dict:
    """The child's report, or one that says why there is none."""
    if target.exists():
        report = json.loads(target.read_text(encoding="utf-8"))
        report["notebook"] = nbformat.from_dict(report["notebook"])
        if returncode == 3:
            report["failure"] = "timeout"
        return report
    tail = log.read_text(encoding="utf-8", errors="replace")[-500:]
    failure = "timeout" if returncode in (3, -signal.SIGKILL) else tail.strip()
    return {
        "notebook": None,
        "timed_out": [],
        "completed": [],
        "failure": failure or "the run failed",
    }


def run_isolated(
    nb: nbformat.NotebookNode,
    cell_timeout: float,
    timeout: float,
    memory_mb: int,
    output_cap: int = 100_000,
) -> dict:
    """Execute ``nb`` in a child process and a fresh kernel, within limits.

    Returns:
        a report: ``notebook`` (the executed cells, or None when nothing came
        back), ``completed`` (indices of the cells that ran to their end, with
        or without an error), ``timed_out`` (indices of cells that ran past
        ``cell_timeout``), ``failure`` ('' when the run finished;
        ``'timeout'`` when it ran past ``timeout``; otherwise what went wrong).
    """
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as folder:
        source, target, log = (
            Path(folder, name) for name in ("in.ipynb", "out.json", "log")
        )
        nbformat.write(nb, source)
        command = [
            sys.executable, "-m", "rnn_lib.grading.execute", str(source), str(target),
            "--cell-timeout", str(cell_timeout), "--output-cap", str(output_cap),
        ]  # fmt: skip
        returncode = _run_child(command, log, _limits(memory_mb, timeout), timeout)
        return _read_report(target, log, returncode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one notebook (used by grade).")
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--output-cap", type=int, required=True)
    args = parser.parse_args(argv)
    _execute(args.source, args.target, args.cell_timeout, args.output_cap)


if __name__ == "__main__":
    main()
