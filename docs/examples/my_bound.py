"""An example of a user's own bounds, tested without editing theorybench:

    theorybench proptest --module docs/examples/my_bound.py

A module declares ``BOUNDS``, a list of `bounds.catalogue.DeclaredBound`. Each bound names the
quantity it bounds (here the error of a linear direction, docs/theory.md §2.4, and a population rate,
§4), its kind, its provenance, and two functions of an instance: ``value`` (the log of the bound)
and ``applies`` (its hypotheses, as ``(holds, reason)``).
"""

import functools
import math

from bounds.catalogue import DeclaredBound


def log_chebyshev(instance):
    """Chebyshev: err(w) <= P(|<b, xi>| >= t) <= s^2 / t^2 for t = <w, mu> > 0, s = ||Sigma^(1/2) w||.

    EXACT for every zero-mean unit-variance noise (weaker than Cantelli's s^2 / (s^2 + t^2)).
    """
    return 2.0 * (math.log(instance.s) - math.log(instance.t))


def positive_signal(instance):
    if instance.t > 0 and instance.s > 0:
        return True, "t = <w, mu> > 0 and s > 0"
    return False, "the bound needs t = <w, mu> > 0 and s > 0"


def log_isotropic_rate(instance, *, c=1.0):
    """err <= exp(-c n ||mu||^4 / (n ||mu||^2 + d)): the isotropic Theorem 5.1 shape.

    RECONSTRUCTED; the universal constant c is a keyword parameter (default 1, docs/theory.md §0), set
    to 1/2 in the declaration below and recorded in its ``constants``. The exponent increases with
    ||mu|| and n and decreases with d, so the bound is nonincreasing in ||mu|| and n and
    nondecreasing in d: declared with ``monotone``.
    """
    summary = instance.summary()
    n, d = instance.data.n, instance.data.d
    return -c * n * summary.mean_norm_sq**2 / (n * summary.mean_norm_sq + d)


def isotropic_gaussian(instance):
    data = instance.data
    if data.covariance.family != "isotropic" or data.noise.family != "gaussian":
        return False, "stated for isotropic Gaussian noise only"
    return True, "isotropic Gaussian noise"


BOUNDS = [
    DeclaredBound(
        name="my_chebyshev", kind="upper", provenance="EXACT", section="§2.4",
        quantity="log_error_of_direction", statement="err(w) <= s^2 / t^2",
        value=log_chebyshev, applies=positive_signal,
        # An mpmath version of the same formula lets the suite check the float64 numerics too.
        reference=lambda instance, mp: 2 * (mp.log(mp.mpf(instance.s)) - mp.log(mp.mpf(instance.t))),
    ),
    DeclaredBound(
        name="my_isotropic_rate", kind="upper", provenance="RECONSTRUCTED", section="§4",
        quantity="log_error_rate", statement="err <= exp(-c n||mu||^4 / (n||mu||^2 + d)), c = 1/2",
        value=functools.partial(log_isotropic_rate, c=0.5), applies=isotropic_gaussian,
        monotone={"signal": "nonincreasing", "n": "nonincreasing", "d": "nondecreasing"},
        symmetries=("rotation",), constants={"c": 0.5},
    ),
]
