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
  as :math:`\\psi\\to\\infty`, docs/theory.md §4).

The direction of the mean is held fixed: :math:`\\mu^\\top\\Sigma\\mu = \\kappa\\|\\mu\\|^2` with
:math:`\\kappa = \\mu^\\top\\Sigma\\mu/\\|\\mu\\|^2` taken from the given values. Every threshold is a
consequence of the encoded statement and carries its provenance.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Mapping

import sympy as sp

from bounds import symbolic
from bounds.rates import CANDIDATE_EXPONENTS
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


_SYMBOLS = {s.name: s for s in vars(symbolic).values() if isinstance(s, sp.Symbol)}


def _symbol(name: str) -> sp.Symbol:
    if name not in _SYMBOLS:
        raise UserInputError(f"variable = {name!r} is not allowed: it must be a symbol of "
                             f"bounds.symbolic ({', '.join(sorted(_SYMBOLS))}).")
    return _SYMBOLS[name]


def _atom_root(lhs: sp.Expr, rhs: sp.Expr, variable: sp.Symbol,
               values: Mapping[str, float]) -> sp.Expr:
    # sympy does not know that log(n) > 0 for n >= 2, so sign-ambiguous roots are kept by solve and
    # the positive one is picked numerically.
    try:
        solutions = sp.solve(sp.Eq(lhs, rhs), variable)
    except NotImplementedError:
        raise UserInputError(f"{lhs} = {rhs} has no closed-form solution in {variable}; evaluate "
                             "the condition at given values instead.") from None
    roots = [sp.expand_log(r, force=True) for r in solutions]
    # Squaring (sqrt(d) in the typical Case 2) makes solve return roots of the squared equation
    # too; only a root that satisfies the equation itself is a threshold.
    roots = [r for r in roots if r != 0 and _numeric(r, values) > 0
             and _satisfies(lhs, rhs, variable, r, values)]
    if len(roots) != 1:
        raise ValueError(f"expected one positive root of {lhs} = {rhs} in {variable}, got {roots}")
    return roots[0]


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
    free = {s: sp.Float(values[s.name], 30) for s in expression.free_symbols}
    value = complex(expression.subs(free).evalf(30))
    # A root that is complex at these values is no threshold; it is filtered out as nan.
    return value.real if abs(value.imag) <= 1e-25 * max(abs(value.real), 1.0) else math.nan


def smallest_dimension(statement_name: str, values: Mapping[str, float]) -> Threshold:
    """The smallest integer d for which the condition holds, for isotropic noise (Sigma = I).

    The continuous switching value ``t`` is solved symbolically; the answer is the smallest integer
    ``d >= t`` that satisfies the condition when evaluated in float64 (``ceil(t)``, or one more
    when a strict inequality is an equality there).
    """
    s = symbolic.statement(statement_name)
    threshold = solve_threshold(statement_name, "d", values, substitutions=ISOTROPIC)
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


@functools.lru_cache(maxsize=None)
def _signal_roots(quantity: str, target: sp.Expr) -> tuple[sp.Expr, ...]:
    # Solved once per (quantity, level) with kappa symbolic, then evaluated numerically: sympy's
    # solve costs ~0.1 s, and `theorybench check` asks for the same boundaries several times.
    expression = symbolic.statement(quantity).expr.subs(
        symbolic.mu_sigma_mu, symbolic.kappa * symbolic.mu_norm**2)
    return tuple(sp.solve(sp.Eq(expression, target), symbolic.mu_norm))


def phase_boundary_signal(values: Mapping[str, float], exponent: str = "psi") -> Threshold:
    """||mu|| at which the regime indicator of ``exponent`` equals 1 (RECONSTRUCTED, docs/theory.md §4).

    For psi (and Cao–Gu–Belkin): :math:`\\|\\mu\\| = \\sqrt{\\operatorname{Tr}\\Sigma^2/(n\\kappa)}`;
    for psi_alt: :math:`\\sqrt{\\operatorname{Tr}\\Sigma/n}`. Both are :math:`\\sqrt{d/n}` for Sigma = I.
    """
    if exponent not in CANDIDATE_EXPONENTS:
        raise UserInputError(f"exponent = {exponent!r} is not allowed: it must be one of "
                             f"{', '.join(CANDIDATE_EXPONENTS)}.")
    indicator = symbolic.statement(CANDIDATE_EXPONENTS[exponent][1])
    return _solve_signal(indicator.name, sp.Integer(1), values, indicator.provenance,
                         f"{indicator.name} = 1")


def benign_boundary_signal(values: Mapping[str, float], exponent: str = "psi",
                           level: float = 1.0) -> Threshold:
    """||mu|| at which the candidate exponent equals ``level`` (RECONSTRUCTED, docs/theory.md §4).

    Every candidate is increasing in ||mu|| (direction fixed), so the predicted error bound
    :math:`e^{-c\\,\\psi}` decays (benign side) above the returned value and is of order 1 (harmful
    side) below it.
    """
    if exponent not in CANDIDATE_EXPONENTS:
        raise UserInputError(f"exponent = {exponent!r} is not allowed: it must be one of "
                             f"{', '.join(CANDIDATE_EXPONENTS)}.")
    if not (level > 0 and math.isfinite(level)):
        raise UserInputError(f"level = {level!r} is not allowed: it must be a finite real > 0.")
    quantity = symbolic.statement(CANDIDATE_EXPONENTS[exponent][0])
    # The level exactly as the float64 it is: nsimplify rounded 1.0000000002 to 1.
    return _solve_signal(quantity.name, sp.Rational(level), values,
                         quantity.provenance, f"{quantity.name} = {level:g}")


def _solve_signal(quantity: str, target: sp.Expr, values: Mapping[str, float],
                  provenance: str, name: str) -> Threshold:
    # mu^T Sigma mu = kappa ||mu||^2 with the direction of mu (hence kappa) held fixed.
    with_kappa = {**values, "kappa": values["mu_sigma_mu"] / values["mu_norm"] ** 2}
    roots = [r for r in _signal_roots(quantity, target) if _numeric(r, with_kappa) > 0]
    if len(roots) != 1:
        raise ValueError(f"expected one positive ||mu|| with {name}, got {roots}")
    return Threshold(name, "mu_norm", _numeric(roots[0], with_kappa), True, roots[0], provenance)
