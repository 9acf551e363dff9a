"""The signal strengths at which a rate exponent switches, without sympy (docs/theory.md §4).

- `phase_boundary`: the :math:`\\|\\mu\\|` at which the regime indicator of a candidate exponent
  equals 1 (:math:`\\sqrt{d/n}` for :math:`\\Sigma = I`);
- `benign_boundary`: the :math:`\\|\\mu\\|` at which a candidate exponent equals a level (default 1):
  below it the predicted error is of constant order (harmful), above it decays (benign as
  :math:`\\psi\\to\\infty`).

The direction of the mean is held fixed: :math:`\\mu^\\top\\Sigma\\mu = \\kappa\\|\\mu\\|^2` with
:math:`\\kappa = \\mu^\\top\\Sigma\\mu/\\|\\mu\\|^2` taken from the given values. The roots in
:math:`\\|\\mu\\|` are closed forms solved once by `sympy.solve` (`bounds.generate`, with the level
a symbol) and read from `bounds._generated`; here they are evaluated in float64, and the one
positive root that satisfies the equation is the boundary. `bounds.thresholds` wraps both as
`Threshold` objects with the sympy expression. Every boundary is RECONSTRUCTED, as the exponents are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from bounds import _generated, symbolic
from bounds.rates import CANDIDATE_EXPONENTS
from theorybench.errors import UserInputError

# A true root satisfies its equation to a few float64 roundings (relative ~1e-15: the + branch of
# the closed forms has no cancellation). A spurious one, the - branch rounded to a tiny positive
# number instead of <= 0 (kappa sqrt(n) - sqrt(kappa^2 n + 4 Tr Sigma^2) with Tr Sigma^2 -> 0), sits
# at relative sqrt(eps) ~ 1e-8 of the scale and misses the level by a factor of order one. 1e-9
# separates the two with room on both sides.
PLUG_BACK_RTOL = 1e-9


@dataclass(frozen=True)
class SignalBoundary:
    """A signal strength :math:`\\|\\mu\\|` at which a quantity reaches a level.

    Attributes
    ----------
    name : str
        ``"<quantity> = <level>"``.
    quantity : str
        The statement of `bounds.symbolic` (an exponent or a regime indicator).
    level : float
        The value the quantity reaches.
    value : float
        The boundary :math:`\\|\\mu\\|` (float64); the quantity increases through it.
    formula : str
        The root as sympy prints it (in ``kappa`` and the other parameters, and ``level`` for
        `benign_boundary`).
    provenance : str
        That of the quantity.
    """

    name: str
    quantity: str
    level: float
    value: float
    formula: str
    provenance: str


def _exponent(exponent: str) -> tuple[str, str]:
    if exponent not in CANDIDATE_EXPONENTS:
        raise UserInputError(f"exponent = {exponent!r} is not allowed: it must be one of "
                             f"{', '.join(CANDIDATE_EXPONENTS)}.")
    return CANDIDATE_EXPONENTS[exponent]


def phase_boundary(values: Mapping[str, float], exponent: str = "psi") -> SignalBoundary:
    """||mu|| at which the regime indicator of ``exponent`` equals 1 (RECONSTRUCTED, §4).

    For psi (and Cao–Gu–Belkin): :math:`\\|\\mu\\| = \\sqrt{\\operatorname{Tr}\\Sigma^2/(n\\kappa)}`;
    for psi_alt: :math:`\\sqrt{\\operatorname{Tr}\\Sigma/n}`.
    """
    indicator = _exponent(exponent)[1]
    return _solve(indicator, "1", 1.0, values, f"{indicator} = 1")


def benign_boundary(values: Mapping[str, float], exponent: str = "psi",
                    level: float = 1.0) -> SignalBoundary:
    """||mu|| at which the candidate exponent equals ``level`` (RECONSTRUCTED, §4).

    Every candidate is increasing in ||mu|| (direction fixed), so the predicted error bound
    :math:`e^{-c\\,\\psi}` decays (benign side) above the returned value and is of order 1 (harmful
    side) below it.
    """
    quantity = _exponent(exponent)[0]
    if not (level > 0 and math.isfinite(level)):
        raise UserInputError(f"level = {level!r} is not allowed: it must be a finite real > 0.")
    return _solve(quantity, "level", float(level), values, f"{quantity} = {level:g}")


def _solve(quantity: str, target: str, level: float, values: Mapping[str, float],
           name: str) -> SignalBoundary:
    s = symbolic.statement(quantity)
    kappa = values["mu_sigma_mu"] / values["mu_norm"] ** 2
    known = {**values, "kappa": kappa, "level": level}
    found = []
    for names, function, formula in _generated.SIGNAL_ROOTS[(quantity, target)]:
        # float64 scalars: a negative radicand gives nan (no root), never a complex number.
        with np.errstate(all="ignore"):
            root = float(function(*(np.float64(known[a]) for a in names)))
        if root > 0 and _plugs_back(s, root, kappa, level, values):
            found.append((root, formula))
    if len(found) != 1:
        raise ValueError(f"expected one positive ||mu|| with {name}, got {found}")
    root, formula = found[0]
    return SignalBoundary(name, quantity, level, root, formula, s.provenance)


def _plugs_back(s: symbolic.Statement, root: float, kappa: float, level: float,
                values: Mapping[str, float]) -> bool:
    moved = {**values, "mu_norm": root, "mu_sigma_mu": kappa * root**2}
    return abs(float(s.evaluate(moved)) - level) <= PLUG_BACK_RTOL * level
