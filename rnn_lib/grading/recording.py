"""Forbidden calls: what an exercise's text rules out, seen while the student's function runs.

Built for the exercises (the book's Exercises part). Exercise 3.2 asks for a
layer "with your rnn_step", 5.2 for gradients "by hand", 6.2 for clipping
written out: a call to ``torch.nn.RNN``, to autograd or to
``torch.nn.utils.clip_grad_norm_`` there would give the right numbers without
the work. Each check lists such calls as :class:`Forbidden` (the exercise's
text names them too), and :class:`Recorder` runs the student's function with
a profiler (``sys.setprofile``, and ``threading.setprofile`` for threads it
starts) that notes every call to one of them. A check gives zero when a
forbidden call was seen, with a message that names it. This is the one place
where the code's form, not its result, decides, and it is best effort: the
profiler runs in the student's process, so code written to hide a call can
evade it (a thread started earlier, a reference computed outside the graded
function). Switching the profiler off from inside the function is itself
recorded. What it records is definite: the call happened.

Read next: :mod:`rnn_lib.grading.checking`, which gives the verdict.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Captured at import, before a student's code could replace them.
_SETPROFILE, _GETPROFILE = sys.setprofile, sys.getprofile
_THREAD_SETPROFILE = threading.setprofile
# threading.getprofile is Python 3.10's; before, the hook was only an attribute
_THREAD_GETPROFILE = getattr(threading, "getprofile", lambda: threading._profile_hook)

SWITCHED_OFF = "sys.setprofile (it switches off the grader's record of forbidden calls)"


@dataclasses.dataclass(frozen=True)
class Forbidden:
    """A call an exercise rules out.

    Attributes:
        name: how the feedback names it, e.g. ``'torch.nn.RNN'``.
        targets: returns the functions that make the call (Python functions,
            or builtins such as ``torch.rnn_tanh_cell``); resolved when a
            recording starts.
        when: a condition on the call's arguments (by name) that makes it
            forbidden, e.g. ``lambda args: args.get('reverse')``; None for
            every call.
    """

    name: str
    targets: Callable[[], Iterable[Any]]
    when: Callable[[dict], Any] | None = None


def _code(target: Any):
    """The code object that runs when ``target`` (a Python function) is called."""
    return getattr(inspect.unwrap(target), "__code__", None)


class Recorder:
    """Runs functions with the profiler on and keeps the forbidden calls seen."""

    def __init__(self, forbidden: Iterable[Forbidden]):
        self.codes: dict = {}
        self.builtins: dict[int, tuple[Forbidden, Any]] = {}
        for rule in forbidden:
            for target in rule.targets():
                code = _code(target)
                if code is not None:
                    self.codes[code] = rule
                else:  # a builtin: known by identity (kept alive in the tuple)
                    self.builtins[id(target)] = (rule, target)
        if self.codes or self.builtins:
            switch = Forbidden(SWITCHED_OFF, lambda: ())
            for target in (sys.setprofile, threading.setprofile):
                self.builtins[id(target)] = (switch, target)
        self.seen: list[str] = []
        self.profile = self._profile  # one bound method, so that it can be recognised
        self.active = False

    def _note(self, rule: Forbidden, arguments: dict) -> None:
        if rule.name in self.seen:
            return
        try:
            applies = rule.when is None or rule.when(arguments)
        except Exception:  # a condition that cannot be read is no finding
            applies = False
        if applies:
            self.seen.append(rule.name)

    def _profile(self, frame, event: str, arg: Any) -> None:
        if not self.active:  # the recorder's own restoring call
            return
        if event == "call":
            rule = self.codes.get(frame.f_code)
            if rule is not None:
                self._note(rule, frame.f_locals)
        elif event == "c_call":
            found = self.builtins.get(id(arg))
            if found is not None and found[1] is arg:
                self._note(found[0], {})

    def wrap(self, function: Callable) -> Callable:
        """``function``, recorded while it runs (nothing to record: itself)."""
        if not (self.codes or self.builtins):
            return function

        def recorded(*args, **kwargs):
            previous, previous_threads = _GETPROFILE(), _THREAD_GETPROFILE()
            _SETPROFILE(self.profile)
            _THREAD_SETPROFILE(self.profile)
            self.active = True
            try:
                return function(*args, **kwargs)
            finally:
                if _GETPROFILE() is not self.profile:
                    self._note(Forbidden(SWITCHED_OFF, lambda: ()), {})
                self.active = False
                _SETPROFILE(previous)
                _THREAD_SETPROFILE(previous_threads)

        return recorded
