"""Rate quantities of docs/theory.md §4 and §6: psi, the regime indicator r, the candidate exponents.

All numbers here are generated from the sympy expressions of `bounds.symbolic` (one source for the
formula, its value and its LaTeX). Provenance: psi, psi_alt and r are RECONSTRUCTED (§4); the
Cao–Gu–Belkin exponent is PRIOR (§6, recalled, not read).

.. math::
    \\psi = \\frac{n\\|\\mu\\|^4}{n\\,\\mu^\\top\\Sigma\\mu + \\operatorname{Tr}\\Sigma^2},\\qquad
    \\psi_{\\mathrm{alt}} = \\frac{n\\|\\mu\\|^4}
                               {n\\|\\mu\\|^2\\|\\Sigma\\| + \\|\\Sigma\\|\\operatorname{Tr}\\Sigma},\\qquad
    \\psi_{\\mathrm{CGB}} = \\frac{n\\|\\mu\\|^4}{n\\,\\mu^\\top\\Sigma\\mu + \\|\\Sigma\\|_F^2 + n\\|\\Sigma\\|^2},
    \\qquad r = \\frac{n\\,\\mu^\\top\\Sigma\\mu}{\\operatorname{Tr}\\Sigma^2}.

For ``Sigma = I`` the first two coincide (``n||mu||^4 / (n||mu||^2 + d)``); for anisotropic Sigma
they differ, and the verifier judges each candidate by its constant band (§7).
"""

from __future__ import annotations

import math
from typing import Mapping

import mpmath

from bounds import symbolic
from theorybench.config import Config, NoiseConfig
from theorybench.covariance import covariance_summary
from theorybench.errors import UserInputError

# name -> (statement in bounds.symbolic, regime indicator whose r = 1 is that exponent's knee)
CANDIDATE_EXPONENTS: dict[str, tuple[str, str]] = {
    "psi": ("psi", "regime_indicator"),
    "psi_alt": ("psi_alt", "regime_indicator_alt"),
    "cao_gu_belkin": ("psi_cao_gu_belkin", "regime_indicator"),
}
# Default failure probability of the PRIOR high-probability statements (docs/theory.md §6): not a universal
# constant but a parameter of those statements; 0.05 is the conventional level.
DEFAULT_DELTA = 0.05


def parameter_values(config: Config, *, delta: float = DEFAULT_DELTA) -> dict[str, float]:
    """The values of the parameter symbols of `bounds.symbolic` for a configuration.

    Covariance functionals come from `theorybench.covariance.covariance_summary` (EXACT). ``proxy``
    is present only for sub-Gaussian noise; ``moment_order`` is not set here (Theorem 6.3 chooses it).
    """
    if not (0 < delta < 1):
        raise UserInputError(f"delta = {delta!r} is not allowed: it must be strictly between 0 and 1.")
    data, network = config.data, config.network
    summary = covariance_summary(data)
    values = {
        "n": float(data.n), "d": float(data.d), "m": float(network.m),
        "m_pos": float(network.positive_neurons), "gamma": network.gamma,
        "eta": config.training.step_size, "omega": network.init_scale,
        "mu_norm": math.sqrt(summary.mean_norm_sq), "mu_sigma_mu": summary.mean_sigma_mean,
        "tr_sigma": summary.trace, "tr_sigma2": summary.trace_of_square,
        "sigma_op": summary.operator_norm, "flip": data.label_flip, "delta": delta,
        "mahalanobis_sq": summary.mahalanobis_sq,
    }
    proxy = data.noise.sub_gaussian_variance_proxy()
    if proxy is not None:
        values["proxy"] = proxy
    return values


def candidate_exponent(name: str, values: Mapping[str, float]) -> float:
    """The candidate exponent ``name`` (one of `CANDIDATE_EXPONENTS`) at the parameter values.

    RECONSTRUCTED (psi, psi_alt; docs/theory.md §4) or PRIOR (cao_gu_belkin; §6).
    """
    if name not in CANDIDATE_EXPONENTS:
        raise UserInputError(
            f"exponent = {name!r} is not allowed: it must be one of {', '.join(CANDIDATE_EXPONENTS)}."
        )
    return float(symbolic.statement(CANDIDATE_EXPONENTS[name][0]).evaluate(values))


def psi(values: Mapping[str, float]) -> float:
    """psi of docs/theory.md §4 (RECONSTRUCTED)."""
    return candidate_exponent("psi", values)


def regime_indicator(values: Mapping[str, float], exponent: str = "psi") -> float:
    """r = n mu^T Sigma mu / Tr Sigma^2 (or n||mu||^2 / Tr Sigma for psi_alt). RECONSTRUCTED, §4."""
    candidate_exponent(exponent, values)  # validates the name
    return float(symbolic.statement(CANDIDATE_EXPONENTS[exponent][1]).evaluate(values))


def regime(r: float) -> str:
    """``"weak"`` for r < 1, ``"strong"`` for r >= 1 (RECONSTRUCTED, §4: the knee sits at r ~ 1);
    ``"undefined"`` for r = nan (0/0: mu'Sigma mu = 0 and Tr Sigma^2 = 0, i.e. Sigma = 0 on mu's
    side and everywhere else)."""
    if math.isnan(r):
        return "undefined"
    return "weak" if r < 1.0 else "strong"


def absolute_moment(noise: NoiseConfig, order: float) -> float:
    """E|xi|^order for the standardised noise law (EXACT, docs/theory.md §1); ``inf`` when it is infinite.

    Gaussian :math:`2^{q/2}\\Gamma(\\frac{q+1}{2})/\\sqrt\\pi`; Rademacher 1; Uniform[-sqrt3, sqrt3]
    :math:`3^{q/2}/(q+1)`; Student-t with nu > q, scaled by :math:`\\sqrt{(\\nu-2)/\\nu}`:
    :math:`((\\nu-2)/\\nu)^{q/2}\\,\\nu^{q/2}\\Gamma(\\frac{q+1}{2})\\Gamma(\\frac{\\nu-q}{2})
    /(\\sqrt\\pi\\,\\Gamma(\\frac\\nu2))`; a user law only at order 4 with a declared fourth moment.
    """
    q = mpmath.mpf(order)
    family = noise.family
    if family == "gaussian":
        value = 2 ** (q / 2) * mpmath.gamma((q + 1) / 2) / mpmath.sqrt(mpmath.pi)
    elif family == "rademacher":
        value = mpmath.mpf(1)
    elif family == "uniform":
        value = 3 ** (q / 2) / (q + 1)
    elif family == "student_t":
        nu = mpmath.mpf(noise.nu)
        if nu <= q:
            return math.inf
        value = ((nu - 2) ** (q / 2) * mpmath.gamma((q + 1) / 2) * mpmath.gamma((nu - q) / 2)
                 / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(nu / 2)))
    else:
        if order == 4 and noise.fourth_moment is not None:
            return float(noise.fourth_moment)
        return math.inf
    return float(value)


def default_moment_order(noise: NoiseConfig) -> float:
    """The moment order q in (2, 4] used by Theorem 6.3: 4 when E xi^4 < inf, else (2 + nu)/2.

    For Student-t with nu <= 4 the q-th moment is finite exactly for q < nu; (2 + nu)/2 is the
    midpoint of (2, nu), an arbitrary but stated choice (pass ``moment_order`` to override).
    """
    if math.isfinite(noise.kurtosis()):
        return 4.0
    if noise.family == "student_t":
        return (2.0 + noise.nu) / 2.0
    return 4.0


def deterministic_equivalent_of(config: Config):
    """psi_DE of `bounds.deterministic_equivalent` for a configuration (RECONSTRUCTED, §4), or None
    when kappa does not exist (rank Sigma <= n)."""
    from bounds.deterministic_equivalent import deterministic_equivalent
    from theorybench.covariance import covariance_spectrum

    eigenvalues, multiplicities, weights = covariance_spectrum(config.data)
    return deterministic_equivalent(eigenvalues, multiplicities, weights, config.data.n)


def effective_rank(values: Mapping[str, float]) -> float:
    """r_0(Sigma) = Tr Sigma / ||Sigma|| (EXACT). psi is valid only where it is >~ n (§4): below,
    the interpolator absorbs Sigma's top eigendirections (docs/theory.md §4, corrected 2026-11-29)."""
    return values["tr_sigma"] / values["sigma_op"] if values["sigma_op"] > 0 else math.nan

