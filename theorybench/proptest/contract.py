"""Calling a declared bound: the contract of `bounds.catalogue.DeclaredBound` enforced at run time.

A declared bound's ``applies`` must return ``(holds, reason)`` and its ``value`` a finite number
(an (n, m) array for an exact ``step_one_margins`` statement). Breaking the shape of that contract
is the declaration's fault, not the mathematics', and is reported as bad input (`ContractViolation`,
exit status 2). A *non-finite* value where the statement applies is a wrong bound (`Falsified`:
a log-probability of -inf is a bare 0). An exception raised inside the bound's own code is
`BoundRaised`; the runner reports it as a contract error with the user's traceback for a user's
module, and as a falsification (with its counterexample) for a shipped bound.
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from bounds.catalogue import DeclaredBound
from theorybench.errors import UserInputError
from theorybench.proptest.model import Falsified


class ContractViolation(UserInputError):
    """A declared bound broke the contract when called (`bounds.catalogue`).

    ``applies`` did not return ``(holds, reason)``, ``value`` did not return a number (an (n, m)
    array for an exact ``step_one_margins`` statement), or the bound's code raised. The user's
    declaration is at fault, not the mathematics, so the command line reports it as bad input
    (exit status 2) rather than as a falsified bound; ``detail`` (printed verbatim after the
    paragraph) holds the traceback of the user's code when there is one.
    """

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class BoundRaised(Exception):
    """The code of a declared bound raised; ``traceback_text`` starts at the bound's own frame."""

    def __init__(self, bound: DeclaredBound, member: str, error: BaseException) -> None:
        self.bound_name, self.member, self.error = bound.name, member, error
        # The first frame is `call`'s own; the user's code starts at the next one.
        self.traceback_text = "".join(traceback.format_exception(
            type(error), error, error.__traceback__.tb_next if error.__traceback__ else None))
        super().__init__(f"{member}(instance) raised {type(error).__name__}: {error}")

    def contract_violation(self) -> ContractViolation:
        return ContractViolation(
            f"bound {self.bound_name!r}: {self.member}(instance) raised "
            f"{type(self.error).__name__}: {self.error}. An exception inside a declared bound is a "
            "broken contract (the bound must return a value wherever it is called), not a "
            "counterexample; the traceback of the bound's code follows.", self.traceback_text)


def call(bound: DeclaredBound, member: str, *args: Any) -> Any:
    """``bound.<member>(*args)``, turning an exception of the bound's code into `BoundRaised`."""
    try:
        return getattr(bound, member)(*args)
    except Falsified:
        raise
    except Exception as error:
        raise BoundRaised(bound, member, error) from error


def applies(bound: DeclaredBound, instance: Any) -> bool:
    """Whether the statement's hypotheses hold on ``instance``."""
    result = call(bound, "applies", instance)
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise ContractViolation(f"bound {bound.name!r}: applies(instance) must return (holds, "
                                f"reason), a pair; it returned {result!r}.")
    return bool(result[0])


def finite_value(bound: DeclaredBound, instance: Any) -> Any:
    """``value(instance)``, checked for the contract's type and shape and for finiteness."""
    value = call(bound, "value", instance)
    try:
        if value is None:  # np.asarray(None, dtype=float) would be a silent nan
            raise TypeError
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ContractViolation(f"bound {bound.name!r}: value(instance) must return a number, "
                                f"it returned {value!r}.") from None
    if bound.quantity == "step_one_margins" and bound.kind == "exact":
        if array.shape != (instance.n, instance.m):
            raise ContractViolation(f"bound {bound.name!r}: value(instance) must return the "
                                    f"(n, m) = {(instance.n, instance.m)} array of margins, it "
                                    f"returned shape {array.shape}.")
    elif array.size != 1:
        raise ContractViolation(f"bound {bound.name!r}: value(instance) must return one number, "
                                f"it returned shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise Falsified(f"{bound.name} returned a non-finite value {value!r} where it applies "
                        "(a log-probability of -inf is a bare 0)")
    return value
