"""Attacks on the batch grader: each scores zero or is neutralised.

Crafted submissions of exercise 3.1 (rnn_step), as an adversarial student
would write them, all inside the solution markers (a dedented line inside a
region runs at the top level of its cell):

- tampering with the checks from inside the kernel: replacing the check
  function, replacing ``torch.allclose`` from inside the function, swallowing
  exceptions with ``set_custom_exc``, returning a tensor subclass that equals
  everything, replacing the grader's answer function with one that writes a
  pickle that would run code in the grader;
- escaping the run: a ``setsid`` child that outlives it to rewrite the CSV, an
  IPython startup file for the next submissions' kernels, writing to rnn_lib's
  own files, reading another submission;
- refused calls: ``torch.rnn_tanh_cell``, and the same after switching the
  call recorder off.

Each attack answers with a wrong rnn_step (zeros) unless it says otherwise,
so that only a successful attack could earn its point. The attacks that
need the file system isolated are skipped where no sandbox works.
"""

import csv
import hashlib
import os
import pwd
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
import torch
from grading_submissions import notebook, run_in_process, solution_bodies
from test_grading_release import ROOT

import rnn_lib.grading as grading
from rnn_lib.grading import sandbox
from rnn_lib.grading.__main__ import main

NAME = "03_rnn_step"
GOOD = solution_bodies(NAME)
ZEROS = "    return torch.zeros_like(h)"
CHECKING = ROOT / "rnn_lib" / "grading" / "checking.py"
REAL_STARTUP = Path(
    pwd.getpwuid(os.getuid()).pw_dir, ".ipython", "profile_default", "startup"
)


def _attacks(tmp_path: Path) -> dict[str, str]:
    """The body of rnn_step of each attack, by the submission's name."""
    secret = tmp_path / "secret" / "answers.txt"
    pwned = tmp_path / "pwned"
    csv_path = tmp_path / "grades.csv"
    late_write = (
        f"import time; time.sleep(4); open({str(csv_path)!r}, 'a').write('x,2/2')"
    )
    return {
        "replaces_the_check": ZEROS + "\n\n\nimport rnn_lib.grading as _grading\n"
        "_grading.check_rnn_step = lambda f: print('rnn_step: all checks passed')",
        "replaces_allclose": "    torch.allclose = lambda *args, **kwargs: True\n"
        + ZEROS,
        "swallows_exceptions": ZEROS + "\n\n\nget_ipython().set_custom_exc(\n"
        "    (BaseException,), lambda *args, **kwargs: None\n)",
        "tensor_subclass": "    class Yes(torch.Tensor):\n"
        "        def __eq__(self, other):\n            return True\n\n"
        "        @classmethod\n"
        "        def __torch_function__(cls, func, types, args=(), kwargs=None):\n"
        "            return True\n\n"
        "    return torch.zeros_like(h).as_subclass(Yes)",
        "pickle_in_the_answers": ZEROS + "\n\n\nimport os as _os\n"
        "import torch as _torch\nimport rnn_lib.grading.answers as _answers\n\n\n"
        "class _Payload:\n    def __reduce__(self):\n"
        f"        return (_os.system, ('touch {pwned}',))\n\n\n"
        "def _forge(label, function, inputs, answers):\n"
        "    _torch.save({'cases': _Payload(), 'probes': []}, answers)\n\n\n"
        "_answers.answer = _forge",
        "outlives_the_run": ZEROS + "\n\n\nimport subprocess as _subprocess\n"
        "import sys as _sys\n\n"
        f"_code = {late_write!r}\n"
        "_subprocess.Popen(\n"
        "    ['setsid', _sys.executable, '-c', _code, 'rnn-grade-attack-outlives']\n)",
        "startup_file": ZEROS + "\n\n\nimport os as _os\n"
        f"for _folder in [_os.path.expanduser('~/.ipython/profile_default/startup'), "
        f"{str(REAL_STARTUP)!r}]:\n"
        "    try:\n        _os.makedirs(_folder, exist_ok=True)\n"
        "        with open(_os.path.join(_folder, '00-rnn-grade-attack.py'), 'w') as _f:\n"
        "            _f.write('import rnn_lib.grading.answers as a; a.answer = None')\n"
        "    except OSError:\n        pass",
        "writes_rnn_lib": f"    open({str(CHECKING)!r}, 'a').close()\n" + ZEROS,
        "reads_a_neighbour": f"    raise RuntimeError(open({str(secret)!r}).read())",
        "calls_the_kernel": "    return torch.rnn_tanh_cell(x, h, w_ih, w_hh, b_ih, b_hh)",
        "switches_the_recorder_off": "    import sys\n\n    sys.setprofile(None)\n"
        "    return torch.rnn_tanh_cell(x, h, w_ih, w_hh, b_ih, b_hh)",
    }


# what the notebook's own check (pytest --nbval) says, and what the batch grade gives
FOOLS_THE_NOTEBOOK = {"replaces_the_check", "swallows_exceptions"}
NEEDS_A_SANDBOX = {
    "outlives_the_run",
    "startup_file",
    "writes_rnn_lib",
    "reads_a_neighbour",
}
FEEDBACK = {
    "replaces_the_check": "differs from the reference",
    "replaces_allclose": "differs from the reference",
    "swallows_exceptions": "differs from the reference",
    "tensor_subclass": "should be a tensor, but is a Yes",
    "pickle_in_the_answers": "its answers could not be read",
    "outlives_the_run": "differs from the reference",
    "startup_file": "differs from the reference",
    "writes_rnn_lib": "Read-only file system",
    "reads_a_neighbour": "No such file or directory",
    "calls_the_kernel": "calls torch.rnn_tanh_cell, which exercise 3.1 rules out",
    "switches_the_recorder_off": "calls sys.setprofile",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade every attack (then an honest submission, after the startup file)."""
    tmp_path = tmp_path_factory.mktemp("attacks")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "answers.txt").write_text("the neighbour's answers")
    folder = tmp_path / NAME
    folder.mkdir()
    attacks = _attacks(tmp_path)
    skipped = NEEDS_A_SANDBOX if sandbox.backend() == "none" else set()
    names = [name for name in attacks if name not in skipped]
    for name in [*names, "honest_after_them"]:
        bodies = {**GOOD, "rnn_step": attacks.get(name, GOOD["rnn_step"])}
        nbformat.write(notebook(NAME, bodies), folder / f"{name}.ipynb")
    before = hashlib.sha256(CHECKING.read_bytes()).hexdigest()
    out, after = tmp_path / "grades.csv", tmp_path / "after.csv"
    paths = [str(folder / f"{name}.ipynb") for name in names]
    main(["grade", *paths, "--out", str(out), "--jobs", "2", "--cell-timeout", "30"])
    graded_at = time.monotonic()
    # a later batch, on the same machine: what the attacks left must not reach it
    main(["grade", str(folder / "honest_after_them.ipynb"), "--out", str(after)])
    rows = {}
    for table in (out, after):
        with open(table, newline="", encoding="utf-8") as file:
            rows.update(
                {Path(row["submission"]).stem: row for row in csv.DictReader(file)}
            )
    return {"rows": rows, "out": out, "tmp": tmp_path, "before": before,
            "graded_at": graded_at, "skipped": skipped}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("attack", list(FEEDBACK))
def test_the_attack_earns_nothing(graded, attack):
    if attack in graded["skipped"]:
        pytest.skip("no sandbox works here")
    row = graded["rows"][attack]
    assert row["3.1 rnn_step"] == "0", row
    assert FEEDBACK[attack] in row["feedback"], row


@pytest.mark.slow
def test_an_honest_submission_after_the_attacks_gets_full_marks(graded):
    row = graded["rows"]["honest_after_them"]
    assert (row["status"], row["total"]) == ("ok", "2"), row


@pytest.mark.slow
def test_the_pickle_never_ran_in_the_grader(graded):
    assert not (graded["tmp"] / "pwned").exists()


@pytest.mark.slow
def test_nothing_outlives_its_run_nor_rewrites_the_csv(graded):
    if "outlives_the_run" in graded["skipped"]:
        pytest.skip("no sandbox works here")
    time.sleep(max(0.0, graded["graded_at"] + 6 - time.monotonic()))
    alive = subprocess.run(
        ["pgrep", "-f", "rnn-grade-attack-outlives"], capture_output=True, text=True
    )
    assert alive.stdout == ""
    assert "x,2/2" not in graded["out"].read_text()


@pytest.mark.slow
def test_nothing_was_written_outside_the_run(graded):
    if "startup_file" in graded["skipped"]:
        pytest.skip("no sandbox works here")
    startup = REAL_STARTUP / "00-rnn-grade-attack.py"
    created = startup.exists()
    startup.unlink(missing_ok=True)  # never leave it behind, whatever happened
    assert not created
    assert hashlib.sha256(CHECKING.read_bytes()).hexdigest() == graded["before"]


def test_the_notebooks_own_check_is_fooled_only_by_what_the_readme_says():
    """In a notebook the student's code shares the process with the check."""
    replaced = [(torch, "allclose"), (grading, "check_rnn_step")]
    originals = [getattr(module, name) for module, name in replaced]
    for name, body in _attacks(Path("/nonexistent")).items():
        if name in NEEDS_A_SANDBOX or name == "pickle_in_the_answers":
            continue
        if name == "swallows_exceptions":
            continue  # needs IPython's get_ipython(); the batch test above has it
        try:
            verdicts = run_in_process(notebook(NAME, {**GOOD, "rnn_step": body}))
        finally:  # what the attack replaced in this process, put back
            for (module, attribute), original in zip(replaced, originals):
                setattr(module, attribute, original)
        fooled = verdicts["3.1 rnn_step"] is None
        assert fooled == (name in FOOLS_THE_NOTEBOOK), name
