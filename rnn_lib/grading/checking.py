"""How a check compares a student's function with the reference and explains why.

Built for the exercises that follow the chapters (the book's Exercises part).
Each check is a :class:`Check`: what the grader knows about one graded
function, as data (its cases, its reference, its outputs, its known mistakes,
the calls its exercise rules out, a hint). Its work comes in two parts that
can run in two processes:

- :meth:`Check.answers` runs the student's function on the cases (in the
  student's process) and keeps the outcomes as plain data
  (:mod:`rnn_lib.grading.plain`): values, exceptions, inputs changed in place,
  forbidden calls seen (:mod:`rnn_lib.grading.recording`);
- :meth:`Check.judge` (in the grader's process, for the batch grade) runs the
  reference on the same cases and decides. An output must have the declared
  kind (exactly a ``torch.Tensor`` of the reference's dtype, a Python float,
  ...) and shape, and lie within the tolerance that float64 rounding of the
  reference justifies on that case (:mod:`rnn_lib.grading.rounding`); where
  the exercise's text allows two ways (torch's clipping or the exact one),
  either reference passes. On the first difference the feedback names the
  output, the position (time step, batch row, unit) and the size of the
  error; then it names the known mistake whose answers the student's equal
  on every case, or else shrinks the failing case
  (:mod:`rnn_lib.grading.shrinking`). A forbidden call gives zero with a
  message that names it. When a function this one calls (``rnn_step`` for
  ``rnn_layer``) fails its own check, the feedback says to fix that first.

A notebook's grader cell calls the check, ``check_rnn_step(rnn_step)``: both
parts run there, on the notebook's own cases, and the check prints one line
or raises :class:`CheckFailed`. The student's code runs in that same process
and could change the check, so only the batch grader, which judges in its own
process, is proof against tampering (:mod:`rnn_lib.grading.grade`).

The inputs and how a function is run on them are in
:mod:`rnn_lib.grading.cases`; the checks themselves are in
:mod:`rnn_lib.grading.checks`, one module per exercise notebook: read one of
those next.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Sequence
from typing import Any, Callable

import torch

from rnn_lib.grading import shrinking
from rnn_lib.grading.cases import (
    Case,
    Cases,
    Outcome,
    as_plain,
    call_with_clones,
)
from rnn_lib.grading.plain import Opaque
from rnn_lib.grading.recording import Forbidden, Recorder
from rnn_lib.grading.rounding import tolerances

# Whether two answers are "the same" when naming a known mistake: a student's
# mistake and the catalog's, written differently, agree to far better than this.
ATOL = 1e-7
RTOL = 1e-6

# Said of an error of about a float32 rounding, far above float64's.
FLOAT32_SIZED = (
    "; an error this small is what rounding to float32, or an approximation, "
    "gives: keep every tensor in float64 and compute the formula exactly"
)

# What an index along each dimension of a state, or of a sequence of them, means.
STATE = ("batch row", "unit")
SEQUENCE = ("time step t=", "batch row", "unit")

# What an output may be (Output.kind) and how the feedback says it.
KINDS = {
    "tensor": "a tensor",
    "detached tensor": "a tensor",
    "float": "a Python float",
    "number": "a 0-dim tensor or a Python float",
    "int": "a Python int",
    "shape": "a tuple of ints",
    "floats": "a list of Python floats",
}


class CheckFailed(AssertionError):
    """A check's verdict on a wrong answer; the message is the feedback."""

    def _render_traceback_(self) -> list[str]:
        # IPython (and so nbval) shows these lines instead of a traceback
        # through the grading code, which would only hide the feedback.
        return [
            f"CheckFailed: {line}" if i == 0 else line
            for i, line in enumerate(str(self).split("\n"))
        ]


@dataclasses.dataclass(frozen=True)
class Output:
    """One output of a graded function.

    Attributes:
        name: how the feedback calls it, e.g. ``'h_n'``.
        shape: the shape in the book's letters, e.g. ``'(L, N, H_out)'``.
        dims: what an index along each dimension means, e.g.
            ``('time step t', 'batch row', 'unit')``.
        kind: what it must be, one of :data:`KINDS`: ``'tensor'`` is exactly
            a ``torch.Tensor`` with the reference's dtype, on the CPU like the
            inputs; ``'detached tensor'`` also holds no graph.
        note: said when it is of the wrong kind, e.g. why a tensor is needed.
    """

    name: str
    shape: str = ""
    dims: tuple[str, ...] = ()
    kind: str = "tensor"
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A known wrong answer: a function with the graded signature that makes it.

    Most checks write the right answer once, with keyword switches that each
    turn on one mistake, and make each mistake's function with
    ``functools.partial(_step_backward, deriv="none")``.

    Attributes:
        name: a few words, quoted in the feedback, e.g. ``'transposed W_hh'``.
        advice: what to change, e.g. ``'use h @ w_hh.T ...'``.
        function: the mistake, written out.
    """

    name: str
    advice: str
    function: Callable


def _number(value: Any) -> float | None:
    """A Python number or a one-entry tensor as a float; None for anything else."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()))
    if type(value) in (int, float):
        return float(value)
    return None


def _same(a: Any, b: Any) -> bool:
    """Whether two answers agree loosely (for naming a known mistake)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return False
        try:  # written out: a student's code may have replaced torch.allclose
            x, y = a.detach().double(), b.detach().double()
            close = ((x - y).abs() <= ATOL + RTOL * y.abs()) | (x == y)  # inf == inf
            return bool((close | (x.isnan() & y.isnan())).all())
        except RuntimeError:
            return False
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL) or x == y
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return False
    return a == b


def _same_outcome(a: Outcome, b: Outcome) -> bool:
    if a.error is not None or b.error is not None:
        return (a.error and a.error.type_name) == (b.error and b.error.type_name)
    return a.modified == b.modified and _same(a.value, b.value)


def _fmt(value: Any, digits: int = 6) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.detach().reshape(()).item()
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    return repr(value)


def type_phrase(value: Any) -> str:
    """How the feedback names what a value is: ``a tensor of shape (2, 3)``."""
    if isinstance(value, Opaque):
        return value.what
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _where(index: tuple[int, ...], output: Output) -> str:
    if not index:
        return ""
    parts = []
    for i, position in enumerate(index):
        label = output.dims[i] if i < len(output.dims) else f"index {i}"
        parts.append(
            f"{label} {position}" if not label.endswith("=") else f"{label}{position}"
        )
    return " at " + ", ".join(parts)


def _split(value: Any, outputs: Sequence[Output], name: str) -> tuple[list | None, str]:
    """The answer as one item per output, or a sentence saying why it is not."""
    if len(outputs) == 1:
        return [value], ""
    names = ", ".join(output.name for output in outputs)
    if isinstance(value, dict):
        missing = [output.name for output in outputs if output.name not in value]
        if missing:
            return None, f"{name} returned a dict without {missing}; expected ({names})"
        return [value[output.name] for output in outputs], ""
    if not isinstance(value, (tuple, list)):
        return None, (
            f"{name} should return a tuple ({names}), but returned {type_phrase(value)}"
        )
    if len(value) != len(outputs):
        return None, (
            f"{name} should return {len(outputs)} values ({names}), but returned "
            f"{len(value)}"
        )
    return list(value), ""


def _kind_problem(got: Any, output: Output, label: str) -> str:
    """A sentence saying that ``got`` is not of the output's kind, or ''."""
    kind = output.kind
    if kind in ("tensor", "detached tensor"):
        ok = type(got) is torch.Tensor
    elif kind == "float":
        ok = type(got) in (float, int)
    elif kind == "number":
        ok = type(got) in (float, int) or (type(got) is torch.Tensor and got.dim() == 0)
    elif kind == "int":
        ok = type(got) is int
    elif kind == "floats":
        ok = isinstance(got, (list, tuple)) and all(
            type(x) in (float, int) for x in got
        )
    else:  # a shape
        ok = isinstance(got, (tuple, list)) and all(type(n) is int for n in got)
    if ok:
        return ""
    note = f": {output.note}" if output.note else ""
    if kind == "floats" and isinstance(got, (list, tuple)):
        i, item = next((i, x) for i, x in enumerate(got) if type(x) not in (float, int))
        where = f"{output.dims[0]} {i}'s" if output.dims else f"entry {i}"
        return f"{label} should hold Python floats, but {where} is {type_phrase(item)}{note}"
    return f"{label} should be {KINDS[kind]}, but is {type_phrase(got)}{note}"


def _compare(
    got: Any, expected: Any, tolerance: Any, output: Output, case: Case, name: str
) -> str:
    """A sentence naming how ``got`` differs from ``expected``, or ''."""
    label = f"{name}'s {output.name}" if output.name != name else name
    if expected is None:  # e.g. the .grad of a parameter the loss does not use
        return (
            "" if got is None else f"{label} should be None, but is {type_phrase(got)}"
        )
    problem = _kind_problem(got, output, label)
    if problem:
        return problem
    if isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor):
        return _compare_tensors(got, expected, tolerance, output, case, label)
    if output.kind == "floats":
        return _compare_floats(got, expected, tolerance, output, case, label)
    x, y = _number(got), _number(expected)
    if x is not None and y is not None and isinstance(tolerance, float):
        if abs(x - y) <= tolerance:
            return ""
    elif got == expected or (
        isinstance(got, (tuple, list)) and tuple(got) == tuple(expected)
    ):
        return ""
    return (
        f"{label} is wrong: expected {_fmt(expected)}, got {_fmt(got)} "
        f"(for {case.describe()})"
    )


def _compare_floats(got, expected, tolerance, output: Output, case: Case, label) -> str:
    if len(got) != len(expected):
        return f"{label} has {len(got)} entries, expected {len(expected)}"
    for i, (x, y, tol) in enumerate(zip(got, expected, tolerance)):
        if not abs(x - y) <= tol:
            return (
                f"{label} is wrong{_where((i,), output)}: expected {_fmt(y, 10)}, "
                f"got {_fmt(float(x), 10)} (for {case.describe()})"
            )
    return ""


def _compare_tensors(
    got, expected, tolerance, output: Output, case: Case, label
) -> str:
    if got.shape != expected.shape:
        wanted = f"{output.shape} = " if output.shape else ""
        return (
            f"{label} has shape {tuple(got.shape)}, expected {wanted}"
            f"{tuple(expected.shape)} (for {case.describe()})"
        )
    if got.dtype != expected.dtype:
        return (
            f"{label} has dtype {got.dtype}, expected {expected.dtype} like the "
            "inputs: create new tensors with dtype=x.dtype (or torch.zeros_like)"
        )
    if output.kind == "detached tensor" and got.requires_grad:
        return (
            f"{label} still requires grad (it holds the graph that made it): return "
            "it detached, .detach(), so that gradients stop there"
        )
    got, expected = got.detach(), expected.detach()
    if not expected.is_floating_point() or tolerance is None:
        error = (got != expected).to(torch.float64)
    else:
        error = (got - expected).abs()
        error = torch.where(torch.isnan(error), torch.full_like(error, math.inf), error)
        error = torch.where(error <= tolerance, torch.zeros_like(error), error)
    if not bool(error.any()):
        return ""
    flat = int(torch.argmax(error))
    index = tuple(
        int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape)
    )
    size = (got - expected).abs().max() if expected.is_floating_point() else None
    largest = f"largest error {_fmt(size)}, " if size is not None else ""
    # enough digits that the two numbers shown differ
    scale = float(expected.abs().max()) if expected.is_floating_point() else 0.0
    relative = float(size) / scale if size is not None and scale > 0 else 1.0
    relative = relative if math.isfinite(relative) else 1.0
    digits = max(6, min(17, 2 - math.floor(math.log10(max(relative, 1e-17)))))
    small = FLOAT32_SIZED if 1e-10 < relative < 1e-5 else ""
    return (
        f"{label} differs from the reference{_where(index, output)}: "
        f"expected {_fmt(expected[index], digits)}, got {_fmt(got[index], digits)} "
        f"({largest}for {case.describe()}){small}"
    )


def describe_difference(
    name: str,
    got: Outcome,
    expected: Outcome,
    tolerance: Any,
    outputs: Sequence[Output],
    case: Case,
) -> str:
    """A sentence saying how the student's outcome on a case falls short, or ''."""
    if got.error is not None:
        error = got.error
        return (
            f"{name} raised {error.type_name}: {error.message} (for {case.describe()})"
        )
    if got.modified:
        names = ", ".join(got.modified)
        return (
            f"{name} changed its input {names} in place (for {case.describe()}): "
            "compute new tensors instead (h = h + ..., not h += ...)"
        )
    parts, problem = _split(got.value, outputs, name)
    if problem:
        return problem
    expected_parts, _ = _split(expected.value, outputs, name)
    tolerance_parts = (
        [tolerance] if len(outputs) == 1 else list(tolerance or [None] * len(outputs))
    )
    for part, wanted, tol, output in zip(
        parts, expected_parts, tolerance_parts, outputs
    ):
        problem = _compare(part, wanted, tol, output, case, name)
        if problem:
            return problem
    return ""


def not_written(name: str, message: str) -> str:
    """The feedback for a stub that still raises NotImplementedError."""
    return (
        f"{name} is not written yet ({message}): replace the raise between "
        "### BEGIN SOLUTION and ### END SOLUTION with your code."
    )


@dataclasses.dataclass
class Answers:
    """What a student's function did: on the cases, on the probes, and the functions it uses.

    Attributes:
        cases: one outcome per case.
        probes: returns one outcome per probe (computed when first needed
            in a notebook; read from the answers file in the batch grader).
        uses: returns the outcomes of a function this one calls, on the
            cases of that function's check, by the function's name (None
            when the notebook does not define it).
    """

    cases: list[Outcome]
    probes: Callable[[], list[Outcome]]
    uses: Callable[[str], list[Outcome] | None]


# (check label, seed, what) -> expected outcomes and tolerances; the batch
# grader judges many submissions on the same cases.
_REFERENCES: dict[tuple, list] = {}


@dataclasses.dataclass(frozen=True, eq=False)
class Check:
    """One check: what the grader knows about a graded function, as data.

    A grader cell calls it, ``check_rnn_step(rnn_step)``: it prints one
    stable line when the function is right and raises :class:`CheckFailed`
    with feedback when it is not. See the module docstring for its two parts.

    Attributes:
        exercise: the exercise's number, e.g. ``'3.1'``.
        name: the graded function, e.g. ``'rnn_step'``. The check is called
            ``check_<name>``, and its grader cell's label is ``'3.1 rnn_step'``.
        reference: the course's function, or torch's, with the same signature.
        cases: makes the inputs to try and the probes to shrink on.
        outputs: what the function returns, one :class:`Output` per value.
        mistakes: known wrong answers; the feedback names the one whose
            answers the student's equal on every case.
        hint: said when no known mistake matches.
        call: how to run a function on a case (default: on fresh clones of
            the case's arguments).
        points: what the check is worth; its grader cell's metadata says the same.
        function: the name of the student's function the grader cell passes
            (default: ``name``).
        alternatives: other references for what the exercise's text equally
            allows (exact clipping beside torch's); an answer that agrees
            with any one of them passes.
        forbidden: the calls the exercise's text rules out.
        uses: the checks of functions this one calls (``rnn_layer`` calls
            ``rnn_step``); when one of those fails, the feedback says so.
    """

    exercise: str
    name: str
    reference: Callable
    cases: Cases
    outputs: tuple[Output, ...]
    mistakes: tuple[Mistake, ...] = ()
    hint: str = ""
    call: Callable[[Callable, Case], Outcome] = call_with_clones
    points: float = 1
    function: str = ""
    alternatives: tuple[Callable, ...] = ()
    forbidden: tuple[Forbidden, ...] = ()
    uses: tuple[Check, ...] = ()

    @property
    def label(self) -> str:
        """How the grader cell's metadata and the CSV name it: ``'3.1 rnn_step'``."""
        return f"{self.exercise} {self.name}"

    @property
    def argument(self) -> str:
        """The name of the student's function that the grader cell passes."""
        return self.function or self.name

    @property
    def passed(self) -> str:
        """The one line it prints when the function is right."""
        return f"{self.name}: all checks passed"

    def __repr__(self) -> str:
        return f"<check {self.label}>"

    def seed(self, run_seed: int | None) -> int | None:
        """The seed of this check's cases in a batch graded with ``run_seed``."""
        if run_seed is None:
            return None
        return (run_seed * 1_000_003 + zlib.crc32(self.label.encode())) % 2**62

    def __call__(self, student: Callable) -> None:
        """Print :attr:`passed` if ``student`` is right, else raise :class:`CheckFailed`."""
        __tracebackhide__ = True  # pytest and IPython show the feedback, not this frame
        self.verify(student)
        print(self.passed)

    def verify(self, student: Callable, run_seed: int | None = None) -> None:
        """Raise :class:`CheckFailed` unless ``student`` agrees with the reference."""
        __tracebackhide__ = True
        feedback = self.judge(self.live_answers(student, run_seed), run_seed)
        if feedback:
            raise CheckFailed(feedback)

    # -- the part that runs the student's function (in the student's process)

    def run(self, student: Callable, cases: Sequence[Case]) -> list[Outcome]:
        """The student's outcomes on ``cases``, as plain data, forbidden calls recorded."""
        if not callable(student):
            raise CheckFailed(
                f"{self.name} should be a function, but is {type_phrase(student)}"
            )
        outcomes = []
        for case in cases:
            recorder = Recorder(self.forbidden)
            outcome = self.call(recorder.wrap(student), case)
            outcome.forbidden = tuple(recorder.seen)
            outcomes.append(as_plain(outcome))
        return outcomes

    @staticmethod
    def used_function(student: Callable, name: str) -> Callable | None:
        """The function ``name`` as ``student`` would call it (from its module or notebook)."""
        namespace = getattr(student, "__globals__", {})
        used = namespace.get(name) if isinstance(namespace, dict) else None
        return used if callable(used) else None

    def live_answers(self, student: Callable, run_seed: int | None = None) -> Answers:
        """The student's answers, each part computed when first needed.

        Args:
            run_seed: the batch's seed (:meth:`seed`); None for the notebook's cases.
        """
        cases = self.run(student, self.cases(self.seed(run_seed)))
        computed: dict = {}

        def probes() -> list[Outcome]:
            if "probes" not in computed:
                computed["probes"] = self.run(
                    student, self.cases.probes(self.seed(run_seed))
                )
            return computed["probes"]

        def uses(name: str) -> list[Outcome] | None:
            check = next(c for c in self.uses if c.argument == name)
            used = self.used_function(student, name)
            if used is None:
                return None
            return check.run(used, check.cases(check.seed(run_seed)))

        return Answers(cases, probes, uses)

    # -- the part that decides (in the grader's process, for the batch grade)

    def _expected(self, cases: Sequence[Case], key: tuple) -> list:
        """For each case, each reference's outcome and its tolerances (cached)."""
        if key not in _REFERENCES:
            expected = []
            for index, case in enumerate(cases):
                per_reference = []
                for reference in (self.reference, *self.alternatives):
                    outcome = self.call(reference, case)
                    if outcome.error is not None:  # the reference never fails on a case
                        raise RuntimeError(
                            f"{self.label}'s reference raised {outcome.error} on "
                            f"{case.describe()}"
                        )
                    tolerance = tolerances(
                        lambda reference=reference, case=case: (
                            self.call(reference, case).value
                        ),
                        outcome.value,
                        seed=index,
                    )
                    per_reference.append((as_plain(outcome), tolerance))
                expected.append(per_reference)
            _REFERENCES[key] = expected
        return _REFERENCES[key]

    def problem(self, case: Case, got: Outcome, expected: list) -> str:
        """'' if ``got`` agrees with any reference on ``case``, else how it differs from the first."""
        problems = [
            describe_difference(self.name, got, outcome, tolerance, self.outputs, case)
            for outcome, tolerance in expected
        ]
        return "" if "" in problems else problems[0]

    def problems(self, cases: Sequence[Case], got: Sequence[Outcome], key) -> list[str]:
        """How the answers fall short on each case ('' where right)."""
        expected = self._expected(cases, key)
        return [self.problem(c, o, e) for c, o, e in zip(cases, got, expected)]

    def judge(self, answers: Answers, run_seed: int | None = None) -> str:
        """The feedback on the student's answers; '' when they are right."""
        seed = self.seed(run_seed)
        cases = self.cases(seed)
        if len(answers.cases) != len(cases):
            return f"{self.name}: the answers do not match the cases"
        for got in answers.cases:
            if got.error is not None and got.error.not_implemented:
                return not_written(self.name, got.error.message)
        seen = sorted({name for got in answers.cases for name in got.forbidden})
        if seen:
            return (
                f"{self.argument} calls {' and '.join(seen)}, which exercise "
                f"{self.exercise} rules out: write that part yourself (this check "
                "gives no points while the call is there)."
            )
        problems = self.problems(cases, answers.cases, (self.label, seed, "cases"))
        problem = next((p for p in problems if p), "")
        if not problem:
            return ""
        lines = [problem + "."]
        failing = self._failing_uses(answers, run_seed)
        known = "" if failing else self.known_mistake(cases, answers.cases)
        if failing or known:
            lines.append(failing or known)
        else:
            lines += [self._shrunk(answers, seed), self.hint]
        return "\n".join(line for line in lines if line)

    def _failing_uses(self, answers: Answers, run_seed: int | None) -> str:
        for check in self.uses:
            outcomes = answers.uses(check.argument)
            if outcomes is None:
                continue
            seed = check.seed(run_seed)
            cases = check.cases(seed)
            key = (check.label, seed, "cases")
            if len(outcomes) == len(cases) and any(
                check.problems(cases, outcomes, key)
            ):
                return (
                    f"Your {check.argument} fails check {check.label} too, and "
                    f"{self.argument} calls it: fix {check.argument} first (the "
                    "difference above may come from there)."
                )
        return ""

    def _shrunk(self, answers: Answers, seed: int | None) -> str:
        probes = self.cases.probes(seed)
        got = answers.probes()
        if not probes or len(got) != len(probes):
            return ""
        key = (self.label, seed, "probes")
        problems = self.problems(probes, got, key)
        expected = [outcome for (outcome, _), *_ in self._expected(probes, key)]
        lines = [
            shrinking.explain(self.cases.dims, probes, problems),
            shrinking.ignored(
                self.cases.dims, probes, problems,
                lambda i, j: _same_outcome(got[i], got[j]),
                lambda i, j: _same_outcome(expected[i], expected[j]),
            ),
        ]  # fmt: skip
        return "\n".join(line for line in lines if line)

    def known_mistake(self, cases: Sequence[Case], answers: Sequence[Outcome]) -> str:
        """The sentence naming the known mistake the answers equal, or ''."""
        for known in self.mistakes:
            if all(
                _same_outcome(as_plain(self.call(known.function, case)), got)
                for case, got in zip(cases, answers)
            ):
                return (
                    f'Your answers equal those of a known mistake, "{known.name}": '
                    f"{known.advice}"
                )
        return ""
