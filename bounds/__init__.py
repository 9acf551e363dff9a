"""bounds: the theory of arXiv:2505.16204 as checkable objects (docs/theory.md §2–§6).

Pure functions of parameters and data; never imports the simulator. `THEOREMS` lists one instance
of every encoded theorem with its default constants (all 1), in report order. `bounds.thresholds`
(sympy's `solve`) is imported on first use of one of its names, so that ``import bounds`` does not
import sympy (about a second of `theorybench check`'s start-up).
"""

from bounds.contract import Conclusion
from bounds.contract import HypothesisResult
from bounds.contract import Sample
from bounds.contract import Theorem
from bounds.prior import CaoGuBelkin
from bounds.prior import ChatterjiLong
from bounds.prior import FreiEtAl
from bounds.rates import CANDIDATE_EXPONENTS
from bounds.rates import candidate_exponent
from bounds.rates import parameter_values
from bounds.rates import psi
from bounds.rates import regime_indicator
from bounds.symbolic import STATEMENTS
from bounds.symbolic import statement
from bounds.theorem_4_8 import Theorem48
from bounds.theorem_5_1 import Theorem51
from bounds.theorems_6 import Assumption61
from bounds.theorems_6 import StrongRegimeBayesOrder
from bounds.theorems_6 import Theorem62
from bounds.theorems_6 import Theorem63

THEOREMS: tuple[Theorem, ...] = (
    Theorem48(),
    Theorem51(),
    Assumption61(),
    Theorem62(),
    StrongRegimeBayesOrder(),
    Theorem63(),
    ChatterjiLong(),
    CaoGuBelkin(),
    FreiEtAl(),
)

_THRESHOLD_NAMES = ("Threshold", "benign_boundary_signal", "phase_boundary_signal",
                    "smallest_dimension", "solve_threshold")


def __getattr__(name: str):
    # PEP 562: the names of bounds.thresholds, imported on first use.
    if name in _THRESHOLD_NAMES:
        from bounds import thresholds

        return getattr(thresholds, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CANDIDATE_EXPONENTS", "STATEMENTS", "THEOREMS", "Assumption61", "CaoGuBelkin", "ChatterjiLong",
    "Conclusion", "FreiEtAl", "HypothesisResult", "Sample", "StrongRegimeBayesOrder", "Theorem",
    "Theorem48", "Theorem51", "Theorem62", "Theorem63", "Threshold", "benign_boundary_signal",
    "candidate_exponent", "parameter_values", "phase_boundary_signal", "psi", "regime_indicator",
    "smallest_dimension", "solve_threshold", "statement",
]
