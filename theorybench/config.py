"""Configuration of one theorybench run: data model, network, training and evaluation.

Frozen, typed dataclasses that validate themselves at construction (docs/theory.md §1 for the data
model and the network, §2.5–2.6 for training). Every violated constraint raises `ConfigError` with
a message that names the parameter, the value and the allowed range. A configuration is read from
TOML with `load_config` / `config_from_toml`, written back with `config_to_toml` (the round trip is
the identity), and identified by `config_hash`.

TOML layout (every key optional; omitted keys take the defaults below)::

    seed = 0

    [data]
    n = 40                      # training-set size
    d = 2000                    # ambient dimension
    signal = 3.0                # ||mu||, used with mean_direction unless `mean` is given
    mean_direction = "e1"       # "e1" (first coordinate axis) or "ones" ((1,...,1)/sqrt(d))
    # mean = [ ... ]            # explicit mean vector of length d (replaces signal/direction)
    # mean_file = "mu.npy"      # or the mean vector as a .npy file (path relative to the TOML)
    class_balance = 0.5         # P(y = +1)
    label_flip = 0.0            # probability that a training label is flipped (BEYOND, §8)

    [data.covariance]
    family = "isotropic"        # isotropic | power_law | spiked | orthogonal | user
    # alpha = 1.0               # power_law: lambda_k proportional to k^-alpha, Tr Sigma = d
    # spike_strength = 4.0      # spiked: Sigma = I + theta u u^T
    # spike_direction = "mean"  # spiked: u = mu/||mu|| ("mean"), e_1 ("e1"), or at 45 degrees to mu ("mean_45")
    # matrix = [[...], ...]     # user: a symmetric positive semi-definite d x d matrix
    # matrix_file = "sigma.npy" # user, instead of matrix: a .npy file (path relative to the TOML)

    [data.noise]
    family = "gaussian"         # gaussian | rademacher | uniform | student_t | user
    # nu = 5.0                  # student_t degrees of freedom (> 2), scaled to unit variance
    # sampler = "pkg.mod:func"  # user: func(rng, shape) -> i.i.d. zero-mean unit-variance array

    [network]
    m = 20                      # number of hidden neurons
    # m_positive = 10           # neurons with a_j = +1/sqrt(m); default m/2 (balanced)
    gamma = 0.5                 # leaky-ReLU slope, 0 < gamma < 1
    init_scale = 1e-5           # omega: w_j(0) ~ N(0, omega^2 I_d)

    [training]
    loss = "exponential"        # exponential | logistic | hinge (logistic and hinge are BEYOND, §8)
    step_size = 0.02            # eta
    max_steps = 1000
    log_loss_floor = -1000.0    # stop once log L(W) falls below this
    divergence_log_margin = 100.0  # stop as diverged once log L(W) > log L(W(0)) + this
    checkpoints = 20            # number of log-spaced checkpoints (step 0, 1 and the last included)
    normalized = false          # normalised GD (W <- W - eta grad L / L): a fast oracle, not the paper's algorithm
    implementation = "gram"     # gram (cost independent of d) | weight (reference)
    stop_on_zero_train_error = false  # stop at the first step with every training margin > 0
    stop_on_pattern_reached = false   # stop at the first step with every pair correctly activated

    [evaluation]
    test_points = 100000        # fresh points for the Monte Carlo test error
    confidence = 0.95           # level of the Clopper-Pearson interval
    test_points_at_checkpoints = 0  # > 0: test error at every checkpoint on this many points
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from theorybench.errors import ConfigError, shown
from theorybench.npyfiles import load_npy
from theorybench.safeio import parse_toml, read_user_file

COVARIANCE_FAMILIES = ("isotropic", "power_law", "spiked", "orthogonal", "user")
NOISE_FAMILIES = ("gaussian", "rademacher", "uniform", "student_t", "user")
MEAN_DIRECTIONS = ("e1", "ones")
SPIKE_DIRECTIONS = ("mean", "e1", "mean_45")
LOSSES = ("exponential", "logistic", "hinge")
IMPLEMENTATIONS = ("gram", "weight")

# A user covariance is accepted as positive semi-definite when its smallest eigenvalue is at least
# -PSD_RELATIVE_TOLERANCE * (largest |eigenvalue|): eigvalsh is backward stable, so a PSD matrix
# stored in float64 has computed eigenvalues within a small multiple of d * eps * ||Sigma|| of the
# true ones; 1e-10 leaves room for d up to ~10^5 while refusing any genuinely indefinite matrix.
PSD_RELATIVE_TOLERANCE = 1e-10
# Symmetry is checked to the same relative precision, for the same reason (data typed or saved in
# float64 carries relative rounding of ~1e-16 per entry).
SYMMETRY_RELATIVE_TOLERANCE = 1e-10

# Delta of the divergence rule log L(t) > log L(0) + Delta, in nats. Once the pattern of
# §2.1 holds and eta L lambda_max(Q) < 2 the loss decreases monotonically (docs/theory.md §3, DERIVED),
# so an increase is a transient of the early steps or of a step past stability. Transients that
# recover do occur: normalised GD at eta = 1 (n = 50, d = 500, m = 20) climbs 20 nats above log L(0)
# before falling to -2780. An unstable exponential-loss run instead grows log L geometrically until
# the plain-GD increment (eta/n) e^{max(-u)} overflows near log L ~ 709 - log(eta). Delta = 100 sits
# five times above the largest recovering transient seen and well below overflow.
DEFAULT_DIVERGENCE_LOG_MARGIN = 100.0

# Largest accepted count (n, d, m, steps, checkpoints, test points): float64 holds every integer up
# to 2^53 exactly, and the formulas of bounds/ take these counts as floats. Whether a count this
# large fits the machine is the resource guard's question (theorybench.guard), asked before any
# allocation.
MAX_COUNT = 2**53
# Largest accepted seed: the TOML specification's integers are signed 64-bit (tomllib reads longer
# ones, which then cannot be written back by tomli_w or printed past 4300 digits).
MAX_SEED = 2**63 - 1
# A user covariance must have its largest |entry| in [MIN_SCALE, MAX_SCALE] (or be zero): the theory
# squares Sigma (Tr Sigma^2, ||Sigma||_F^2) and multiplies by d and ||mu||^2, and 1e+-150 squared
# stays inside float64's normal range (about 1e+-308) with room for those factors. Smaller entries
# relative to the largest are fine (they are rounding of a well-scaled matrix).
MIN_COVARIANCE_SCALE = 1e-150
MAX_COVARIANCE_SCALE = 1e150


def _require(condition: bool, parameter: str, value: Any, allowed: str) -> None:
    if not condition:
        raise ConfigError(f"{parameter} = {shown(value)} is not allowed: it must be {allowed}.")


def _require_real(parameter: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{parameter} = {shown(value)} is not allowed: it must be a real number.")
    try:
        # TOML integers are unbounded; one beyond float64's range (~1.8e308) cannot be used.
        value = float(value)
    except OverflowError:
        raise ConfigError(f"{parameter} = {shown(value)} is not allowed: it must be a finite real "
                          "number, at most ~1.8e308 in magnitude.") from None
    if not math.isfinite(value):
        raise ConfigError(f"{parameter} = {value!r} is not allowed: it must be finite.")
    return value


def _require_int(parameter: str, value: Any, maximum: int = MAX_COUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{parameter} = {shown(value)} is not allowed: it must be an integer.")
    if abs(value) > maximum:
        raise ConfigError(f"{parameter} = {shown(value)} is not allowed: it must be at most "
                          f"{maximum} in magnitude.")
    return value


def _require_choice(parameter: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        hint = difflib.get_close_matches(str(value)[:100], choices, n=1) if isinstance(value, str) else []
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ConfigError(
            f"{parameter} = {shown(value)} is not allowed: it must be one of {', '.join(choices)}."
            + suggestion
        )


def _forbid_unless(parameter: str, value: Any, condition: bool, when: str) -> None:
    if value is not None and not condition:
        raise ConfigError(f"{parameter} = {shown(value)} is only meaningful {when}; remove it.")


@dataclass(frozen=True)
class CovarianceConfig:
    """Covariance Sigma of the noise z = Sigma^{1/2} xi (docs/theory.md §1).

    Attributes
    ----------
    family : str
        ``isotropic`` (Sigma = I_d); ``power_law`` (diagonal, lambda_k proportional to k^-alpha,
        normalised to Tr Sigma = d); ``spiked`` (Sigma = I + theta u u^T with unit u);
        ``user`` (the given symmetric positive semi-definite ``matrix``).
    alpha : float or None
        Power-law exponent, alpha >= 0 (``power_law`` only; default 1).
    spike_strength : float or None
        theta >= 0 (``spiked`` only; default 4).
    spike_direction : str or None
        ``mean`` (u = mu/||mu||), ``e1``, or ``mean_45`` (u at 45 degrees to mu, in the plane of mu
        and e_1, or e_2 when mu is nearly along e_1) (``spiked`` only; default ``mean``).
    matrix : tuple of tuples or None
        The d x d matrix (``user`` only). Its dimension is checked against ``DataConfig.d``.
    matrix_file : str or None
        ``user`` only, instead of ``matrix``: a ``.npy`` file holding the d x d matrix (a relative
        path is read from the directory of the TOML file, `load_config`). Results record the
        path and ``matrix_sha256``, never the matrix (`theorybench.npyfiles`).
    matrix_sha256 : str or None
        SHA-256 of the bytes of ``matrix_file``: filled in on loading; when given, the file must
        hash to it.
    """

    family: str = "isotropic"
    alpha: float | None = None
    spike_strength: float | None = None
    spike_direction: str | None = None
    matrix: tuple[tuple[float, ...], ...] | None = None
    matrix_file: str | None = None
    matrix_sha256: str | None = None

    def __post_init__(self) -> None:
        _require_choice("data.covariance.family", self.family, COVARIANCE_FAMILIES)
        is_power_law = self.family == "power_law"
        is_spiked = self.family == "spiked"
        _forbid_unless("data.covariance.alpha", self.alpha, is_power_law, "for family = 'power_law'")
        _forbid_unless(
            "data.covariance.spike_strength", self.spike_strength, is_spiked, "for family = 'spiked'"
        )
        _forbid_unless(
            "data.covariance.spike_direction", self.spike_direction, is_spiked, "for family = 'spiked'"
        )
        _forbid_unless("data.covariance.matrix", self.matrix, self.family == "user", "for family = 'user'")
        _forbid_unless("data.covariance.matrix_file", self.matrix_file, self.family == "user",
                       "for family = 'user'")
        _forbid_unless("data.covariance.matrix_sha256", self.matrix_sha256, self.matrix_file is not None,
                       "with data.covariance.matrix_file")
        if is_power_law:
            alpha = _require_real("data.covariance.alpha", 1.0 if self.alpha is None else self.alpha)
            _require(alpha >= 0, "data.covariance.alpha", alpha, "a real number >= 0")
            object.__setattr__(self, "alpha", alpha)
        if is_spiked:
            theta = 4.0 if self.spike_strength is None else self.spike_strength
            theta = _require_real("data.covariance.spike_strength", theta)
            _require(theta >= 0, "data.covariance.spike_strength", theta, "a real number >= 0")
            object.__setattr__(self, "spike_strength", theta)
            direction = "mean" if self.spike_direction is None else self.spike_direction
            _require_choice("data.covariance.spike_direction", direction, SPIKE_DIRECTIONS)
            object.__setattr__(self, "spike_direction", direction)
        if self.family == "user":
            if (self.matrix is None) == (self.matrix_file is None):
                raise ConfigError(
                    "data.covariance.family = 'user' needs exactly one of data.covariance.matrix, a "
                    "symmetric positive semi-definite d x d matrix given as a list of rows, and "
                    "data.covariance.matrix_file, a .npy file holding one."
                )
            if self.matrix_file is not None:
                object.__setattr__(self, "matrix_sha256", _validated_matrix_file(
                    _require_path("data.covariance.matrix_file", self.matrix_file), self.matrix_sha256))
            else:
                object.__setattr__(self, "matrix", _validated_matrix(self.matrix))

    def user_matrix_size(self) -> int | None:
        """d of a ``user`` matrix (given inline or as a file); None for the other families."""
        if self.matrix is not None:
            return len(self.matrix)
        if self.matrix_file is not None:
            return load_npy(self.matrix_file, "data.covariance.matrix_file", self.matrix_sha256)[0].shape[0]
        return None


def _require_path(parameter: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{parameter} = {value!r} is not allowed: it must be the path of a .npy file.")
    return value


# SHA-256 of the .npy covariance files already checked to be symmetric PSD in this process: the
# O(d^3) check runs once per content, however many configurations name the file.
_CHECKED_MATRIX_FILES: set[str] = set()


def _validated_matrix_file(path: str, pinned: str | None) -> str:
    name = "data.covariance.matrix_file"
    matrix, digest = load_npy(path, name, pinned)
    if digest not in _CHECKED_MATRIX_FILES:
        _check_covariance_array(matrix, f"{name} = {path!r}")
        _CHECKED_MATRIX_FILES.add(digest)
    return digest


def _validated_matrix(rows: Any) -> tuple[tuple[float, ...], ...]:
    """Sigma as a tuple of float rows: square, real (no booleans), finite, scaled within
    [MIN_COVARIANCE_SCALE, MAX_COVARIANCE_SCALE], symmetric and PSD to a relative tolerance."""
    name = "data.covariance.matrix"
    if not isinstance(rows, (list, tuple)) or not all(isinstance(row, (list, tuple)) for row in rows):
        raise ConfigError(f"{name} must be a square matrix of real numbers given as a list of rows.")
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            _require_real(f"{name}[{i}][{j}]", entry)
    try:
        matrix = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a square matrix of real numbers given as a list of rows.") from None
    _check_covariance_array(matrix, name)
    return tuple(tuple(float(v) for v in row) for row in matrix)


def _check_covariance_array(matrix: np.ndarray, name: str) -> None:
    """Refuse (ConfigError naming ``name``) a matrix that is not square, finite, scaled within
    [MIN_COVARIANCE_SCALE, MAX_COVARIANCE_SCALE], symmetric PSD."""
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ConfigError(f"{name} has shape {matrix.shape}: it must be a non-empty square matrix.")
    if not np.all(np.isfinite(matrix)):
        raise ConfigError(f"{name} has non-finite entries: every entry must be a finite real number.")
    largest = float(np.max(np.abs(matrix)))
    if largest != 0 and not MIN_COVARIANCE_SCALE <= largest <= MAX_COVARIANCE_SCALE:
        raise ConfigError(
            f"{name} has largest |entry| {largest:.3g}: it must lie between {MIN_COVARIANCE_SCALE:g} and "
            f"{MAX_COVARIANCE_SCALE:g} (or the matrix be zero), because the theory squares Sigma and "
            "float64 cannot hold the squares of larger or smaller scales. Rescale Sigma and data.signal "
            "together: the classification problem is unchanged."
        )
    scale = max(largest, np.finfo(np.float64).tiny)
    asymmetry = float(np.max(np.abs(matrix - matrix.T)))
    if asymmetry > SYMMETRY_RELATIVE_TOLERANCE * scale:
        raise ConfigError(
            f"{name} is not symmetric (largest |Sigma_ij - Sigma_ji| = {asymmetry:.3g}): a "
            "covariance matrix must be symmetric positive semi-definite."
        )
    # Eigenvalues of Sigma / scale (entries in [-1, 1]): LAPACK's iteration is then well-scaled.
    eigenvalues = np.linalg.eigvalsh(matrix / scale) * scale
    if eigenvalues[0] < -PSD_RELATIVE_TOLERANCE * max(float(np.max(np.abs(eigenvalues))), scale):
        raise ConfigError(
            f"{name} is not positive semi-definite (smallest eigenvalue {eigenvalues[0]:.3g}): a "
            "covariance matrix must be symmetric positive semi-definite."
        )


@dataclass(frozen=True)
class NoiseConfig:
    """Law of the coordinates of xi: i.i.d., zero mean, unit variance (docs/theory.md §1).

    Attributes
    ----------
    family : str
        ``gaussian`` (N(0,1)); ``rademacher`` (+-1); ``uniform`` (Uniform[-sqrt 3, sqrt 3]);
        ``student_t`` (t with ``nu`` degrees of freedom times sqrt((nu-2)/nu), unit variance);
        ``user`` (``sampler``).
    nu : float or None
        Degrees of freedom of ``student_t``, nu > 2 so that the variance exists (default 5).
    sampler : str or None
        ``"package.module:function"`` with ``function(rng, shape)`` returning a float64 array of
        i.i.d. zero-mean unit-variance entries (``user`` only).
    sub_gaussian_proxy : float or None
        ``user`` only: a declared sub-Gaussian variance proxy sigma_psi^2, if the user knows one.
    fourth_moment : float or None
        ``user`` only: a declared E xi^4, if finite and known.
    """

    family: str = "gaussian"
    nu: float | None = None
    sampler: str | None = None
    sub_gaussian_proxy: float | None = None
    fourth_moment: float | None = None

    def __post_init__(self) -> None:
        _require_choice("data.noise.family", self.family, NOISE_FAMILIES)
        is_user = self.family == "user"
        _forbid_unless("data.noise.nu", self.nu, self.family == "student_t", "for family = 'student_t'")
        _forbid_unless("data.noise.sampler", self.sampler, is_user, "for family = 'user'")
        _forbid_unless("data.noise.sub_gaussian_proxy", self.sub_gaussian_proxy, is_user, "for family = 'user'")
        _forbid_unless("data.noise.fourth_moment", self.fourth_moment, is_user, "for family = 'user'")
        if self.family == "student_t":
            nu = _require_real("data.noise.nu", 5.0 if self.nu is None else self.nu)
            _require(nu > 2, "data.noise.nu", nu, "a real number > 2 (the variance must be finite)")
            object.__setattr__(self, "nu", nu)
        if is_user:
            if not isinstance(self.sampler, str) or ":" not in self.sampler:
                raise ConfigError(
                    f"data.noise.sampler = {shown(self.sampler)} is not allowed: family = 'user' needs "
                    "a sampler written as 'package.module:function'."
                )
            if self.sub_gaussian_proxy is not None:
                proxy = _require_real("data.noise.sub_gaussian_proxy", self.sub_gaussian_proxy)
                _require(proxy >= 1, "data.noise.sub_gaussian_proxy", proxy,
                         "a real number >= 1 (a unit-variance law has proxy at least 1)")
            if self.fourth_moment is not None:
                kurtosis = _require_real("data.noise.fourth_moment", self.fourth_moment)
                _require(kurtosis >= 1, "data.noise.fourth_moment", kurtosis,
                         "a real number >= 1 (E xi^4 >= (E xi^2)^2 = 1)")

    def sub_gaussian_variance_proxy(self) -> float | None:
        """sigma_psi^2 with E exp(s xi) <= exp(sigma_psi^2 s^2 / 2), or None when not sub-Gaussian.

        EXACT (docs/theory.md §1): Gaussian 1; Rademacher 1 (cosh s <= exp(s^2/2)); Uniform[-sqrt3, sqrt3]
        1 (sinh(x)/x <= exp(x^2/6) with x = sqrt(3) s); Student-t is not sub-Gaussian.
        """
        if self.family in ("gaussian", "rademacher", "uniform"):
            return 1.0
        if self.family == "user":
            return self.sub_gaussian_proxy
        return None

    def kurtosis(self) -> float:
        """E xi^4 (math.inf when infinite). EXACT: Gaussian 3, Rademacher 1, Uniform 9/5,
        standardised Student-t 3 + 6/(nu - 4) for nu > 4 and infinite otherwise."""
        if self.family == "gaussian":
            return 3.0
        if self.family == "rademacher":
            return 1.0
        if self.family == "uniform":
            return 9.0 / 5.0
        if self.family == "student_t":
            return 3.0 + 6.0 / (self.nu - 4.0) if self.nu > 4 else math.inf
        return math.inf if self.fourth_moment is None else self.fourth_moment


@dataclass(frozen=True)
class DataConfig:
    """The data model x = y mu + Sigma^{1/2} xi with labels y in {+1, -1} (docs/theory.md §1).

    Attributes
    ----------
    n : int
        Training-set size, n >= 2.
    d : int
        Dimension, d >= 1.
    signal : float
        ||mu|| >= 0, with ``mean_direction``; ignored (as is ``mean_direction``) when ``mean`` is
        given, though still validated and part of the configuration hash.
    mean_direction : str
        ``e1`` (mu = signal e_1) or ``ones`` (mu = signal (1,...,1)/sqrt d).
    mean : tuple of float or None
        An explicit mean vector of length d.
    mean_file : str or None
        Instead of ``mean``: a ``.npy`` file holding the mean vector (a relative path is read from
        the directory of the TOML file). Results record the path and ``mean_sha256`` only.
    mean_sha256 : str or None
        SHA-256 of the bytes of ``mean_file``: filled in on loading; when given, it is checked.
    class_balance : float
        P(y = +1), strictly between 0 and 1.
    label_flip : float
        Probability in [0, 1/2) that a training label is flipped; test labels are clean. Any
        positive value is outside every encoded theorem (BEYOND, §8).
    covariance, noise
        See `CovarianceConfig` and `NoiseConfig`.
    """

    n: int = 40
    d: int = 2000
    signal: float = 3.0
    mean_direction: str = "e1"
    mean: tuple[float, ...] | None = None
    class_balance: float = 0.5
    label_flip: float = 0.0
    covariance: CovarianceConfig = field(default_factory=CovarianceConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    mean_file: str | None = None
    mean_sha256: str | None = None

    def __post_init__(self) -> None:
        n = _require_int("data.n", self.n)
        _require(n >= 2, "data.n", n, "an integer >= 2")
        d = _require_int("data.d", self.d)
        _require(d >= 1, "data.d", d, "an integer >= 1")
        signal = _require_real("data.signal", self.signal)
        _require(signal >= 0, "data.signal", signal, "a real number >= 0 (it is ||mu||)")
        object.__setattr__(self, "signal", signal)
        _require_choice("data.mean_direction", self.mean_direction, MEAN_DIRECTIONS)
        balance = _require_real("data.class_balance", self.class_balance)
        _require(0 < balance < 1, "data.class_balance", balance, "strictly between 0 and 1")
        object.__setattr__(self, "class_balance", balance)
        flip = _require_real("data.label_flip", self.label_flip)
        _require(0 <= flip < 0.5, "data.label_flip", flip, "in [0, 1/2)")
        object.__setattr__(self, "label_flip", flip)
        if self.mean is not None:
            if isinstance(self.mean, (str, bytes, dict)) or not hasattr(self.mean, "__iter__"):
                raise ConfigError(f"data.mean = {shown(self.mean)} is not allowed: it must be a list of "
                                  f"d = {d} real numbers.")
            mean = tuple(_require_real("data.mean", v) for v in self.mean)
            if len(mean) != d:
                raise ConfigError(f"data.mean has length {len(mean)} but data.d = {d}: they must agree.")
            object.__setattr__(self, "mean", mean)
        _forbid_unless("data.mean_sha256", self.mean_sha256, self.mean_file is not None,
                       "with data.mean_file")
        if self.mean_file is not None:
            self._validate_mean_file(d)
        size = self.covariance.user_matrix_size()
        if size is not None and size != d:
            key = "matrix" if self.covariance.matrix is not None else "matrix_file"
            raise ConfigError(
                f"data.covariance.{key} is {size} x {size} but data.d = {d}: they must agree."
            )
        direction = self.covariance.spike_direction if self.covariance.family == "spiked" else None
        if direction in ("mean", "mean_45") and not self._mean_is_nonzero():
            raise ConfigError(
                f"data.covariance.spike_direction = {direction!r} needs a non-zero mean (u is built "
                "from mu/||mu||), but mu = 0 here: give data.signal > 0 or a non-zero data.mean, or "
                "use spike_direction = 'e1'."
            )
        if direction == "mean_45" and d < 2:
            raise ConfigError("data.covariance.spike_direction = 'mean_45' needs data.d >= 2 (a "
                              "direction at 45 degrees to mu), but data.d = 1.")
        if self.covariance.family == "orthogonal" and not self._mean_is_nonzero():
            raise ConfigError(
                "data.covariance.family = 'orthogonal' needs a non-zero mean (Sigma = I - u u^T with "
                "u = mu/||mu||), but mu = 0 here: give data.signal > 0 or a non-zero data.mean."
            )

    def _validate_mean_file(self, d: int) -> None:
        _forbid_unless("data.mean_file", self.mean_file, self.mean is None, "without data.mean")
        path = _require_path("data.mean_file", self.mean_file)
        mean, digest = load_npy(path, "data.mean_file", self.mean_sha256)
        if mean.shape != (d,):
            raise ConfigError(f"data.mean_file = {path!r} holds an array of shape {mean.shape}: it "
                              f"must be a vector of length data.d = {d}.")
        if not np.all(np.isfinite(mean)):
            raise ConfigError(f"data.mean_file = {path!r} has non-finite entries: every entry must "
                              "be a finite real number.")
        object.__setattr__(self, "mean_sha256", digest)

    def _mean_is_nonzero(self) -> bool:
        """Whether mu != 0, decided without allocating the d-vector (d may be too large for memory;
        the resource guard says so later, with the sizes)."""
        if self.mean is not None:
            return any(v != 0 for v in self.mean)
        if self.mean_file is not None:  # already read whole (and hashed) by _validate_mean_file
            return bool(np.any(self.mean_vector()))
        entry = self.signal if self.mean_direction == "e1" else self.signal / math.sqrt(self.d)
        return entry != 0

    def mean_vector(self) -> np.ndarray:
        """mu as a float64 array of length d."""
        if self.mean is not None:
            return np.array(self.mean, dtype=np.float64)
        if self.mean_file is not None:
            return load_npy(self.mean_file, "data.mean_file", self.mean_sha256)[0].copy()
        mu = np.zeros(self.d)
        if self.mean_direction == "e1":
            mu[0] = self.signal
        else:
            mu[:] = self.signal / math.sqrt(self.d)
        return mu


@dataclass(frozen=True)
class NetworkConfig:
    """The two-layer leaky-ReLU network f(x; W) = sum_j a_j phi(<w_j, x>) (docs/theory.md §1).

    Attributes
    ----------
    m : int
        Number of hidden neurons, m >= 1.
    m_positive : int or None
        Number of neurons with a_j = +1/sqrt(m) (the first m_positive); the rest have -1/sqrt(m).
        None means balanced, m_positive = m/2, which needs m even.
    gamma : float
        Leaky-ReLU slope, 0 < gamma < 1.
    init_scale : float
        omega >= 0: w_j(0) ~ N(0, omega^2 I_d).
    """

    m: int = 20
    m_positive: int | None = None
    gamma: float = 0.5
    init_scale: float = 1e-5

    def __post_init__(self) -> None:
        m = _require_int("network.m", self.m)
        _require(m >= 1, "network.m", m, "an integer >= 1")
        if self.m_positive is None:
            _require(m % 2 == 0, "network.m", m,
                     "even when network.m_positive is not given (balanced neurons, m/2 of each sign)")
        else:
            m_positive = _require_int("network.m_positive", self.m_positive)
            _require(0 <= m_positive <= m, "network.m_positive", m_positive, f"between 0 and m = {m}")
        gamma = _require_real("network.gamma", self.gamma)
        _require(0 < gamma < 1, "network.gamma", gamma, "strictly between 0 and 1")
        object.__setattr__(self, "gamma", gamma)
        omega = _require_real("network.init_scale", self.init_scale)
        _require(omega >= 0, "network.init_scale", omega, "a real number >= 0")
        object.__setattr__(self, "init_scale", omega)

    @property
    def positive_neurons(self) -> int:
        """m_+, the number of neurons with a_j = +1/sqrt(m)."""
        return self.m // 2 if self.m_positive is None else self.m_positive

    @property
    def balanced(self) -> bool:
        return 2 * self.positive_neurons == self.m

    def second_layer(self) -> np.ndarray:
        """a, float64 of length m: +1/sqrt(m) for the first m_+ neurons, -1/sqrt(m) after."""
        a = np.full(self.m, -1.0 / math.sqrt(self.m))
        a[: self.positive_neurons] = 1.0 / math.sqrt(self.m)
        return a


@dataclass(frozen=True)
class TrainingConfig:
    """Full-batch gradient descent on the empirical loss (docs/theory.md §1, §2.5–2.6).

    Attributes
    ----------
    loss : str
        ``exponential`` (the paper's), ``logistic`` or ``hinge`` (both BEYOND, §8; the hinge
        subgradient convention is in `theorybench.numerics`).
    step_size : float
        eta > 0.
    max_steps : int
        Step budget, >= 1.
    log_loss_floor : float
        Training stops once log L(W) < log_loss_floor (the loss itself underflows float64 long
        before GD stops improving, so the floor is on log L).
    checkpoints : int
        Number of log-spaced checkpoints, >= 2 (step 0 and the last step are always included).
    normalized : bool
        Normalised GD, W <- W - eta grad L / L: a fast oracle for the limit direction only, never
        the paper's algorithm.
    implementation : str
        ``gram`` (per-step cost independent of d, §2.5) or ``weight`` (reference).
    stop_on_zero_train_error : bool
        Stop (reason ``zero_train_error``) at the first step >= 1 at which every training margin
        is > 0: the protocol of Karhadkar et al.'s code (docs/training.md).
    stop_on_pattern_reached : bool
        Stop (reason ``pattern_reached``) at the first step >= 1 at which every pair (i, j) is
        correctly activated (the pattern of docs/theory.md §2.1).
    """

    loss: str = "exponential"
    step_size: float = 0.02
    max_steps: int = 1000
    log_loss_floor: float = -1000.0
    divergence_log_margin: float = DEFAULT_DIVERGENCE_LOG_MARGIN
    checkpoints: int = 20
    normalized: bool = False
    implementation: str = "gram"
    stop_on_zero_train_error: bool = False
    stop_on_pattern_reached: bool = False

    def __post_init__(self) -> None:
        _require_choice("training.loss", self.loss, LOSSES)
        eta = _require_real("training.step_size", self.step_size)
        _require(eta > 0, "training.step_size", eta, "a real number > 0")
        object.__setattr__(self, "step_size", eta)
        steps = _require_int("training.max_steps", self.max_steps)
        _require(steps >= 1, "training.max_steps", steps, "an integer >= 1")
        floor = _require_real("training.log_loss_floor", self.log_loss_floor)
        object.__setattr__(self, "log_loss_floor", floor)
        margin = _require_real("training.divergence_log_margin", self.divergence_log_margin)
        _require(margin > 0, "training.divergence_log_margin", margin, "a real number > 0 (nats)")
        object.__setattr__(self, "divergence_log_margin", margin)
        checkpoints = _require_int("training.checkpoints", self.checkpoints)
        _require(checkpoints >= 2, "training.checkpoints", checkpoints, "an integer >= 2")
        _require(isinstance(self.normalized, bool), "training.normalized", self.normalized, "true or false")
        _require_choice("training.implementation", self.implementation, IMPLEMENTATIONS)
        for name in ("stop_on_zero_train_error", "stop_on_pattern_reached"):
            _require(isinstance(getattr(self, name), bool), f"training.{name}", getattr(self, name),
                     "true or false")


@dataclass(frozen=True)
class EvaluationConfig:
    """Monte Carlo test error with an exact (Clopper-Pearson) interval.

    Attributes
    ----------
    test_points : int
        Number of fresh test points, >= 1.
    confidence : float
        Level of the two-sided interval, strictly between 0 and 1.
    test_points_at_checkpoints : int
        Fresh test points for the test error at *every* checkpoint (0: only the final iterate is
        tested, with ``test_points``). The same points at every checkpoint (`theorybench.evaluation.
        checkpoint_test_errors`).
    test_seed : int or None
        Seed of the final test points' stream (`theorybench.sampling.test_stream`); None (the
        default): the run's own ``seed``. Runs that set the same ``test_seed`` and draw from the
        same noise law are tested on the same fresh noise vectors (common random numbers): each
        run's count and interval stay exact, the runs' counts are no longer independent, and
        ``theorybench report`` draws non-Gaussian test noise once for all the runs of a batch
        that share it (docs/configuration.md).
    """

    test_points: int = 100_000
    confidence: float = 0.95
    test_points_at_checkpoints: int = 0
    test_seed: int | None = None

    def __post_init__(self) -> None:
        points = _require_int("evaluation.test_points", self.test_points)
        _require(points >= 1, "evaluation.test_points", points, "an integer >= 1")
        level = _require_real("evaluation.confidence", self.confidence)
        _require(0 < level < 1, "evaluation.confidence", level, "strictly between 0 and 1")
        object.__setattr__(self, "confidence", level)
        along = _require_int("evaluation.test_points_at_checkpoints", self.test_points_at_checkpoints)
        _require(along >= 0, "evaluation.test_points_at_checkpoints", along, "an integer >= 0 (0: off)")
        if self.test_seed is not None:
            test_seed = _require_int("evaluation.test_seed", self.test_seed, maximum=MAX_SEED)
            _require(test_seed >= 0, "evaluation.test_seed", test_seed, "an integer >= 0")


@dataclass(frozen=True)
class Config:
    """One complete run: data, network, training, evaluation and the root seed."""

    data: DataConfig = field(default_factory=DataConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    seed: int = 0

    def __post_init__(self) -> None:
        seed = _require_int("seed", self.seed, maximum=MAX_SEED)
        _require(seed >= 0, "seed", seed, "an integer >= 0")

    def replace(self, **sections: Any) -> Config:
        """A copy with whole sections or the seed replaced (validation runs again)."""
        return dataclasses.replace(self, **sections)


# ---------------------------------------------------------------------------------------------
# TOML and dictionaries

_SECTION_TYPES: dict[str, type] = {
    "data": DataConfig,
    "network": NetworkConfig,
    "training": TrainingConfig,
    "evaluation": EvaluationConfig,
}
_NESTED_TYPES: dict[tuple[type, str], type] = {
    (DataConfig, "covariance"): CovarianceConfig,
    (DataConfig, "noise"): NoiseConfig,
}


def _check_keys(where: str, given: dict[str, Any], cls: type) -> None:
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in given:
        if key not in valid:
            hint = difflib.get_close_matches(key[:100], valid, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            place = f"[{where}]" if where else "the top level"
            raise ConfigError(
                f"unknown key {shown(key)} in {place} of the configuration.{suggestion} "
                f"Valid keys there: {', '.join(valid)}."
            )


# Keys whose value is a file path, read relative to the directory of the TOML file that names it.
FILE_KEYS = ("matrix_file", "mean_file")


def _build(where: str, cls: type, values: Any, base_dir: Path | None = None) -> Any:
    if not isinstance(values, dict):
        raise ConfigError(f"[{where}] must be a table of keys, not {shown(values)}.")
    _check_keys(where, values, cls)
    kwargs = {}
    for key, value in values.items():
        nested = _NESTED_TYPES.get((cls, key))
        if nested is not None:
            kwargs[key] = _build(f"{where}.{key}", nested, value, base_dir)
        elif key in FILE_KEYS and base_dir is not None and isinstance(value, str) and value \
                and not Path(value).is_absolute():
            # Recorded as an absolute path, so that a configuration written back (config_to_toml,
            # result.json) names the same file from any directory.
            kwargs[key] = os.path.abspath(base_dir / value)
        elif key == "mean" and value is not None:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
        elif key == "matrix" and value is not None:
            kwargs[key] = tuple(tuple(row) if isinstance(row, list) else row for row in value) \
                if isinstance(value, list) else value
        else:
            kwargs[key] = value
    return cls(**kwargs)


def config_from_dict(values: dict[str, Any], base_dir: str | Path | None = None) -> Config:
    """Build and validate a `Config` from a nested dictionary (the parsed TOML).

    ``base_dir``: the directory that relative ``.npy`` paths (`FILE_KEYS`) are read from; None
    leaves them relative to the working directory.
    """
    _check_keys("", values, Config)
    base = None if base_dir is None else Path(base_dir)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key in _SECTION_TYPES:
            kwargs[key] = _build(key, _SECTION_TYPES[key], value, base)
        else:
            kwargs[key] = value
    return Config(**kwargs)


def config_to_dict(config: Config) -> dict[str, Any]:
    """The nested dictionary of `config`, without unset (None) optional keys; lists, not tuples."""

    def clean(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)
                    if getattr(value, f.name) is not None}
        if isinstance(value, tuple):
            return [clean(v) for v in value]
        return value

    return clean(config)


def config_from_toml(text: str, source: str = "<string>", base_dir: str | Path | None = None) -> Config:
    """Parse TOML text into a validated `Config`; malformed, huge or deeply nested TOML raises
    `ConfigError` (`theorybench.safeio.parse_toml`).

    ``base_dir`` is passed to `config_from_dict` (the directory of the TOML file).
    """
    return config_from_dict(parse_toml(text, source), base_dir)


def config_to_toml(config: Config) -> str:
    """TOML text that `config_from_toml` reads back to an equal `Config`."""
    return tomli_w.dumps(config_to_dict(config))


def load_config(path: str | Path | None) -> Config:
    """The configuration in the TOML file at `path`, or the built-in default when `path` is None."""
    if path is None:
        return Config()
    text = read_user_file(path, "configuration")
    return config_from_toml(text, source=f"configuration file {str(Path(path))!r}",
                            base_dir=Path(path).parent)


def config_hash(config: Config) -> str:
    """A stable 16-hex-digit identifier: SHA-256 of the canonical JSON of the configuration."""
    canonical = json.dumps(config_to_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
