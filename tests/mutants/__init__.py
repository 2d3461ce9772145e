"""Realistic wrong solutions to the exercises, kept to prove the checks.

Each module holds the mutants of one exercise notebook, written the way a
student might write them (loops, einsum, other names), not copied from the
known mistakes in ``rnn_lib.grading``. :func:`mutant` registers each one with
the check it must fail and the known mistake its feedback must name;
``tests/test_grading_mutants.py`` runs them all.
"""

from __future__ import annotations

from typing import Callable

# (check name, mistake the feedback must name, the wrong function)
REGISTRY: list[tuple[str, str, Callable]] = []


def mutant(check: str, mistake: str) -> Callable[[Callable], Callable]:
    """Register a wrong solution to ``check_<check>`` that makes ``mistake``."""

    def register(function: Callable) -> Callable:
        REGISTRY.append((check, mistake, function))
        return function

    return register
