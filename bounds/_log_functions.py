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
