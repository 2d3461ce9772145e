"""Each submission in a sandbox of its own, and every process it started ended.

Used by ``grade`` (the book's Exercises part). :func:`run` starts a command
(the notebook runner, :mod:`rnn_lib.grading.execute`) in a sandbox and
returns when it and every process it started are gone. The sandbox is the
first of these that works on the machine (:func:`backend` tries each once):

``bwrap``
    bubblewrap (Debian's ``bubblewrap``): new user, mount, PID, network,
    IPC and UTS namespaces; the whole file system read-only; a fresh
    ``/tmp``, ``/dev`` and ``/dev/shm``; only the submission's working
    folder writable; the folders of the submissions and of the grades
    hidden; no network.
``unshare``
    the same namespaces with util-linux's ``unshare``, and this file run
    inside as a small init (:func:`main`) that makes the same mounts.
``none``
    no isolation of files or network (a warning says so): the submission
    can write wherever the instructor can.

In every case the submission has its own HOME, IPYTHONDIR, Jupyter runtime
folder, TMPDIR and working folder, all inside a temporary folder that
:func:`run`'s caller deletes, and a cleaned environment (no variables of the
instructor's but PATH and the locale). In the two sandboxes the runner is
process 1 of its PID namespace: when it exits, the kernel ends every process
in the namespace, ``setsid`` or not. Without one, the grader becomes a child
subreaper (``PR_SET_CHILD_SUBREAPER``), so that orphaned processes come back
to it, and :func:`sweep` ends every process that carries the run's token in
its environment, and every orphan. Read next: :mod:`rnn_lib.grading.execute`.
"""

from __future__ import annotations

import ctypes
import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

BACKENDS = ("bwrap", "unshare", "none")
TOKEN = "RNN_GRADE_JOB"
KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
UNSHARE = [
    "unshare", "--user", "--map-root-user", "--mount", "--pid", "--fork",
    "--kill-child", "--mount-proc", "--net", "--ipc", "--uts",
]  # fmt: skip
_RISK = (
    "submissions run with your permissions and can write wherever you can, and "
    "their processes are ended by a search instead of a PID namespace"
)
NO_SANDBOX = (
    f"no sandbox tool works here (bubblewrap, or unshare with user namespaces): "
    f"{_RISK}. Install bubblewrap (Debian: apt-get install bubblewrap) to isolate "
    "them."
)
UNSANDBOXED = f"grading without a sandbox, as asked: {_RISK}."

_libc = ctypes.CDLL(None, use_errno=True)


def _folders(work: Path) -> dict[str, Path]:
    """The submission's own folders inside its working folder."""
    names = ("home", "ipython", "runtime", "tmp", "config", "cache", "run")
    return {name: work / name for name in names}


def environment(work: Path, token: str) -> dict[str, str]:
    """The sandboxed run's environment: folders of its own, one thread, a token."""
    kept = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    folders = _folders(work)
    return {
        **kept,
        "HOME": str(folders["home"]),
        "IPYTHONDIR": str(folders["ipython"]),
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "JUPYTER_CONFIG_DIR": str(folders["config"]),
        "TMPDIR": str(folders["tmp"]),
        "MPLCONFIGDIR": str(folders["config"]),
        "XDG_CACHE_HOME": str(folders["cache"]),
        "XDG_CONFIG_HOME": str(folders["config"]),
        "PYTHONDONTWRITEBYTECODE": "1",
        # one thread per kernel: the checks use small tensors, and the CPU
        # limit then means the same on every machine
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        TOKEN: token,
    }


def _kept_paths() -> list[Path]:
    """What the runner needs to read: the Python installation and rnn_lib."""
    import rnn_lib  # only its location is needed (this file also runs alone)

    package = Path(rnn_lib.__file__).resolve().parent
    paths = {Path(sys.prefix), Path(sys.base_prefix), package.parent}
    paths.add((package / "grading" / "solutions").resolve())
    return sorted(paths)


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _hideable(folders: Iterable[Path], kept: list[Path]) -> list[Path]:
    """The folders to hide that hold nothing the runner needs and are not in /tmp."""
    found = []
    for folder in sorted({Path(f).resolve() for f in folders}):
        if _under(folder, Path("/tmp")) or folder == Path("/"):
            continue  # the sandbox's /tmp is fresh anyway
        if any(_under(path, folder) for path in kept):
            continue
        found.append(folder)
    return found


def wrap(
    backend: str, command: list[str], work: Path, env: dict, hidden: Iterable[Path]
) -> list[str]:
    """``command`` as the backend runs it (for ``none``, unchanged)."""
    kept = _kept_paths()
    hide = _hideable(hidden, kept)
    if backend == "bwrap":
        argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        argv += ["--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
        for path in kept:
            if _under(path, Path("/tmp")):
                argv += ["--ro-bind", str(path), str(path)]
        argv += ["--bind", str(work), str(work)]
        for folder in hide:
            argv += ["--tmpfs", str(folder)]
        argv += ["--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1"]
        argv += ["--chdir", str(work), "--clearenv"]
        for name, value in env.items():
            argv += ["--setenv", name, value]
        return [*argv, "--", *command]
    if backend == "unshare":
        init = [sys.executable, str(Path(__file__).resolve()), str(work)]
        init += [f"--keep={path}" for path in kept if _under(path, Path("/tmp"))]
        init += [f"--hide={folder}" for folder in hide]
        return [*UNSHARE, *init, "--", *command]
    return list(command)


def _works(name: str) -> str:
    """'' if the backend runs a command here, else why not."""
    if shutil.which(name) is None:
        return f"{name} is not installed"
    work = Path(tempfile.gettempdir()).resolve()
    probe = wrap(name, [sys.executable, "-c", "pass"], work, {"PATH": "/usr/bin"}, [])
    try:
        done = subprocess.run(probe, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        return f"{name} failed: {error}"
    tail = done.stderr.decode(errors="replace").strip()[-300:]
    return "" if done.returncode == 0 else f"{name} failed: {tail}"


@functools.cache
def backend(choice: str = "auto") -> str:
    """The sandbox to use: ``choice``, or for ``'auto'`` the first of :data:`BACKENDS` that works.

    Raises:
        ValueError: if ``choice`` is not one of them, or does not work here.
    """
    if choice not in ("auto", *BACKENDS):
        raise ValueError(f"sandbox must be 'auto' or one of {BACKENDS}, got {choice!r}")
    if choice not in ("auto", "none"):
        why = _works(choice)
        if why:
            raise ValueError(f"the sandbox {choice} does not work here: {why}")
        return choice
    for name in BACKENDS[:-1] if choice == "auto" else ():
        if not _works(name):
            return name
    warnings.warn(NO_SANDBOX if choice == "auto" else UNSANDBOXED, stacklevel=2)
    return "none"


# -- ending every process a run started ------------------------------------------


def _set_subreaper(on: bool) -> None:
    """Orphaned descendants come back to this process (Linux; elsewhere nothing)."""
    if sys.platform.startswith("linux"):
        _libc.prctl(36, int(on), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


class Subreaper:
    """While it is entered, this process is the child subreaper of what it starts."""

    def __enter__(self) -> Subreaper:
        _set_subreaper(True)
        return self

    def __exit__(self, *exc) -> None:
        _set_subreaper(False)


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours to read
        return b""


def _children() -> set[int]:
    """This process's children (its threads' too), from /proc."""
    found: set[int] = set()
    for task in Path("/proc/self/task").glob("*"):
        try:
            found.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _carrying(token: str) -> list[int]:
    """The processes whose environment holds ``TOKEN=token``."""
    marker = f"{TOKEN}={token}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        pid = int(entry.name)
        if pid != os.getpid() and marker in _environ(pid).split(b"\0"):
            found.append(pid)
    return found


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: its own parent reaps it
        pass


# The runs of this process: the first process of each run still going, and
# every run's token (a run's processes carry it in their environment).
_LIVE: set[int] = set()
_TOKENS: set[str] = set()


def sweep(token: str) -> None:
    """End every process of the run ``token``, and every orphan come back here.

    An orphan is a child of this process that carries a run's token and is
    not the first process of a run still going.
    """
    if not Path("/proc/self/task").is_dir():
        return  # no /proc: only the process group was ours to end
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # orphans of any run come back here (the subreaper); they carry a token
        orphans = [
            pid
            for pid in _children()
            if pid not in _LIVE and f"{TOKEN}=".encode() in _environ(pid)
        ]
        found = set(_carrying(token)) | set(orphans)
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _reap(pid)
        time.sleep(0.02)


def sweep_all() -> None:
    """:func:`sweep` every run this process started."""
    for token in sorted(_TOKENS):
        sweep(token)


def run(
    command: list[str],
    work: Path,
    timeout: float,
    log: Path,
    hidden: Iterable[Path] = (),
    choice: str = "auto",
) -> int:
    """Run ``command`` sandboxed in ``work``; its return code, once all it started is gone.

    Args:
        command: what to run (its first process becomes process 1 of the sandbox).
        work: the run's working folder, the only one it can write to.
        timeout: seconds before the whole run is killed (the runner keeps its
            own, shorter, overall limit and reports it).
        log: where its stderr goes.
        hidden: folders the run must not see (the submissions, the grades).
        choice: the sandbox (see :func:`backend`).
    """
    for folder in _folders(work).values():
        folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    _TOKENS.add(token)
    env = environment(work, token)
    which = backend(choice)
    argv = wrap(which, command, work, env, hidden)
    with open(log, "wb") as stderr:
        child = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=stderr, cwd=work, env=env,
            start_new_session=True,  # no preexec_fn: with --jobs, threads fork
        )  # fmt: skip
        _LIVE.add(child.pid)
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        finally:
            _LIVE.discard(child.pid)
    sweep(token)
    return child.returncode


# -- the init of the unshare sandbox ---------------------------------------------

MS_BIND, MS_REC, MS_RDONLY, MS_PRIVATE = 4096, 16384, 1, 1 << 18
SYS_MOUNT_SETATTR = 442  # the same number on x86-64 and arm64
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 1


class _MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("set", "clear", "prop", "userns")]


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    result = _libc.mount(encode(source), target.encode(), encode(kind), flags, None)
    _check(result, f"mount {target}")


def _read_only(path: str, recursive: bool, on: bool = True) -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY if on else 0, 0 if on else MOUNT_ATTR_RDONLY)
    flags = AT_RECURSIVE if recursive else 0
    result = _libc.syscall(
        SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), flags, ctypes.byref(attr),
        ctypes.sizeof(attr),
    )  # fmt: skip
    _check(result, f"mount_setattr {path}")


def main(argv: list[str]) -> None:
    """Inside ``unshare``: make the mounts, then become the command (as process 1).

    ``argv``: the working folder, ``--keep=PATH`` (read-only paths in /tmp
    to keep), ``--hide=FOLDER``, then ``--`` and the command.
    """
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1 :]
    work = options[0]
    keep = [o.removeprefix("--keep=") for o in options if o.startswith("--keep=")]
    hide = [o.removeprefix("--hide=") for o in options if o.startswith("--hide=")]
    # Opened before /tmp is covered; bound back below through /proc/self/fd.
    handles = {path: os.open(path, os.O_RDONLY) for path in [work, *keep]}
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _read_only("/", recursive=True)
    _mount("tmpfs", "/tmp", "tmpfs", 0)
    _mount("tmpfs", "/dev/shm", "tmpfs", 0)
    for path, handle in handles.items():
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
        _read_only(path, recursive=path != work, on=path != work)
        os.close(handle)
    for folder in hide:
        _mount("tmpfs", folder, "tmpfs", MS_RDONLY)
    os.chdir(work)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
