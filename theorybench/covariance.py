"""The noise covariance Sigma of the data model: matrix, square root, products and summaries.

The data model (docs/theory.md §1, PAPER) is ``x = y mu + z`` with ``z = Sigma^{1/2} xi``. This module
turns a `DataConfig`'s covariance family into the linear maps the samplers and the theory need,
without forming a d x d matrix for the structured families:

- ``isotropic``: :math:`\\Sigma = I_d`;
- ``power_law``: :math:`\\Sigma = \\mathrm{diag}(\\lambda_1, \\dots, \\lambda_d)`,
  :math:`\\lambda_k = d\\, k^{-\\alpha} / \\sum_{l=1}^d l^{-\\alpha}`, so that
  :math:`\\operatorname{Tr}\\Sigma = d`;
- ``spiked``: :math:`\\Sigma = I + \\theta u u^\\top` with unit ``u`` (``mu/||mu||`` or ``e_1``), whose
  square root is :math:`I + (\\sqrt{1+\\theta} - 1) u u^\\top` (EXACT: ``u u^T`` is a projection);
- ``orthogonal``: :math:`\\Sigma = I - u u^\\top` with :math:`u = \\mu/\\|\\mu\\|`, noise orthogonal to
  the mean (the data law of Karhadkar et al.'s code, docs/data_model.md). A projection, so
  :math:`\\Sigma^{1/2} = \\Sigma` (EXACT); singular, with :math:`\\mu` outside its range, so the Bayes
  error is 0 (:math:`\\mu^\\top\\Sigma^+\\mu = \\infty`);
- ``user``: the given symmetric positive semi-definite matrix, with
  :math:`\\Sigma^{1/2} = Q \\Lambda_+^{1/2} Q^\\top` from the symmetric eigendecomposition
  (eigenvalues within rounding of 0, see `NULL_EIGENVALUE_FACTOR`, are set to 0: the square root
  would turn a rounding residue of 1e-16 into a spurious 1e-8 standard deviation). Given inline
  or as a ``.npy`` file (`theorybench.npyfiles`).

Every map here is EXACT linear algebra (docs/theory.md §1); the families themselves are those docs/theory.md
§1 lists as worth supporting.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from theorybench.config import CovarianceConfig, DataConfig
from theorybench.npyfiles import load_npy

# An eigenvalue of a user covariance counts as zero when it is below this multiple of
# d * eps * ||Sigma||_2: eigh is backward stable, so the computed eigenvalues of a singular PSD
# matrix sit within a small multiple of d * eps * ||Sigma|| of 0, and anything well above is real.
NULL_EIGENVALUE_FACTOR = 10.0
# mu counts as outside range(Sigma) when its component in the numerical null space exceeds this
# fraction of ||mu||: the null-space basis from eigh is accurate to ~sqrt(eps)-ish angles only when
# eigenvalues cluster near 0, so we stay well above sqrt(eps) ~ 1.5e-8.
OUTSIDE_RANGE_RELATIVE_TOLERANCE = 1e-6


def power_law_eigenvalues(d: int, alpha: float) -> np.ndarray:
    """The diagonal of the power-law covariance, normalised to trace d.

    .. math:: \\lambda_k = d\\,\\frac{k^{-\\alpha}}{\\sum_{l=1}^{d} l^{-\\alpha}}, \\quad k = 1..d.

    PAPER family (docs/theory.md §1), EXACT normalisation :math:`\\sum_k \\lambda_k = d`.
    """
    k = np.arange(1, d + 1, dtype=np.float64)
    # k^-alpha computed as exp(-alpha log k) would lose nothing here; the direct power is exact
    # to one rounding and never overflows for alpha >= 0 (values lie in (0, 1]).
    weights = k ** (-alpha)
    return d * weights / weights.sum()


def spike_direction(data: DataConfig) -> np.ndarray:
    """The unit vector u of the spiked family (``mu/||mu||``, ``e_1``, or at 45 degrees to mu) or of
    the orthogonal family (``mu/||mu||``).

    `DataConfig` refuses ``spike_direction = "mean"`` and the orthogonal family with mu = 0, so the
    norm below is positive.
    """
    u = np.zeros(data.d)
    if data.covariance.family == "spiked" and data.covariance.spike_direction == "e1":
        u[0] = 1.0
        return u
    mu = data.mean_vector()
    # Scaled by max |mu_k| first: ||mu|| itself overflows to inf once ||mu|| > ~1.3e154, and
    # mu / inf = 0 would silently remove the spike.
    mu = mu / float(np.max(np.abs(mu)))
    mean = mu / float(np.linalg.norm(mu))
    if data.covariance.spike_direction != "mean_45":  # "mean", or the orthogonal family
        return mean
    # "mean_45": (mu_hat + v)/sqrt 2 with v the unit vector of e_1 (e_2 when mu_hat is within
    # ~25 degrees of e_1, so that the projection keeps its digits) orthogonal to mu_hat.
    axis = np.zeros(data.d)
    axis[0 if abs(mean[0]) < 0.9 or data.d < 2 else 1] = 1.0
    orthogonal = axis - float(axis @ mean) * mean
    orthogonal /= float(np.linalg.norm(orthogonal))
    return (mean + orthogonal) / math.sqrt(2.0)


@functools.lru_cache(maxsize=4)
def _user_matrix(covariance: CovarianceConfig) -> np.ndarray:
    # Cached (read-only) because converting d^2 Python floats costs far more than using them; the
    # key is the frozen, hashable covariance configuration itself.
    if covariance.matrix_file is not None:
        return load_npy(covariance.matrix_file, "data.covariance.matrix_file", covariance.matrix_sha256)[0]
    matrix = np.array(covariance.matrix, dtype=np.float64)
    matrix.flags.writeable = False
    return matrix


@functools.lru_cache(maxsize=4)
def _user_eigendecomposition(covariance: CovarianceConfig) -> tuple[np.ndarray, np.ndarray]:
    # Cached because the O(d^3) eigendecomposition is needed by every sampler call of a run.
    matrix = _user_matrix(covariance)
    # Symmetrise: the config accepts asymmetry up to rounding, and eigh reads only one triangle.
    eigenvalues, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
    eigenvalues = np.where(_null_eigenvalues(eigenvalues), 0.0, eigenvalues)
    eigenvalues.flags.writeable = False
    vectors.flags.writeable = False
    return eigenvalues, vectors


def _null_eigenvalues(eigenvalues: np.ndarray) -> np.ndarray:
    """Mask of the eigenvalues that are 0 up to the rounding of eigh (`NULL_EIGENVALUE_FACTOR`)."""
    top = float(np.max(np.abs(eigenvalues)))
    return eigenvalues <= NULL_EIGENVALUE_FACTOR * eigenvalues.size * np.finfo(np.float64).eps * top


def covariance_eigendecomposition(data: DataConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Eigenvalues of Sigma and, for the user family, its orthonormal eigenvectors.

    Returns ``(eigenvalues, None)`` for the diagonal families (isotropic, power law), whose
    eigenvectors are the coordinate axes in order, and ``(eigenvalues, Q)`` with
    ``Sigma = Q diag(eigenvalues) Q^T`` for the user family. The spiked family is handled in closed
    form by its callers (eigenvalues ``1 + theta`` along u and 1 elsewhere), as is the orthogonal
    family (0 along u, 1 elsewhere); both are refused here.
    """
    family = data.covariance.family
    if family == "isotropic":
        return np.ones(data.d), None
    if family == "power_law":
        return power_law_eigenvalues(data.d, data.covariance.alpha), None
    if family == "user":
        return _user_eigendecomposition(data.covariance)
    raise ValueError(f"covariance_eigendecomposition does not handle family {family!r}")


def covariance_matrix(data: DataConfig) -> np.ndarray:
    """Sigma as a dense (d, d) float64 array (fine for d up to ~10^4)."""
    family = data.covariance.family
    if family == "isotropic":
        return np.eye(data.d)
    if family == "power_law":
        return np.diag(power_law_eigenvalues(data.d, data.covariance.alpha))
    if family == "spiked":
        u = spike_direction(data)
        return np.eye(data.d) + data.covariance.spike_strength * np.outer(u, u)
    if family == "orthogonal":
        u = spike_direction(data)
        return np.eye(data.d) - np.outer(u, u)
    return _user_matrix(data.covariance).copy()


def _check_rows(data: DataConfig, Z: np.ndarray, name: str) -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float64)
    if Z.ndim != 2 or Z.shape[1] != data.d:
        raise ValueError(f"{name} must have shape (k, d) with d = {data.d}, got {Z.shape}")
    return Z


def covariance_sqrt_apply(data: DataConfig, Z: np.ndarray) -> np.ndarray:
    """``Z Sigma^{1/2}`` for ``Z`` of shape (k, d): rows xi_i become rows z_i = Sigma^{1/2} xi_i.

    .. math:: (Z \\Sigma^{1/2})_{i\\cdot} = (\\Sigma^{1/2} \\xi_i)^\\top
              \\quad(\\Sigma^{1/2}\\ \\text{symmetric}).

    Structured (O(k d)) for the isotropic, power-law, spiked and orthogonal families; O(k d^2) for
    a user matrix. EXACT (docs/theory.md §1).
    """
    Z = _check_rows(data, Z, "Z")
    family = data.covariance.family
    if family == "isotropic":
        return Z.copy()
    if family == "power_law":
        return Z * np.sqrt(power_law_eigenvalues(data.d, data.covariance.alpha))
    if family == "spiked":
        u = spike_direction(data)
        # (I + c u u^T) is the square root of I + theta u u^T when (1 + c)^2 = 1 + theta.
        c = math.sqrt(1.0 + data.covariance.spike_strength) - 1.0
        return Z + c * np.outer(Z @ u, u)
    if family == "orthogonal":
        return _project_out(Z, spike_direction(data))
    eigenvalues, vectors = _user_eigendecomposition(data.covariance)
    return ((Z @ vectors) * np.sqrt(eigenvalues)) @ vectors.T


def covariance_apply(data: DataConfig, V: np.ndarray) -> np.ndarray:
    """``V Sigma`` for ``V`` of shape (k, d), structured like `covariance_sqrt_apply`. EXACT."""
    V = _check_rows(data, V, "V")
    family = data.covariance.family
    if family == "isotropic":
        return V.copy()
    if family == "power_law":
        return V * power_law_eigenvalues(data.d, data.covariance.alpha)
    if family == "spiked":
        u = spike_direction(data)
        return V + data.covariance.spike_strength * np.outer(V @ u, u)
    if family == "orthogonal":
        return _project_out(V, spike_direction(data))
    return V @ _user_matrix(data.covariance)


def _project_out(Z: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``Z (I - u u^T)``: the rows of Z with their component along the unit vector u removed.

    The orthogonal family's Sigma and Sigma^{1/2} (a projection is its own square root)."""
    return Z - np.outer(Z @ u, u)


@dataclass(frozen=True)
class CovarianceSummary:
    """Scalar functionals of (mu, Sigma) used by the rates of docs/theory.md §4–§6 (all EXACT).

    Attributes
    ----------
    trace : float
        :math:`\\operatorname{Tr}\\Sigma`.
    trace_of_square : float
        :math:`\\operatorname{Tr}\\Sigma^2 = \\|\\Sigma\\|_F^2`.
    operator_norm : float
        :math:`\\|\\Sigma\\|_2`, the largest eigenvalue.
    mean_norm_sq : float
        :math:`\\|\\mu\\|^2`.
    mean_sigma_mean : float
        :math:`\\mu^\\top \\Sigma \\mu`.
    mahalanobis_sq : float
        :math:`\\mu^\\top \\Sigma^{+} \\mu` (Bayes error :math:`\\Phi(-\\sqrt{\\cdot})` for Gaussian
        noise, docs/theory.md §2.4); ``inf`` when mu has a component outside range(Sigma), where the
        classes are perfectly separable.
    """

    trace: float
    trace_of_square: float
    operator_norm: float
    mean_norm_sq: float
    mean_sigma_mean: float
    mahalanobis_sq: float


def _summary_from_eigen(eigenvalues: np.ndarray, mu_coordinates: np.ndarray) -> CovarianceSummary:
    # mu_coordinates are the coordinates of mu in the eigenbasis, so every quadratic form is a sum.
    top = float(eigenvalues.max())
    null = _null_eigenvalues(eigenvalues)
    mean_norm_sq = float(mu_coordinates @ mu_coordinates)
    outside = float(np.sqrt(np.sum(mu_coordinates[null] ** 2)))
    if outside > OUTSIDE_RANGE_RELATIVE_TOLERANCE * math.sqrt(mean_norm_sq):
        mahalanobis = math.inf
    else:
        mahalanobis = float(np.sum(mu_coordinates[~null] ** 2 / eigenvalues[~null]))
    return CovarianceSummary(
        trace=float(eigenvalues.sum()),
        trace_of_square=float(eigenvalues @ eigenvalues),
        operator_norm=top,
        mean_norm_sq=mean_norm_sq,
        mean_sigma_mean=float(mu_coordinates**2 @ eigenvalues),
        mahalanobis_sq=mahalanobis,
    )


def covariance_summary(data: DataConfig) -> CovarianceSummary:
    """The `CovarianceSummary` of a data configuration, in closed form where the family allows.

    Spiked family (EXACT): eigenvalues :math:`1+\\theta` (along u) and 1, so
    :math:`\\operatorname{Tr}\\Sigma = d + \\theta`,
    :math:`\\operatorname{Tr}\\Sigma^2 = d - 1 + (1+\\theta)^2`, :math:`\\|\\Sigma\\| = 1+\\theta`,
    :math:`\\mu^\\top\\Sigma\\mu = \\|\\mu\\|^2 + \\theta\\langle u,\\mu\\rangle^2` and
    :math:`\\mu^\\top\\Sigma^{-1}\\mu = \\|\\mu\\|^2 - \\frac{\\theta}{1+\\theta}\\langle u,\\mu\\rangle^2`.
    """
    mu = data.mean_vector()
    family = data.covariance.family
    if family == "orthogonal":
        norm_sq = float(mu @ mu)
        # mu lies along u, in the null space of Sigma: mu^T Sigma mu = 0 exactly (the computed
        # ||mu - <u,mu> u||^2 would be rounding only), and mu is outside range(Sigma), so the
        # Mahalanobis norm is infinite and the Bayes error 0.
        return CovarianceSummary(
            trace=float(data.d - 1),
            trace_of_square=float(data.d - 1),
            operator_norm=1.0 if data.d > 1 else 0.0,
            mean_norm_sq=norm_sq,
            mean_sigma_mean=0.0,
            mahalanobis_sq=math.inf,
        )
    if family == "spiked":
        theta = data.covariance.spike_strength
        u = spike_direction(data)
        along = float(u @ mu)
        norm_sq = float(mu @ mu)
        # Products, not ``**``: a Python float power raises OverflowError past 1.8e308 where a
        # product gives inf, which the theory layer reports as an overflow (theta, mu are unbounded).
        along_sq = along * along
        # mu^T Sigma^{-1} mu as ||mu - <u, mu> u||^2 + <u, mu>^2 / (1 + theta), the same value as
        # the closed form above without its cancellation: for mu along u (the default spike)
        # ||mu||^2 - theta/(1+theta) <u, mu>^2 subtracts two nearly equal numbers and loses
        # log10(1 + theta) digits (and gives inf - inf = NaN once they overflow).
        perpendicular = mu - along * u
        return CovarianceSummary(
            trace=data.d + theta,
            trace_of_square=data.d - 1 + (1.0 + theta) * (1.0 + theta),
            operator_norm=1.0 + theta,
            mean_norm_sq=norm_sq,
            mean_sigma_mean=norm_sq + theta * along_sq,
            mahalanobis_sq=float(perpendicular @ perpendicular) + along_sq / (1.0 + theta),
        )
    eigenvalues, vectors = covariance_eigendecomposition(data)
    coordinates = mu if vectors is None else vectors.T @ mu
    return _summary_from_eigen(eigenvalues, coordinates)


def covariance_spectrum(data: DataConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sigma's spectrum as ``(eigenvalues, multiplicities, mean_weights)`` (EXACT).

    ``mean_weights[k]`` is the squared norm of the projection of mu onto the k-th eigenspace, so
    that every quadratic form :math:`\\mu^\\top g(\\Sigma)\\mu = \\sum_k g(\\lambda_k) w_k` and every trace
    :math:`\\operatorname{Tr} g(\\Sigma) = \\sum_k m_k g(\\lambda_k)` is a short sum. The spiked family
    has two eigenspaces (:math:`1+\\theta` along u, 1 on its complement), kept grouped so that the
    cost does not grow with d.
    """
    mu = data.mean_vector()
    if data.covariance.family in ("spiked", "orthogonal"):
        # Orthogonal: Sigma = I - u u^T, the spiked form with eigenvalue 0 along u.
        top = 1.0 + data.covariance.spike_strength if data.covariance.family == "spiked" else 0.0
        u = spike_direction(data)
        along = float(u @ mu)
        perpendicular = mu - along * u
        return (np.array([top, 1.0]), np.array([1.0, data.d - 1.0]),
                np.array([along * along, float(perpendicular @ perpendicular)]))
    eigenvalues, vectors = covariance_eigendecomposition(data)
    coordinates = mu if vectors is None else vectors.T @ mu
    return eigenvalues, np.ones_like(eigenvalues), coordinates**2

