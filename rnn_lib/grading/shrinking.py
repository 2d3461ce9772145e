"""Feedback for a mistake no catalog names: the smallest input it shows on.

Built for the checks of the exercises (the book's Exercises part). When a
student's answer is wrong but equals no known mistake, the check has also run
it on *probes*: every combination of a few small values of its sizes
(:meth:`rnn_lib.grading.cases.Cases.probes`, e.g. L in 1, 2, 3 and N in 1, 2).
:func:`explain` picks the smallest probe on which the answer is wrong (the
fewest sizes above their simplest value, then the smallest ones) and the
probes one step simpler in one size, on which it is then right, and says
what changed: "correct when N=1, wrong when N=2 (with L=1, H_in=1, H_out=1):
look at how the rows of the batch are combined", followed by which output
differs there first, and by how much. A mistake that shows on the simplest
probe already is said to be wrong "even" there. For a size that is a
parameter (a step eps, a threshold max_norm), probes that differ only in it
get the same inputs; an answer that stays the same from one value to the
other where the reference's changes ignores it, and :func:`explain` says so.

Read next: :mod:`rnn_lib.grading.checks.ex03_rnn_step`, a module of checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rnn_lib.grading.cases import Case, Dim


def _rank(case: Case, dims: dict[str, Dim]) -> tuple[int, int]:
    """How far from the simplest probe: sizes above their first value, then steps."""
    steps = [dims[name].values.index(case.sizes[name]) for name in dims]
    return sum(step > 0 for step in steps), sum(steps)


def _key(sizes: dict) -> str:
    """The sizes as a key (their values may be lists)."""
    return repr(sorted(sizes.items(), key=lambda item: item[0]))


def _with(sizes: dict, names: Sequence[str]) -> str:
    return ", ".join(
        f"{key}={value}" for key, value in sizes.items() if key not in names
    )


def ignored(
    dims: dict[str, Dim],
    probes: Sequence[Case],
    problems: Sequence[str],
    same: Callable[[int, int], bool],
    same_reference: Callable[[int, int], bool],
) -> str:
    """A sentence naming a parameter the answer does not depend on, or ''.

    Args:
        same: whether the student's answers on two probes are the same.
        same_reference: whether the reference's are.
    """
    by_sizes = {_key(p.sizes): i for i, p in enumerate(probes)}
    for name, dim in dims.items():
        if not dim.parameter:
            continue
        for i, probe in enumerate(probes):
            for value in dim.values[1:]:
                j = by_sizes.get(_key({**probe.sizes, name: value}))
                if j is None or j == i or probe.sizes[name] != dim.values[0]:
                    continue
                if (
                    (problems[i] or problems[j])
                    and same(i, j)
                    and not same_reference(i, j)
                ):
                    return (
                        f"Your answers are the same for {name}={probe.sizes[name]} and "
                        f"{name}={value}, where the reference's differ: {dim.advice}."
                    )
    return ""


def explain(
    dims: dict[str, Dim], probes: Sequence[Case], problems: Sequence[str]
) -> str:
    """Where the answer starts to go wrong, or '' when it is right on every probe.

    Args:
        dims: the sizes the probes vary and what each points at.
        probes: the probes, each with its sizes.
        problems: for each probe, how the answer differs there ('' if right).
    """
    failing = [i for i, problem in enumerate(problems) if problem]
    if not dims or not failing:
        return ""
    worst = min(failing, key=lambda i: (_rank(probes[i], dims), i))
    sizes = probes[worst].sizes
    where = problems[worst]
    by_sizes = {_key(p.sizes): i for i, p in enumerate(probes)}
    changed = []  # (name, simpler value) for each one-step-simpler probe that passes
    for name, dim in dims.items():
        step = dim.values.index(sizes[name])
        if step == 0:
            continue
        simpler = {**sizes, name: dim.values[step - 1]}
        index = by_sizes.get(_key(simpler))
        if index is not None and not problems[index]:
            changed.append((name, dim.values[step - 1]))
    if not changed:
        return (
            f"Shrunk to the smallest input tried ({_with(sizes, ())}), it is wrong "
            f"even there: {where}."
        )
    names = [name for name, _ in changed]
    right = " or ".join(f"{name}={value}" for name, value in changed)
    wrong = " and ".join(f"{name}={sizes[name]}" for name in names)
    rest = _with(sizes, names)
    advice = "; ".join(dict.fromkeys(dims[name].advice for name in names))
    return (
        f"Shrunk to small inputs: correct when {right}, wrong when {wrong}"
        f"{f' (with {rest})' if rest else ''}: {advice}. There, {where}."
    )
