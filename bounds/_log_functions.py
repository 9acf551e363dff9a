"""Float64 implementations of the two special functions of `bounds.symbolic` (docs/theory.md §4, §6).

Shared by `sympy.lambdify` (statements built outside the registry) and by the generated module
`bounds._generated`, so that each function has one implementation. No sympy here: this module is on
the import path of every `theorybench check`.
"""

from __future__ import annotations

import numpy as np


def log_gaussian_tail(x):
    """:math:`\\log\\Phi(-x)` (EXACT) by ``scipy.special.log_ndtr(-x)``: a few ulps on the whole line.

    ``log(erfc(x/sqrt 2)/2)`` would lose all precision once erfc turns subnormal (x > 26.5).
    scipy.special is imported here, on first use, because importing it costs ~0.3 s of start-up.
    """
    from scipy import special

    return special.log_ndtr(-x)


def log_add_exp(a, b):
    """:math:`\\log(e^a + e^b)` by ``numpy.logaddexp``: exact where ``e^b`` is subnormal, ``b`` when
    ``a = -inf`` (``log(p + exp(-x))`` computed literally loses up to 1e-9 relative for
    708 < x < 745)."""
    return np.logaddexp(a, b)


# Above this argument mpmath's erfc cannot be called (it converts x^2 to a float64 and overflows
# near x = 1e154), and log Phi(-x) is taken from its asymptotic series instead.
_MP_TAIL_ASYMPTOTIC_ABOVE = 1e100


def mp_log_gaussian_tail(x):
    r"""log Phi(-x) in mpmath (EXACT), the high-precision fallback of `log_gaussian_tail`. For
    x > 1e100 the enveloping asymptotic series

    .. math:: \Phi(-x) = \frac{e^{-x^2/2}}{x\sqrt{2\pi}}\Bigl(1 - \frac{1}{x^2} + \frac{3}{x^4}
              - \frac{15}{x^6} + \frac{105}{x^8} - \dots\Bigr)

    is used: its error is below the first omitted term, 945 / x^10 < 1e-997, far under the
    precision of any statement evaluation (a few hundred digits).
    """
    import mpmath

    x = mpmath.mpf(x)
    if x <= _MP_TAIL_ASYMPTOTIC_ABOVE:
        return mpmath.log(mpmath.ncdf(-x))
    u = 1 / (x * x)
    series = 1 - u + 3 * u**2 - 15 * u**3 + 105 * u**4
    return -x * x / 2 - mpmath.log(x) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(series)

