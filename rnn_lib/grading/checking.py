"""How a check compares a student's function with the reference and explains why.

Built for the exercises that follow the chapters (the book's Exercises part).
Each check is a :class:`Check`: what the grader knows about one graded
function, as data (its cases, its reference, its outputs, its known mistakes,
the calls its exercise rules out, a hint). Its work comes in two parts that
can run in two processes:

- :meth:`Check.run` runs the student's function on the cases (in the
  student's process) and keeps the outcomes as plain data
  (:mod:`rnn_lib.grading.plain`): values, exceptions, inputs changed in place,
  forbidden calls seen (:mod:`rnn_lib.grading.recording`);
- :meth:`Check.judge` (in the grader's process, for the batch grade) runs the
  reference on the same cases and decides (how one answer is compared is
  :mod:`rnn_lib.grading.comparing`). An output must have the declared
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
import zlib
from collections.abc import Sequence
from typing import Callable

from rnn_lib.grading import shrinking
from rnn_lib.grading.cases import (
    Case,
    Cases,
    Outcome,
    as_plain,
    call_with_clones,
)

# The check modules build their outputs with these, from here with Check.
from rnn_lib.grading.comparing import SEQUENCE as SEQUENCE
from rnn_lib.grading.comparing import STATE as STATE
from rnn_lib.grading.comparing import (
    Output,
    describe_difference,
    same_outcome,
    type_phrase,
)
from rnn_lib.grading.recording import Forbidden, Recorder
from rnn_lib.grading.rounding import tolerances


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
                lambda i, j: same_outcome(got[i], got[j]),
                lambda i, j: same_outcome(expected[i], expected[j]),
            ),
        ]  # fmt: skip
        return "\n".join(line for line in lines if line)

    def known_mistake(self, cases: Sequence[Case], answers: Sequence[Outcome]) -> str:
        """The sentence naming the known mistake the answers equal, or ''."""
        for known in self.mistakes:
            if all(
                same_outcome(as_plain(self.call(known.function, case)), got)
                for case, got in zip(cases, answers)
            ):
                return (
                    f'Your answers equal those of a known mistake, "{known.name}": '
                    f"{known.advice}"
                )
        return ""
