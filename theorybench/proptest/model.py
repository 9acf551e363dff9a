"""What a property is, how it fails, and the float64 constants every comparison is built from.

A *property* is a claim that must hold for every instance a strategy can generate
(`theorybench.strategies`). Its ``check(instance)`` returns True when the instance is inside the
statement's hypotheses and the claim held (the instance *exercised* the property), False when the
instance is outside them (the statement says nothing there), and raises `Falsified` when the
claim fails. Tolerances: every comparison allows the rounding of float64 arithmetic and no more;
each slack is derived where it is computed (docs/theory.md §2.4, §2.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from hypothesis import strategies as st
from hypothesis import target
from hypothesis.control import currently_in_test_context

EPS = float(np.finfo(np.float64).eps)
# Digits of the two mpmath evaluations: the reference is trusted only when both agree to
# REFERENCE_AGREEMENT relative (far below float64's 1e-16, so the comparison is with the truth).
REFERENCE_DIGITS = (30, 60)
REFERENCE_AGREEMENT = 1e-25


class Falsified(AssertionError):
    """A property failed on the current instance; the message says how."""


@dataclass(frozen=True)
class Property:
    """A claim checked on every generated instance.

    ``check(instance)`` returns True when it applied and held, False when the instance is outside
    the statement's hypotheses, and raises `Falsified` when it fails. ``allow_vacuous``: whether a
    run in which no instance exercised the property may pass (never for the library's own
    properties; a user's module may allow it, docs/proptest.md). ``user_code``: whether the
    statement's callables are a user's (an exception raised there is then a contract error, not
    a falsification).
    """

    subject: str
    name: str
    provenance: str
    section: str
    description: str
    strategy: st.SearchStrategy
    check: Callable[[Any], bool]
    allow_vacuous: bool = False
    user_code: bool = False


def converged_reference(formula: Callable[[], Any]) -> float:
    """``formula()`` evaluated by mpmath at `REFERENCE_DIGITS`, trusted only when both agree.

    Escalating precision (the idea of scipy's ``_mptestutils``): a reference that changes between
    30 and 60 digits by more than `REFERENCE_AGREEMENT` relative is not yet the truth, and the
    property fails rather than compare against it.
    """
    references = []
    for digits in REFERENCE_DIGITS:
        with mpmath.workdps(digits):
            references.append(mpmath.mpf(formula()))
    coarse, fine = references
    with mpmath.workdps(REFERENCE_DIGITS[-1]):
        if abs(coarse - fine) > REFERENCE_AGREEMENT * (1 + abs(fine)):
            raise Falsified(f"the mpmath reference has not converged: {coarse} at "
                            f"{REFERENCE_DIGITS[0]} digits vs {fine} at {REFERENCE_DIGITS[1]}")
    return float(fine)


def compare_arrays(label: str, first: np.ndarray, second: np.ndarray, slack: np.ndarray) -> None:
    """Raise `Falsified` when an entry of ``first`` and ``second`` differs by more than ``slack``."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.shape != second.shape:
        raise Falsified(f"{label}: shapes differ, {first.shape} vs {second.shape}")
    excess = np.abs(first - second) - slack
    if np.any(excess > 0):
        index = np.unravel_index(int(np.argmax(excess)), excess.shape)
        raise Falsified(f"{label}: entry {tuple(int(i) for i in index)} differs, "
                        f"{float(first[index])!r} vs {float(second[index])!r} (allowed rounding "
                        f"{np.broadcast_to(slack, excess.shape)[index]:.3g})")


def householder(vector: np.ndarray) -> np.ndarray:
    """The orthogonal reflection :math:`I - 2vv^\\top/\\|v\\|^2` (the identity for v = 0).

    v is scaled by its largest entry first, so that its squared norm neither underflows nor
    overflows; the reflection is then orthogonal to a few ulps.
    """
    top = float(np.max(np.abs(vector))) if vector.size else 0.0
    if top == 0.0:
        return np.eye(vector.size)
    unit = vector / top
    return np.eye(vector.size) - 2.0 * np.outer(unit, unit) / float(unit @ unit)


def aim(observation: float, label: str) -> None:
    """``hypothesis.target(observation, label)`` during a search, nothing when a check is replayed.

    Properties push the search towards the edges where formulas change branch or precision
    (margins just above 0, exponents near the float64 limits); a counterexample replayed outside
    hypothesis runs the same check without the search.
    """
    if currently_in_test_context() and np.isfinite(observation):
        target(float(observation), label=label)
