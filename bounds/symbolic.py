"""Every encoded condition and bound as a sympy expression in named symbols (docs/theory.md §3–§6).

One `Statement` per encoded formula: a *quantity* (psi, the regime indicator, a log error bound) or a
*condition* ``lhs REL rhs``. The sympy expressions below are the single definition of every formula.
From them `python -m bounds.generate` writes the committed module `bounds._generated`: the float64
numpy functions of every statement and of every critical constant, and every statement's LaTeX,
printed by sympy's code and LaTeX printers (tests/test_generated.py regenerates it and requires it to
be identical, so the two cannot drift). The numeric path (`Statement.evaluate`, `Statement.holds`,
`critical_constant`) and `Statement.latex` use the generated module and never import sympy, which
costs about a second of start-up; the sympy definitions are built on first use of a sympy name
(``symbolic.n``, ``Statement.expr``, ...), as are the 50-digit mpmath fallback, used where a float64
evaluation under- or overflows (``log(p + exp(-x))`` with ``x > 745``, ``log Phi(-sqrt psi)`` for
``psi > 1400``), and `bounds.thresholds`. The formula that is printed is the formula that is
evaluated.

Conditions are stored as a *conjunction of atomic relations* (``x >= C max(a, b)`` is the two
relations ``x >= C a`` and ``x >= C b``), which is what `bounds.thresholds` solves with sympy.

Symbols (all positive reals; names are the keys of the value dictionaries):

====================  ==========================================================================
``n, d, m, m_pos``    training-set size, dimension, neurons, neurons with ``a_j > 0``
``gamma, eta, omega`` leaky-ReLU slope, step size, initialisation scale
``mu_norm``           ``||mu||``
``mu_sigma_mu``       ``mu^T Sigma mu``
``kappa``             ``mu^T Sigma mu / ||mu||^2`` (direction of mu, for solving in ``||mu||``)
``tr_sigma``          ``Tr Sigma``
``tr_sigma2``         ``Tr Sigma^2 = ||Sigma||_F^2``
``sigma_op``          ``||Sigma||_2``
``proxy``             sub-Gaussian variance proxy ``sigma_psi^2``
``moment_order``      ``r`` of Theorem 6.3 (``E|xi|^r <= K``), called ``q`` in formulas
``flip``              label-flip rate ``p`` (PRIOR bounds)
``delta``             failure probability of the PRIOR bounds
sample statistics     ``min_corr, orth_ratio, norm_sq_min, off_max, rho, init_max, step_min,
                      loss_1, lift_radius_sq, lift_lambda_max, step_one_min`` (defined where used, §3)
constants             ``C_1, C_2, C_init, C_61, C_u, c_u, c_l, C_l, C_sg, c_sg, C_K, c_CL, C_CL, C_CGB,
                      C_F, C_B, c_B`` (universal constants, default 1, never literals)
====================  ==========================================================================
"""

from __future__ import annotations

import functools
import math
from typing import Mapping

import numpy as np

from bounds import _generated
from bounds._log_functions import log_add_exp, log_gaussian_tail, mp_log_gaussian_tail


PROVENANCES = ("EXACT", "PAPER", "RECONSTRUCTED", "PRIOR", "BEYOND", "DERIVED")
RELATIONS = (">=", ">", "<=", "<")

# Working precision of the mpmath fallback: 50 digits keeps log-probabilities near exp(-10^6)
# exact to far below float64 resolution (mpmath's exponent range is unbounded).
MPMATH_DIGITS = 50

# The names of the universal constants (``CONSTANT_SYMBOLS`` of the definitions), generated.
CONSTANT_NAMES: tuple[str, ...] = _generated.CONSTANT_NAMES


def _sorted_symbols(*expressions):
    import sympy as sp

    free: set = set()
    for expression in expressions:
        free |= sp.sympify(expression).free_symbols
    return tuple(sorted(free, key=lambda s: s.name))


def latex_of(expression) -> str:
    """LaTeX of an expression with the project's symbol names (``\\|\\mu\\|``, ``\\operatorname{Tr}``...)."""
    import sympy as sp

    return sp.latex(expression, symbol_names=_definitions()["_LATEX_NAMES"])


class Statement:
    """One encoded formula: a quantity (``expr``) or a condition (``lhs relation rhs``).

    The statements of `STATEMENTS` are read from `bounds._generated` and evaluate without sympy;
    their sympy attributes (``expr``, ``lhs``, ``rhs``, ``atoms``, ``constant``, ``symbols``) are
    those of the definitions below, built on first access. A statement constructed directly from
    sympy expressions is evaluated through `sympy.lambdify`.

    Attributes
    ----------
    name : str
        Registry key.
    description : str
        One line, in words.
    provenance : str
        One of `PROVENANCES` (docs/theory.md §0).
    section : str
        The docs/theory.md section, e.g. ``"§4"``.
    expr : sympy.Expr or None
        The quantity (for conditions, None).
    lhs, rhs : sympy.Expr or None
        Both sides of a condition (None for quantities).
    relation : str or None
        ``">="``, ``">"``, ``"<="`` or ``"<"`` (conditions only).
    atoms : tuple of (lhs, rhs) pairs
        The conjunction of atomic relations the condition is (one pair when there is no max).
    constant : sympy.Symbol or None
        The universal constant the condition carries, always as a positive factor of the side that
        must be the smaller one, so that the condition holds exactly for constant values up to a
        critical value (the "largest constant for which it still holds").
    constant_name : str or None
        The name of ``constant``, without sympy.
    symbol_names : tuple of str
        The names of the free symbols, sorted: the keys `evaluate` needs, without sympy.
    """

    def __init__(self, name: str, description: str, provenance: str, section: str, expr=None,
                 lhs=None, rhs=None, relation: str | None = None, atoms: tuple = (),
                 constant=None) -> None:
        if provenance not in PROVENANCES:
            raise ValueError(f"unknown provenance {provenance!r}")
        if (expr is None) == (lhs is None):
            raise ValueError("a statement is either a quantity (expr) or a condition (lhs, rhs)")
        if lhs is not None and relation not in RELATIONS:
            raise ValueError(f"unknown relation {relation!r}")
        self.name, self.description, self.provenance, self.section = name, description, provenance, section
        self.relation = relation
        self._sympy = {"expr": expr, "lhs": lhs, "rhs": rhs, "atoms": tuple(atoms),
                       "constant": constant}
        self._is_condition = lhs is not None
        self._generated = None
        self._cache: dict = {}

    @classmethod
    def _from_generated(cls, name: str, entry: dict) -> "Statement":
        """The registered statement ``name`` from its `bounds._generated` entry (no sympy)."""
        statement = cls.__new__(cls)
        statement.name = name
        statement.description, statement.provenance = entry["description"], entry["provenance"]
        statement.section, statement.relation = entry["section"], entry["relation"]
        statement._sympy = None
        statement._is_condition = entry["relation"] is not None
        statement._generated = entry
        statement._cache = {}
        return statement

    def __repr__(self) -> str:
        return f"Statement(name={self.name!r}, provenance={self.provenance!r}, section={self.section!r})"

    def _sympy_attribute(self, key: str):
        if self._sympy is None:
            return getattr(_definitions()["STATEMENTS"][self.name], key)
        return self._sympy[key]

    expr = property(lambda self: self._sympy_attribute("expr"), doc="The quantity (sympy).")
    lhs = property(lambda self: self._sympy_attribute("lhs"), doc="Left side (sympy).")
    rhs = property(lambda self: self._sympy_attribute("rhs"), doc="Right side (sympy).")
    atoms = property(lambda self: self._sympy_attribute("atoms"), doc="The atomic relations.")
    constant = property(lambda self: self._sympy_attribute("constant"), doc="The constant (sympy).")

    @property
    def constant_name(self) -> str | None:
        if self._generated is not None:
            return self._generated["constant"]
        return None if self.constant is None else self.constant.name

    @property
    def is_condition(self) -> bool:
        return self._is_condition

    @property
    def symbols(self) -> tuple:
        """Free symbols (sympy), sorted by name: the keys `evaluate` needs."""
        if self.is_condition:
            return _sorted_symbols(self.lhs, self.rhs)
        return _sorted_symbols(self.expr)

    @property
    def symbol_names(self) -> tuple[str, ...]:
        if self._generated is not None:
            return self._generated["symbols"]
        return tuple(s.name for s in self.symbols)

    def latex(self) -> str:
        """LaTeX of the statement, generated from the same expression that is evaluated."""
        if self._generated is not None:
            return self._generated["latex"]
        return self._latex_from_sympy()

    def _latex_from_sympy(self) -> str:
        if not self.is_condition:
            return latex_of(self.expr)
        relation = {">=": r"\ge", ">": ">", "<=": r"\le", "<": "<"}[self.relation]
        return f"{latex_of(self.lhs)} {relation} {latex_of(self.rhs)}"

    def _functions(self, module: str):
        if module == "numpy" and self._generated is not None:
            return self._generated["symbols"], self._generated["parts"]
        return self._lambdified(module)

    def _lambdified(self, module: str):
        """The parts through `sympy.lambdify` (the mpmath fallback; float64 outside the registry)."""
        if module not in self._cache:
            import sympy as sp

            definitions = _definitions()
            args = self.symbols
            modules = ([definitions["_NUMPY_FUNCTIONS"], "scipy", "numpy"] if module == "numpy"
                       else [definitions["_MPMATH_FUNCTIONS"], "mpmath"])
            parts = (self.lhs, self.rhs) if self.is_condition else (self.expr,)
            self._cache[module] = (tuple(s.name for s in args),
                                   tuple(sp.lambdify(args, p, modules=modules) for p in parts))
        return self._cache[module]

    def _arguments(self, names: tuple[str, ...], values: Mapping[str, float]) -> list:
        missing = [name for name in names if name not in values]
        if missing:
            raise KeyError(f"statement {self.name!r} needs values for {', '.join(missing)}")
        return [values[name] for name in names]

    def evaluate(self, values: Mapping[str, float]) -> float | tuple[float, float]:
        """The quantity (or the pair ``(lhs, rhs)``) in float64, with the mpmath fallback.

        The float64 function is tried first; when any part is not finite the 50-digit mpmath
        function is used instead and its result rounded to float64 (the logarithms encoded here
        stay finite even where the probabilities they stand for underflow). Outside a statement's
        real domain (e.g. :math:`\\sqrt{\\log n}` at n < 1) the float64 nan is returned.
        """
        names, functions = self._functions("numpy")
        arguments = self._arguments(names, values)
        with np.errstate(all="ignore"):
            try:
                parts = tuple(float(f(*arguments)) for f in functions)
            except (ZeroDivisionError, OverflowError):
                # Python floats raise on x/0 (signal 0, Sigma = 0, omega = 0, all valid inputs);
                # float64 scalars give the IEEE answer (inf, or nan for 0/0) instead.
                parts = tuple(float(f(*map(np.float64, arguments))) for f in functions)
        if not all(math.isfinite(p) for p in parts):
            import mpmath

            try:
                exact = self.evaluate_mp(values)
            except ZeroDivisionError:
                # A true division by zero: mpmath raises where float64 gave inf or nan; keep those.
                exact = ()
            # Outside the real domain (sqrt(log n) at n < 1) mpmath answers with a complex number
            # where float64 gave nan: the statement has no real value there, so nan is kept.
            if exact and all(mpmath.im(p) == 0 for p in exact):
                parts = tuple(float(mpmath.re(p)) for p in exact)
        return parts if self.is_condition else parts[0]

    def evaluate_mp(self, values: Mapping[str, float], digits: int = MPMATH_DIGITS) -> tuple:
        """The parts (``(expr,)`` or ``(lhs, rhs)``) as mpmath numbers at ``digits`` digits."""
        import mpmath

        names, functions = self._lambdified("mpmath")
        with mpmath.workdps(digits):
            arguments = [mpmath.mpf(v) for v in self._arguments(names, values)]
            return tuple(+f(*arguments) for f in functions)

    def holds(self, values: Mapping[str, float]) -> bool:
        """Whether the condition holds at ``values`` (float64 comparison)."""
        lhs, rhs = self.evaluate(values)
        return compare(lhs, rhs, self.relation)


def compare(lhs: float, rhs: float, relation: str) -> bool:
    """``lhs relation rhs`` for a relation in `RELATIONS`."""
    return {">=": lhs >= rhs, ">": lhs > rhs, "<=": lhs <= rhs, "<": lhs < rhs}[relation]


def _condition(name, description, provenance, section, atoms, relation, constant=None):
    import sympy as sp

    lhs_parts = [a[0] for a in atoms]
    rhs_parts = [a[1] for a in atoms]
    if len(set(lhs_parts)) == 1:
        lhs, rhs = lhs_parts[0], (sp.Max(*rhs_parts) if relation in (">=", ">") else sp.Min(*rhs_parts))
    else:
        if len(set(rhs_parts)) != 1:
            raise ValueError("atoms must share one side")
        rhs = rhs_parts[0]
        lhs = sp.Max(*lhs_parts) if relation in ("<", "<=") else sp.Min(*lhs_parts)
    return Statement(name, description, provenance, section, lhs=lhs, rhs=rhs, relation=relation,
                     atoms=tuple(atoms), constant=constant)


def _quantity(name, description, provenance, section, expr):
    return Statement(name, description, provenance, section, expr=expr)


@functools.lru_cache(maxsize=None)
def _definitions() -> dict:
    """The sympy definitions of every symbol and statement (built once, on first use of sympy).

    Returns the namespace of the definitions: the symbols (``n``, ``d``, ...), the rate expressions
    (``PSI``, ...), ``STEP_RADIUS_LIMIT``, the functions ``LogGaussianTail`` and ``LogAddExp`` and
    ``STATEMENTS`` (name -> `Statement` with its sympy expressions). `bounds.generate` prints
    `bounds._generated` from it; module attribute access (``symbolic.PSI``) reads it.
    """
    import mpmath
    import sympy as sp

    _POSITIVE = {"positive": True, "real": True}

    n, d, m, m_pos = sp.symbols("n d m m_pos", **_POSITIVE)
    gamma, eta, omega = sp.symbols("gamma eta omega", **_POSITIVE)
    mu_norm, mu_sigma_mu = sp.symbols("mu_norm mu_sigma_mu", **_POSITIVE)
    tr_sigma, tr_sigma2, sigma_op = sp.symbols("tr_sigma tr_sigma2 sigma_op", **_POSITIVE)
    proxy, moment_order, flip, delta = sp.symbols("proxy moment_order flip delta", **_POSITIVE)
    min_corr = sp.Symbol("min_corr", real=True)
    orth_ratio, norm_sq_min, off_max, rho = sp.symbols("orth_ratio norm_sq_min off_max rho", **_POSITIVE)
    init_max, loss_1, lift_radius_sq = sp.symbols("init_max loss_1 lift_radius_sq", **_POSITIVE)
    lift_lambda_max = sp.Symbol("lift_lambda_max", **_POSITIVE)
    # kappa = mu^T Sigma mu / ||mu||^2: fixes the direction of mu when ||mu|| is solved for.
    kappa = sp.Symbol("kappa", **_POSITIVE)
    # The level a quantity is solved to reach (bounds.boundaries: benign boundary psi = level).
    level = sp.Symbol("level", **_POSITIVE)
    step_min, step_one_min = sp.symbols("step_min step_one_min", real=True)
    C_1, C_2, C_init, C_61 = sp.symbols("C_1 C_2 C_init C_61", **_POSITIVE)
    C_u, c_u, c_l, C_l = sp.symbols("C_u c_u c_l C_l", **_POSITIVE)
    C_sg, c_sg, C_K = sp.symbols("C_sg c_sg C_K", **_POSITIVE)
    c_CL, C_CL, C_CGB, C_F, C_r = sp.symbols("c_CL C_CL C_CGB C_F C_r", **_POSITIVE)
    C_B, c_B = sp.symbols("C_B c_B", **_POSITIVE)

    CONSTANT_SYMBOLS = (C_1, C_2, C_init, C_61, C_u, c_u, c_l, C_l, C_sg, c_sg, C_K, c_CL, C_CL, C_CGB, C_F, C_r,
                        C_B, c_B)
    CONSTANT_NAMES = tuple(s.name for s in CONSTANT_SYMBOLS)

    _LATEX_NAMES = {
        mu_norm: r"\|\mu\|", mu_sigma_mu: r"\mu^\top\Sigma\mu", tr_sigma: r"\operatorname{Tr}\Sigma",
        tr_sigma2: r"\operatorname{Tr}\Sigma^2", sigma_op: r"\|\Sigma\|", proxy: r"\sigma_\psi^2",
        moment_order: "q", flip: "p", m_pos: "m_+", min_corr: r"\min_{i,k} y_i y_k K_{ik}",
        orth_ratio: r"\min_i \frac{\|x_i\|^2}{\max_{k\ne i}|K_{ik}|}", norm_sq_min: r"\min_i\|x_i\|^2",
        off_max: r"\max_{i\ne k}|K_{ik}|", init_max: r"\max_{k,j}|\langle x_k, w_j(0)\rangle|",
        step_min: r"S_{\min}", loss_1: r"L(W(1))", lift_radius_sq: r"\max_i\|\tilde x_i\|^2",
        step_one_min: r"\min_{k,j} s_j y_k\langle x_k, w_j(1)\rangle",
        lift_lambda_max: r"\lambda_{\max}(Q)", kappa: r"\kappa", c_CL: r"c_{\mathrm{CL}}", C_CL: r"C_{\mathrm{CL}}",
        C_CGB: r"C_{\mathrm{CGB}}", C_F: r"C_{\mathrm{F}}", C_sg: r"C_{\mathrm{sG}}",
        c_sg: r"c_{\mathrm{sG}}", C_61: r"C_{6.1}", C_init: r"C_{\mathrm{init}}",
    }


    # ---------------------------------------------------------------------------------------------
    # Rates (docs/theory.md §4, §6)

    PSI = n * mu_norm**4 / (n * mu_sigma_mu + tr_sigma2)
    PSI_ALT = n * mu_norm**4 / (n * mu_norm**2 * sigma_op + sigma_op * tr_sigma)
    PSI_CAO_GU_BELKIN = n * mu_norm**4 / (n * mu_sigma_mu + tr_sigma2 + n * sigma_op**2)
    REGIME = n * mu_sigma_mu / tr_sigma2
    REGIME_ALT = n * mu_norm**2 / tr_sigma
    # ``x~_i`` of docs/theory.md §2.1 has squared norm (sum_j a_j^2 c_ij^2) ||x_i||^2; the larger class factor:
    LIFT_FACTOR = sp.Max(m_pos + (m - m_pos) * gamma**2, (m - m_pos) + m_pos * gamma**2) / m

    # Typical values of sample quantities (RECONSTRUCTED, docs/theory.md §3 "typical values"), each with
    # the log factor of a maximum over the ~n^2/2 pairs (or n points) it is taken over:
    # max_{i != k} |<x_i, x_k> - y_i y_k ||mu||^2| ~ 2 sqrt(Tr Sigma^2 log n) + 2 sqrt(2 mu'Sigma mu log n)
    # (the noise inner products have variance Tr Sigma^2, the cross terms <mu, z_i> variance mu'Sigma mu);
    # the same expression bounds the deviation of ||x_i||^2 from ||mu||^2 + Tr Sigma over the n points.
    TYPICAL_MAX_CROSS = 2 * sp.sqrt(tr_sigma2 * sp.log(n)) + 2 * sp.sqrt(2 * mu_sigma_mu * sp.log(n))
    # lambda_max(Q) for balanced neurons, Q = ((1+gamma)^2/4) YKY + ((1-gamma)^2/4) K (docs/theory.md §2.2): the
    # signal block of YKY is ||mu||^2 11^T (eigenvalue n||mu||^2), the noise Gram Z Z^T has top
    # eigenvalue ~ (sqrt(Tr Sigma) + sqrt(n ||Sigma||))^2 (sqrt(d) + sqrt(n) squared for Sigma = I), and
    # the noise enters Q with at most the lifted factor.
    TYPICAL_LIFT_LAMBDA_MAX = ((1 + gamma) ** 2 / 4 * n * mu_norm**2
                               + LIFT_FACTOR * (sp.sqrt(tr_sigma) + sp.sqrt(n * sigma_op)) ** 2)
    # L(W(1)) after one step from a small initialisation: each slope phi'(H_kj(0)) is 1 or gamma with
    # probability 1/2, so the margin after one step is about eta ((1+gamma)/2)^2 (Tr Sigma/n + ||mu||^2).
    TYPICAL_LOSS_1 = sp.exp(-eta * ((1 + gamma) / 2) ** 2 * (tr_sigma / n + mu_norm**2))
    # u* > 0 with e^u* = 1 + 2u* (EXACT, docs/theory.md §3, step size (b)): u* = -W_{-1}(-e^{-1/2}/2) - 1/2
    # = 1.2564...; stored as a 30-digit Float of that closed form (lambdify would evaluate LambertW as a
    # complex number).
    STEP_RADIUS_LIMIT = sp.Float((-sp.LambertW(-sp.exp(-sp.Rational(1, 2)) / 2, -1)
                                  - sp.Rational(1, 2)).evalf(30), 30)


    class LogGaussianTail(sp.Function):
        """log Phi(-x) (EXACT), evaluated by ``scipy.special.log_ndtr(-x)`` in float64.

        Written as ``log(erfc(x/sqrt 2)/2)`` it would lose all precision once erfc turns subnormal
        (x > 26.5) long before the mpmath fallback (non-finite values only) takes over; log_ndtr is
        accurate to a few ulps over the whole real line.
        """

        nargs = 1

        def _latex(self, printer) -> str:
            return rf"\log\Phi\left(-{printer._print(self.args[0])}\right)"


    class LogAddExp(sp.Function):
        """log(e^a + e^b), evaluated by ``numpy.logaddexp`` in float64.

        ``log(p + exp(-x))`` computed literally loses up to 1e-9 relative where exp(-x) is subnormal
        (708 < x < 745: found by `theorybench proptest --profile thorough`); logaddexp(log p, -x) is
        exact there and gives -x exactly when p = 0 (log 0 = -inf).
        """

        nargs = 2

        def _latex(self, printer) -> str:
            a, b = (printer._print(argument) for argument in self.args)
            return rf"\log\left(e^{{{a}}} + e^{{{b}}}\right)"


    # How `lambdify` evaluates the functions above, in float64 and in mpmath.
    _NUMPY_FUNCTIONS = {
        "LogGaussianTail": log_gaussian_tail,
        "LogAddExp": log_add_exp,
    }
    _MPMATH_FUNCTIONS = {
        "LogGaussianTail": mp_log_gaussian_tail,
        "LogAddExp": lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
    }


    def _log_gaussian_tail(x: sp.Expr) -> sp.Expr:
        """log Phi(-x) (EXACT), see `LogGaussianTail`."""
        return LogGaussianTail(x)


    _STATEMENTS = [
        _quantity("psi", "rate exponent psi of Theorem 5.1", "RECONSTRUCTED", "§4", PSI),
        _quantity("psi_alt", "candidate exponent with ||Sigma|| and Tr Sigma (as a public review of the paper states it)",
                  "RECONSTRUCTED", "§4", PSI_ALT),
        _quantity("psi_cao_gu_belkin", "Cao-Gu-Belkin exponent (quoted from memory of the paper, not checked against its text)", "PRIOR", "§6",
                  PSI_CAO_GU_BELKIN),
        _quantity("regime_indicator", "r = n mu^T Sigma mu / Tr Sigma^2 (weak r < 1, strong r > 1)",
                  "RECONSTRUCTED", "§4", REGIME),
        _quantity("regime_indicator_alt", "r_alt = n ||mu||^2 / Tr Sigma (boundary of psi_alt)",
                  "RECONSTRUCTED", "§4", REGIME_ALT),
        _quantity("log_upper_5_1", "log of the upper bound C_u exp(-c_u psi) of Theorem 5.1",
                  "RECONSTRUCTED", "§4", sp.log(C_u) - c_u * PSI),
        _quantity("log_lower_5_1", "log of the lower bound c_l exp(-C_l psi) of Theorem 5.1 (Gaussian)",
                  "RECONSTRUCTED", "§4", sp.log(c_l) - C_l * PSI),
        _quantity("log_prediction_5_1", "log Phi(-sqrt psi), the calibrated point prediction",
                  "RECONSTRUCTED", "§4", _log_gaussian_tail(sp.sqrt(PSI))),
        _quantity("log_upper_6_2", "log of C_sG exp(-c_sG psi / sigma_psi^2) (sub-Gaussian)",
                  "RECONSTRUCTED", "§5", sp.log(C_sg) - c_sg * PSI / proxy),
        _quantity("log_upper_6_3", "log of C_K psi^(-q/2) (polynomial tails, E|xi|^q <= K)",
                  "RECONSTRUCTED", "§5", sp.log(C_K) - moment_order / 2 * sp.log(PSI)),
        _quantity("log_bayes_order", "log of C_B exp(-c_B ||mu||^2): Bayes-order error (strong, isotropic)",
                  "RECONSTRUCTED", "§5", sp.log(C_B) - c_B * mu_norm**2),
        _quantity("log_chatterji_long", "log of p + exp(-c ||mu||^4 / d) (isotropic)", "PRIOR", "§6",
                  LogAddExp(sp.log(flip), -c_CL * mu_norm**4 / d)),
        _quantity("log_cao_gu_belkin", "log of exp(-C n||mu||^4 / (n mu'Sigma mu + ||Sigma||_F^2 + "
                  "n ||Sigma||^2))", "PRIOR", "§6", -C_CGB * PSI_CAO_GU_BELKIN),
        _quantity("log_frei", "log of p + exp(-n ||mu||^4 / (C d))", "PRIOR", "§6",
                  LogAddExp(sp.log(flip), -n * mu_norm**4 / (C_F * d))),
        # --- Theorem 4.8, typical-case versions on the parameters (§3)
        _condition("case1_typical", "Case 1 typical: ||mu||^2 >= C (2 sqrt(Tr Sigma^2 log n) + "
                   "2 sqrt(2 mu'Sigma mu log n))", "RECONSTRUCTED", "§3",
                   [(mu_norm**2, C_1 * TYPICAL_MAX_CROSS)], ">=", C_1),
        _condition("case2_typical", "Case 2 typical: gamma min ||x_i||^2 >= C n max |<x_i, x_k>| with "
                   "min ||x_i||^2 ~ ||mu||^2 + Tr Sigma - X, max |<x_i, x_k>| ~ ||mu||^2 + X, "
                   "X = 2 sqrt(Tr Sigma^2 log n) + 2 sqrt(2 mu'Sigma mu log n)", "RECONSTRUCTED", "§3",
                   [(gamma * (mu_norm**2 + tr_sigma - TYPICAL_MAX_CROSS),
                     C_2 * n * (mu_norm**2 + TYPICAL_MAX_CROSS))],
                   ">=", C_2),
        _condition("small_init_typical", "small initialisation, typical: C omega sqrt(2 log(2nm)) "
                   "sqrt(||mu||^2 + Tr Sigma) < eta gamma (||mu||^2 + Tr Sigma) / (n sqrt m)",
                   "RECONSTRUCTED", "§3",
                   [(C_init * omega * sp.sqrt(2 * sp.log(2 * n * m)) * sp.sqrt(mu_norm**2 + tr_sigma),
                     eta * gamma * (mu_norm**2 + tr_sigma) / (n * sp.sqrt(m)))], "<", C_init),
        _condition("step_size_typical", "step size (b), typical: eta L(W(1)) max_i ||x~_i||^2 <= u*", "RECONSTRUCTED", "§3",
                   [(eta * TYPICAL_LOSS_1 * LIFT_FACTOR * (mu_norm**2 + tr_sigma + TYPICAL_MAX_CROSS),
                     STEP_RADIUS_LIMIT)], "<="),
        _condition("step_size_typical_lambda", "step size (a), typical: eta L(W(1)) lambda_max(Q) "
                   "<= 2", "RECONSTRUCTED", "§3",
                   [(eta * TYPICAL_LOSS_1 * TYPICAL_LIFT_LAMBDA_MAX, sp.Integer(2))], "<="),
        # --- Theorem 4.8 on the drawn sample (§3)
        _condition("case1_sample", "Case 1: min_{i,k} y_i y_k <x_i, x_k> >= 0", "EXACT", "§3",
                   [(min_corr, sp.Integer(0))], ">="),
        _condition("case2_sample", "Case 2: gamma ||x_i||^2 >= C n max_{k != i} |<x_i, x_k>| for all i",
                   "RECONSTRUCTED", "§3", [(gamma * orth_ratio, C_2 * n)], ">=", C_2),
        _condition("case2_first_step", "Case 2, first step: gamma min ||x_i||^2 > (n-1) rho max |K_ik|",
                   "DERIVED", "§3", [(gamma * norm_sq_min, (n - 1) * rho * off_max)], ">"),
        _condition("small_init_sample", "small initialisation: max |<x_k, w_j(0)>| < eta/(n sqrt m) S_min",
                   "DERIVED", "§3", [(init_max, eta / (n * sp.sqrt(m)) * step_min)], "<"),
        _condition("step_one_exact", "step one: min_{k,j} s_j y_k <x_k, w_j(1)> > 0", "EXACT", "§3",
                   [(step_one_min, sp.Integer(0))], ">"),
        _condition("step_size_sample", "step size (b): eta L(W(1)) max_i ||x~_i||^2 <= u* (e^u* = 1 + 2u*)",
                   "DERIVED", "§3", [(eta * loss_1 * lift_radius_sq, STEP_RADIUS_LIMIT)], "<="),
        _condition("step_size_lambda", "step size (a): eta L(W(1)) lambda_max(Q) <= 2", "DERIVED", "§3",
                   [(eta * loss_1 * lift_lambda_max, sp.Integer(2))], "<="),
        # --- The validity domain of psi (§4, corrected 2026-11-29): effective rank Tr Sigma/||Sigma|| >~ n
        _condition("psi_domain", "psi's validity domain: Tr Sigma / ||Sigma|| >= C n (effective rank)",
                   "RECONSTRUCTED", "§4", [(tr_sigma, C_r * n * sigma_op)], ">=", C_r),
        # --- Assumption 6.1 and PRIOR conditions (§5, §6)
        _condition("assumption_6_1", "Assumption 6.1 (Sigma = I): d >= C max(n ||mu||^2, n^2)", "PAPER",
                   "§5", [(d, C_61 * n * mu_norm**2), (d, C_61 * n**2)], ">=", C_61),
        _condition("cao_gu_belkin_condition", "Tr Sigma >= C max(n^(3/2) ||Sigma||, n ||Sigma||_F "
                   "sqrt(log(n/delta)), n ||mu||^2)", "PRIOR", "§6",
                   [(tr_sigma, C_CGB * n**sp.Rational(3, 2) * sigma_op),
                    (tr_sigma, C_CGB * n * sp.sqrt(tr_sigma2) * sp.sqrt(sp.log(n / delta))),
                    (tr_sigma, C_CGB * n * mu_norm**2)], ">=", C_CGB),
        _condition("chatterji_long_dimension", "d >= C max(n ||mu||^2, n^2 log n)", "PRIOR", "§6",
                   [(d, C_CL * n * mu_norm**2), (d, C_CL * n**2 * sp.log(n))], ">=", C_CL),
        _condition("chatterji_long_signal", "||mu||^2 >= C log n", "PRIOR", "§6",
                   [(mu_norm**2, C_CL * sp.log(n))], ">=", C_CL),
        _condition("chatterji_long_size", "n >= C", "PRIOR", "§6", [(n, C_CL)], ">=", C_CL),
        _condition("cao_gu_belkin_signal", "||mu||^2 >= C ||Sigma|| log(n/delta)", "PRIOR", "§6",
                   [(mu_norm**2, C_CGB * sigma_op * sp.log(n / delta))], ">=", C_CGB),
        _condition("frei_dimension", "d >= C max(n ||mu||^2, n^2 log(n/delta))", "PRIOR", "§6",
                   [(d, C_F * n * mu_norm**2), (d, C_F * n**2 * sp.log(n / delta))], ">=", C_F),
        _condition("frei_signal", "||mu||^2 >= C log(n/delta)", "PRIOR", "§6",
                   [(mu_norm**2, C_F * sp.log(n / delta))], ">=", C_F),
    ]

    STATEMENTS = {s.name: s for s in _STATEMENTS}
    return {key: value for key, value in locals().items() if key not in ("sp", "mpmath")}


def __getattr__(name: str):
    # PEP 562: the sympy names of the definitions (``symbolic.n``, ``symbolic.PSI``, ...) on first
    # access; dunder probes (``__wrapped__``, ``__path__``...) must not build them.
    if not name.startswith("__"):
        definitions = _definitions()
        if name in definitions and name != "STATEMENTS":
            return definitions[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


STATEMENTS: dict[str, Statement] = {name: Statement._from_generated(name, entry)
                                    for name, entry in _generated.STATEMENTS.items()}


def statement(name: str) -> Statement:
    """The registered statement called ``name`` (KeyError listing the valid names otherwise)."""
    try:
        return STATEMENTS[name]
    except KeyError:
        raise KeyError(f"no statement {name!r}; known: {', '.join(sorted(STATEMENTS))}") from None


@functools.lru_cache(maxsize=None)
def critical_constant_expression(name: str):
    """The value of the condition's constant at which it becomes an equality, as a sympy expression.

    Every constant enters as a positive factor of the side that must be the smaller one, so the
    condition holds exactly for constants below this value (for a max of several atoms, the
    smallest of their critical values). Solved by `sympy.solve`; `bounds.generate` prints it into
    `bounds._generated` for `critical_constant`.
    """
    import sympy as sp

    try:
        s = _definitions()["STATEMENTS"][name]
    except KeyError:
        statement(name)  # the KeyError that lists the registered names
        raise
    if s.constant is None:
        raise ValueError(f"statement {name!r} carries no universal constant")
    values = []
    for lhs, rhs in s.atoms:
        solutions = sp.solve(sp.Eq(lhs, rhs), s.constant)
        if len(solutions) != 1:
            raise ValueError(f"constant of {name!r} is not determined by one atom: {solutions}")
        values.append(solutions[0])
    return sp.Min(*values) if len(values) > 1 else values[0]


def critical_constant(name: str, values: Mapping[str, float]) -> float:
    """Numeric `critical_constant_expression` at ``values`` (float64, from `bounds._generated`)."""
    s = statement(name)
    if s.constant_name is None:
        raise ValueError(f"statement {name!r} carries no universal constant")
    names, function = s._generated["critical"]
    arguments = [values[name] for name in names]
    # E.g. Case 2 typical with ||mu|| = 0: C <= Tr Sigma / (n ||mu||^2) holds for every C, and the
    # IEEE answer inf says so; Python floats raise on x/0 where float64 scalars give inf (or nan).
    with np.errstate(all="ignore"):
        try:
            return float(function(*arguments))
        except ZeroDivisionError:
            return float(function(*map(np.float64, arguments)))
