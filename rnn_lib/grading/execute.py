"""Run one notebook in a fresh kernel, sandboxed, with limits.

Used by ``grade`` (the Exercises part of the book). :func:`run_isolated`
writes the notebook into the submission's working folder and runs this file
as a script (``python execute.py IN OUT ...``, so that it imports nothing
but nbclient) in the submission's sandbox (:mod:`rnn_lib.grading.sandbox`),
with a memory limit (``RLIMIT_DATA``) and a CPU-time limit (``RLIMIT_CPU``)
that the kernel inherits. The runner executes every cell with a per-cell
timeout (a timed-out cell is interrupted and the next one runs), keeps at
most ``output_cap`` bytes of output per cell, records each cell's *reply
status* from the kernel (an exception swallowed by a custom handler still
makes the reply an error), and writes the executed notebook with a small
report to OUT. It keeps the overall timeout itself (an alarm: it kills its
kernel and writes what it has); the sandbox is killed as a last resort.
The kernel talks to it over Unix sockets in the working folder (the sandbox
has no network).

Everything in OUT was written inside the sandbox, where the submission's
code ran: :func:`read_report` treats it as untrusted data.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from traitlets.config import Config

TRUNCATED = "\n[output truncated by the grader]\n"
SETUP_TIMEOUT = 120  # seconds for the first code cell, whatever the cell timeout
REPORT_BYTES = 32 * 2**20  # a larger report is not read
GRACE = 20  # seconds past the runner's own timeout before the sandbox is killed


class LimitedClient(NotebookClient):
    """A NotebookClient that caps each cell's output and records replies and timeouts."""

    def __init__(self, nb, output_cap: int, **kwargs):
        super().__init__(nb, **kwargs)
        self.output_cap = output_cap
        self.output_sizes: dict[int, int] = {}
        self.timed_out: list[int] = []
        # the kernel's reply to each cell that ran to its end: status, ename, evalue
        self.replies: dict[int, dict] = {}

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

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        content = (exec_reply or {}).get("content", {})
        self.replies[cell_index] = {
            key: str(content.get(key, ""))[:2000]
            for key in ("status", "ename", "evalue")
        }
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

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


def _client(nb, cell_timeout: float, output_cap: int, work: Path) -> LimitedClient:
    config = Config()
    config.KernelManager.transport = "ipc"  # Unix sockets: no network needed
    config.KernelManager.ip = str(work / "runtime" / "kernel")
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
        resources={"metadata": {"path": str(work / "run")}},
        config=config,
    )


def _write(target: Path, nb, report: dict, client: LimitedClient) -> None:
    report["timed_out"] = sorted(set(client.timed_out))
    report["replies"] = {str(index): reply for index, reply in client.replies.items()}
    report["notebook"] = nb
    target.write_text(json.dumps(report, default=str), encoding="utf-8")


def _execute(source: Path, target: Path, args: argparse.Namespace) -> None:
    _limit(args.memory_mb, args.timeout)
    nb = nbformat.read(source, as_version=4)
    report: dict = {"failure": ""}
    client = _client(nb, args.cell_timeout, args.output_cap, source.parent)

    def stop(signum, frame):  # the overall timeout
        try:
            provisioner = getattr(client.km, "provisioner", None)
            process = getattr(provisioner, "process", None)
            if process is not None:  # the kernel has its own session
                os.killpg(process.pid, signal.SIGKILL)
            report["failure"] = "timeout"
            _write(target, nb, report, client)
        finally:
            os._exit(3)

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        client.execute()
    except DeadKernelError as error:
        report["failure"] = (
            f"the kernel died ({error}): a crash, or memory beyond the limit"
        )
    except Exception as error:  # nbclient's own failures: starting the kernel, ...
        report["failure"] = f"{type(error).__name__}: {error}"
    signal.setitimer(signal.ITIMER_REAL, 0)
    _write(target, nb, report, client)


def _limit(memory_mb: int, timeout: float) -> None:
    """Limit this process's memory and CPU time; the kernel it starts inherits them.

    Set here, in the runner, not in a ``preexec_fn`` of the grader: the grader
    starts runs from several threads, and a fork of a threaded process that
    runs Python before exec can deadlock.
    """
    memory = memory_mb * 2**20
    cpu = int(timeout) + 30
    # RLIMIT_DATA counts the heap and private writable mappings (every tensor),
    # not address space merely reserved (thread stacks, malloc arenas), which
    # grows with the number of cores.
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))


def _no_report(why: str) -> dict:
    return {"notebook": None, "timed_out": [], "replies": {}, "failure": why}


def read_report(target: Path, log: Path, returncode: int) -> dict:
    """The runner's report, checked, or one that says why there is none.

    Returns:
        ``notebook`` (the executed cells, or None), ``replies`` (cell index ->
        the kernel's reply: ``status``, ``ename``, ``evalue``, for the cells
        that ran to their end), ``timed_out`` (indices of cells that ran past
        the cell timeout) and ``failure`` ('' when the run finished;
        ``'timeout'`` past the overall timeout; otherwise what went wrong).
    """
    timed_out = returncode in (3, -signal.SIGKILL)
    if not target.is_file() or target.stat().st_size > REPORT_BYTES:
        tail = log.read_text(encoding="utf-8", errors="replace")[-500:].strip()
        return _no_report("timeout" if timed_out else tail or "the run failed")
    try:
        report = json.loads(target.read_text(encoding="utf-8", errors="replace"))
        replies = {
            int(index): {key: str(reply[key]) for key in ("status", "ename", "evalue")}
            for index, reply in report["replies"].items()
        }
        checked = {
            "notebook": nbformat.from_dict(report["notebook"]),
            "timed_out": [int(index) for index in report["timed_out"]],
            "replies": replies,
            "failure": str(report["failure"]),
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return _no_report("the run's report was malformed")
    if timed_out:
        checked["failure"] = "timeout"
    return checked


def run_isolated(
    nb: nbformat.NotebookNode,
    cell_timeout: float,
    timeout: float,
    memory_mb: int,
    output_cap: int = 100_000,
    work: Path | None = None,
    hidden: tuple[Path, ...] = (),
    sandbox_choice: str = "auto",
) -> dict:
    """Execute ``nb`` in a sandbox and a fresh kernel, within limits; see :func:`read_report`.

    Args:
        work: the submission's working folder (made and removed here if None).
        hidden: folders the run must not see.
        sandbox_choice: the sandbox (:func:`rnn_lib.grading.sandbox.backend`).
    """
    # Imported here: this file also runs alone, in the sandbox, without rnn_lib.
    from rnn_lib.grading import sandbox

    if work is None:
        with tempfile.TemporaryDirectory(prefix="rnn-grade-") as folder:
            return run_isolated(
                nb, cell_timeout, timeout, memory_mb, output_cap, Path(folder),
                hidden, sandbox_choice,
            )  # fmt: skip
    source, target, log = work / "in.ipynb", work / "out.json", work / "log"
    nbformat.write(nb, source)
    command = [
        sys.executable, str(Path(__file__).resolve()), str(source), str(target),
        "--cell-timeout", str(cell_timeout), "--timeout", str(timeout),
        "--output-cap", str(output_cap), "--memory-mb", str(memory_mb),
    ]  # fmt: skip
    returncode = sandbox.run(
        command, work, timeout + GRACE, log, hidden, sandbox_choice
    )
    return read_report(target, log, returncode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one notebook (used by grade).")
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--cell-timeout", type=float, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--output-cap", type=int, required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args(argv)
    _execute(args.source, args.target, args)


if __name__ == "__main__":
    main()
