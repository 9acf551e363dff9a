"""Thresholds a user asks for, solved with sympy from the statements of `bounds.symbolic`.

- `solve_threshold`: the value of one symbol at which a condition switches (the others fixed), and on
  which side it holds;
- `smallest_dimension`: the smallest integer d for which a condition holds, for isotropic noise
  (:math:`\\operatorname{Tr}\\Sigma = \\operatorname{Tr}\\Sigma^2 = d`, :math:`\\|\\Sigma\\| = 1`,
  :math:`\\mu^\\top\\Sigma\\mu = \\|\\mu\\|^2`);
- `phase_boundary_signal`: the :math:`\\|\\mu\\|` at which the regime indicator of an exponent equals 1
  (docs/theory.md §4; :math:`\\sqrt{d/n}` for :math:`\\Sigma = I`);
- `benign_boundary_signal`: the :math:`\\|\\mu\\|` at which a candidate exponent equals a level
  (default 1): below it the predicted error is of constant order (harmful), above it decays (benign
  as :math:`\\psi\\to\\infty`, docs/theory.md §4); both are `bounds.boundaries` (roots solved ahead of
  time in `bounds._generated`, no sympy at run time) wrapped with their sympy expression.

The direction of the mean is held fixed: :math:`\\mu^\\top\\Sigma\\mu = \\kappa\\|\\mu\\|^2` with
:math:`\\kappa = \\mu^\\top\\Sigma\\mu/\\|\\mu\\|^2` taken from the given values. Every threshold is a
consequence of the encoded statement and carries its provenance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping

import mpmath
import sympy as sp

from bounds import boundaries, symbolic
from theorybench.errors import UserInputError

ISOTROPIC = {symbolic.tr_sigma: symbolic.d, symbolic.tr_sigma2: symbolic.d,
             symbolic.sigma_op: sp.Integer(1), symbolic.mu_sigma_mu: symbolic.mu_norm**2}


@dataclass(frozen=True)
class Threshold:
    """Where a condition switches as one symbol varies.

    Attributes
    ----------
    statement : str
        The condition.
    variable : str
        The symbol that varies.
    value : float
        The switching value (for `smallest_dimension`, the smallest integer that satisfies it).
    holds_above : bool
        True when the condition holds for values above ``value``, False when below.
    expression : sympy.Expr
        The switching value as an expression in the remaining symbols (before substitution), a max
        or min over the atoms of the condition.
    provenance : str
        That of the statement.
    """

    statement: str
    variable: str
    value: float
    holds_above: bool
    expression: sp.Expr
    provenance: str

    def latex(self) -> str:
        side = r"\ge" if self.holds_above else r"\le"
        variable = symbolic.latex_of(_symbol(self.variable))
        return f"{variable} {side} {symbolic.latex_of(self.expression)}"


_SYMBOLS = {s.name: s for s in symbolic._definitions().values() if isinstance(s, sp.Symbol)}


def _symbol(name: str) -> sp.Symbol:
    if name not in _SYMBOLS:
        raise UserInputError(f"variable = {name!r} is not allowed: it must be a symbol of "
                             f"bounds.symbolic ({', '.join(sorted(_SYMBOLS))}).")
    return _SYMBOLS[name]


@functools.lru_cache(maxsize=None)
def _symbolic_roots(lhs: sp.Expr, rhs: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, ...] | None:
    # The roots as expressions in the other symbols do not depend on their values: solved once per
    # (condition, variable), since sympy's solve costs up to seconds (a quadratic in sqrt(d)).
    # check=False: sympy's own verification of each root (checksol, simplification of the
    # substituted equation) took most of that time, and every root is verified anyway where it is
    # used, numerically at 30 digits against the equation itself (`_satisfies`) and for positivity.
    try:
        roots = sp.solve(sp.Eq(lhs, rhs), variable, check=False)
    except (NotImplementedError, TypeError):
        # No closed form: sympy says so (NotImplementedError), or fails deciding an inequality on
        # the way (TypeError "cannot determine truth value of Relational", e.g. the typical Case 2
        # in n, transcendental through sqrt(log n)). None is cached, so it is tried once.
        return None
    return tuple(sp.expand_log(r, force=True) for r in roots)


class NoRoot(ValueError):
    """A condition that never switches as the variable grows: it holds everywhere or nowhere."""


def _atom_root(lhs: sp.Expr, rhs: sp.Expr, variable: sp.Symbol,
               values: Mapping[str, float]) -> sp.Expr:
    # sympy does not know that log(n) > 0 for n >= 2, so sign-ambiguous roots are kept by solve and
    # the positive one is picked numerically.
    roots = _symbolic_roots(lhs, rhs, variable)
    if roots is None:
        raise UserInputError(f"{lhs} = {rhs} has no closed-form solution in {variable}; evaluate "
                             "the condition at given values instead.")
    # Squaring (sqrt(d) in the typical Case 2) makes solve return roots of the squared equation
    # too; only a root that satisfies the equation itself is a threshold.
    roots = [r for r in roots if r != 0 and _numeric(r, values) > 0
             and _satisfies(lhs, rhs, variable, r, values)]
    if not roots:
        raise NoRoot(f"{lhs} = {rhs} has no positive root in {variable} at these values")
    # Several positive roots (the typical Case 2 is a quadratic in sqrt(d): at n = 2 and a large
    # signal it holds for tiny d, fails in between, and holds again for large d): the largest one is
    # the threshold beyond which the condition never switches again.
    return max(roots, key=lambda r: _numeric(r, values))


def solve_threshold(statement_name: str, variable: str, values: Mapping[str, float], *,
                    substitutions: Mapping[sp.Symbol, sp.Expr] | None = None) -> Threshold:
    """Solve a condition for one symbol, all other symbols at ``values``.

    Each atom ``lhs REL rhs`` is solved symbolically (``lhs = rhs``, one positive root), and the side
    on which it holds is read from the sign of ``d(lhs - rhs)/d variable`` at the root. The condition
    (a conjunction) holds above the largest root when every atom holds above its root, below the
    smallest when every atom holds below; mixed directions are refused.

    Parameters
    ----------
    substitutions
        Symbol -> expression replacements made before solving (e.g. `ISOTROPIC`).
    """
    s = symbolic.statement(statement_name)
    if not s.is_condition:
        raise UserInputError(f"statement {statement_name!r} is a quantity, not a condition.")
    x = _symbol(variable)
    roots, above = [], []
    for lhs, rhs in s.atoms:
        lhs, rhs = (sp.sympify(e).subs(substitutions or {}) for e in (lhs, rhs))
        if x not in (lhs - rhs).free_symbols:
            raise UserInputError(f"{variable} does not enter the condition {statement_name!r}.")
        root = _atom_root(lhs, rhs, x, values)
        roots.append(root)
        slope = sp.diff(lhs - rhs, x).subs(x, root)
        increasing = _numeric(slope, values) > 0
        above.append(increasing == (s.relation in (">=", ">")))
    if len(set(above)) != 1:
        raise UserInputError(f"{statement_name!r} holds on a bounded interval of {variable}; "
                             "ask for each side separately.")
    expression = sp.Max(*roots) if above[0] else sp.Min(*roots)
    value = float(_numeric(expression, values))
    return Threshold(statement_name, variable, value, above[0], expression, s.provenance)


def _satisfies(lhs: sp.Expr, rhs: sp.Expr, variable: sp.Symbol, root: sp.Expr,
               values: Mapping[str, float]) -> bool:
    # 30-digit evaluation: a true root leaves a residual ~1e-28 of the sides' size, a spurious one
    # a residual of their own order; 1e-12 separates the two with room on both sides.
    left, right = (_numeric(side.subs(variable, root), values) for side in (lhs, rhs))
    return abs(left - right) <= 1e-12 * max(abs(left), abs(right), 1e-300)


def _numeric(expression: sp.Expr, values: Mapping[str, float]) -> float:
    missing = [s.name for s in expression.free_symbols if s.name not in values]
    if missing:
        raise UserInputError(f"a value is needed for {', '.join(sorted(missing))}.")
    symbols, function = _mpmath_function(expression)
    # 30 digits, as sympy's evalf(30) gave, through a cached mpmath function: substituting and
    # evaluating the expression tree anew cost seconds per threshold for the roots of a quadratic.
    with mpmath.workdps(30):
        value = complex(mpmath.mpc(function(*(mpmath.mpf(values[s.name]) for s in symbols))))
    # A root that is complex at these values is no threshold; it is filtered out as nan.
    return value.real if abs(value.imag) <= 1e-25 * max(abs(value.real), 1.0) else math.nan


@functools.lru_cache(maxsize=None)
def _mpmath_function(expression: sp.Expr):
    symbols = tuple(sorted(expression.free_symbols, key=lambda s: s.name))
    return symbols, sp.lambdify(symbols, expression, modules="mpmath")


def smallest_dimension(statement_name: str, values: Mapping[str, float]) -> Threshold:
    """The smallest integer d from which on the condition holds, for isotropic noise (Sigma = I).

    (A condition may also hold at some smaller d, e.g. the typical Case 2 at n = 2 with a large
    signal, where the noise is negligible; the answer is the threshold beyond which it always holds.)

    The continuous switching value ``t`` is solved symbolically; the answer is the smallest integer
    ``d >= t`` that satisfies the condition when evaluated in float64 (``ceil(t)``, or one more
    when a strict inequality is an equality there).
    """
    s = symbolic.statement(statement_name)
    try:
        threshold = solve_threshold(statement_name, "d", values, substitutions=ISOTROPIC)
    except NoRoot:
        # No switching point: the condition holds for every d or for none (checked at d = 1).
        if _holds_isotropic(s, values, 1):
            return Threshold(statement_name, "d", 1.0, True, sp.Integer(1), s.provenance)
        raise UserInputError(f"{statement_name!r} holds for no d at these values.") from None
    if not threshold.holds_above:
        raise UserInputError(f"{statement_name!r} holds for small d, not large d: no smallest d.")
    candidate = max(1, math.ceil(threshold.value))
    while not _holds_isotropic(s, values, candidate):
        candidate += 1
    return Threshold(statement_name, "d", float(candidate), True, threshold.expression, s.provenance)


def isotropic_values(values: Mapping[str, float], d: float) -> dict[str, float]:
    """``values`` with dimension ``d`` and the covariance functionals of Sigma = I_d."""
    out = dict(values)
    out.update(d=float(d), tr_sigma=float(d), tr_sigma2=float(d), sigma_op=1.0,
               mu_sigma_mu=values["mu_norm"] ** 2)
    return out


def _holds_isotropic(s: symbolic.Statement, values: Mapping[str, float], d: float) -> bool:
    return s.holds(isotropic_values(values, d))


def phase_boundary_signal(values: Mapping[str, float], exponent: str = "psi") -> Threshold:
    """||mu|| at which the regime indicator of ``exponent`` equals 1 (RECONSTRUCTED, docs/theory.md §4).

    `bounds.boundaries.phase_boundary` as a `Threshold`. For psi (and Cao–Gu–Belkin):
    :math:`\\|\\mu\\| = \\sqrt{\\operatorname{Tr}\\Sigma^2/(n\\kappa)}`; for psi_alt:
    :math:`\\sqrt{\\operatorname{Tr}\\Sigma/n}`. Both are :math:`\\sqrt{d/n}` for Sigma = I.
    """
    return _signal_threshold(boundaries.phase_boundary(values, exponent))


def benign_boundary_signal(values: Mapping[str, float], exponent: str = "psi",
                           level: float = 1.0) -> Threshold:
    """||mu|| at which the candidate exponent equals ``level`` (RECONSTRUCTED, docs/theory.md §4).

    `bounds.boundaries.benign_boundary` as a `Threshold`. Every candidate is increasing in ||mu||
    (direction fixed), so the predicted error bound :math:`e^{-c\\,\\psi}` decays (benign side)
    above the returned value and is of order 1 (harmful side) below it.
    """
    return _signal_threshold(boundaries.benign_boundary(values, exponent, level))


def _signal_threshold(found: boundaries.SignalBoundary) -> Threshold:
    # The generated root is printed text in the symbols of bounds.symbolic (and the level).
    # The level exactly as the float64 it is: nsimplify rounded 1.0000000002 to 1.
    expression = sp.sympify(found.formula, locals=_SYMBOLS).subs(
        _SYMBOLS["level"], sp.Rational(found.level))
    return Threshold(found.name, "mu_norm", found.value, True, expression, found.provenance)
