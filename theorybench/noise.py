"""The law of the noise coordinates xi_j: i.i.d., zero mean, unit variance (docs/theory.md §1).

Families (PAPER, docs/theory.md §1; each standardisation EXACT):

- ``gaussian``: :math:`\\xi \\sim N(0, 1)`;
- ``rademacher``: :math:`\\xi = \\pm 1` with probability 1/2 each;
- ``uniform``: :math:`\\xi \\sim U[-\\sqrt 3, \\sqrt 3]` (variance :math:`(2\\sqrt3)^2/12 = 1`);
- ``student_t``: :math:`\\xi = \\sqrt{(\\nu-2)/\\nu}\\, T_\\nu` (variance of :math:`T_\\nu` is
  :math:`\\nu/(\\nu-2)` for :math:`\\nu > 2`), with :math:`E\\xi^4 = 3 + 6/(\\nu-4)` for
  :math:`\\nu > 4`;
- ``user``: ``function(rng, shape)`` named ``"package.module:function"`` in the configuration; the
  user vouches for zero mean and unit variance, and the returned array is checked for shape,
  dtype float64 and finiteness.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import numpy as np

from theorybench.config import NoiseConfig
from theorybench.errors import UserInputError

UNIFORM_HALF_WIDTH = math.sqrt(3.0)


def student_t_scale(nu: float) -> float:
    """The factor :math:`\\sqrt{(\\nu-2)/\\nu}` that gives a Student-t law unit variance. EXACT."""
    return math.sqrt((nu - 2.0) / nu)


def load_user_sampler(spec: str) -> Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]:
    """Import the callable named ``"package.module:function"``.

    Raises
    ------
    UserInputError
        When the module cannot be imported, has no such attribute, or the attribute is not callable.
    """
    module_name, _, attribute = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure is the user's module, not ours
        raise UserInputError(
            f"data.noise.sampler = {spec!r}: module {module_name!r} cannot be imported "
            f"({type(error).__name__}: {error}). It must be importable from the Python path; the "
            "theorybench command does not search the current directory, so for a module there run "
            "it as PYTHONPATH=. theorybench ..."
        ) from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise UserInputError(
            f"data.noise.sampler = {spec!r}: module {module_name!r} has no callable {attribute!r}; "
            "it must define function(rng, shape) returning a float64 array of that shape."
        )
    return function


def sample_noise(noise: NoiseConfig, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """An array of the given shape with i.i.d. zero-mean unit-variance entries of the family.

    Parameters
    ----------
    noise : NoiseConfig
        The family (and ``nu`` or ``sampler``).
    rng : numpy.random.Generator
        The only source of randomness.
    shape : tuple of int
        Shape of the result.

    Returns
    -------
    numpy.ndarray
        float64 array of ``shape``.

    Raises
    ------
    UserInputError
        For a user sampler that cannot be imported or returns something other than a finite
        float64 array of ``shape``.
    """
    shape = tuple(int(s) for s in shape)
    family = noise.family
    if family == "gaussian":
        return rng.standard_normal(shape)
    if family == "rademacher":
        return 2.0 * rng.integers(0, 2, size=shape).astype(np.float64) - 1.0
    if family == "uniform":
        return rng.uniform(-UNIFORM_HALF_WIDTH, UNIFORM_HALF_WIDTH, size=shape)
    if family == "student_t":
        return student_t_scale(noise.nu) * rng.standard_t(noise.nu, size=shape)
    function = load_user_sampler(noise.sampler)
    try:
        values = function(rng, shape)
    except Exception as error:  # the user's code failed; report it as their input
        raise UserInputError(
            f"data.noise.sampler = {noise.sampler!r} raised {type(error).__name__}: {error} when "
            f"called as function(rng, {shape})."
        ) from None
    if not isinstance(values, np.ndarray) or values.dtype != np.float64 or values.shape != shape:
        got = (f"{type(values).__name__} of shape {values.shape} and dtype {values.dtype}"
               if isinstance(values, np.ndarray) else type(values).__name__)
        raise UserInputError(
            f"data.noise.sampler = {noise.sampler!r} returned a {got}: it must return a float64 "
            f"numpy array of shape {shape}."
        )
    if not np.all(np.isfinite(values)):
        raise UserInputError(
            f"data.noise.sampler = {noise.sampler!r} returned non-finite values: every entry must be "
            "a finite real number."
        )
    return values
