"""The property runner: hypothesis searches for an instance that falsifies a declared bound.

One module per concept, a property beside its reference (docs/proptest.md):

- `theorybench.proptest.model`: what a property is (`Property`, `Falsified`), escalating-precision
  mpmath references, array comparison within rounding;
- `theorybench.proptest.contract`: calling a declared bound under its contract;
- `theorybench.proptest.direction`, `.step`, `.rates`: the references and properties of each
  quantity (the error of a direction, the step-one margins, population rates);
- `theorybench.proptest.declared`: which properties a declared bound gets;
- `theorybench.proptest.library`, `.noise_laws`, `.numerics`: EXACT properties of the toolkit;
- `theorybench.proptest.runner`: the search, profiles and outcomes; `.reporting`: printing;
  `.loading`: shipped bounds and user modules.

Strategies of instances live in `theorybench.strategies`.
"""

from __future__ import annotations

from dataclasses import replace

from theorybench.proptest.contract import BoundRaised
from theorybench.proptest.contract import ContractViolation
from theorybench.proptest.declared import bound_properties
from theorybench.proptest.direction import direction_relative_error
from theorybench.proptest.direction import direction_slack
from theorybench.proptest.direction import exact_log_error_interval
from theorybench.proptest.direction import rademacher_log_error_interval
from theorybench.proptest.library import library_properties
from theorybench.proptest.loading import UserModule
from theorybench.proptest.loading import load_bounds_module
from theorybench.proptest.loading import select_bound
from theorybench.proptest.loading import shipped_bounds
from theorybench.proptest.model import EPS
from theorybench.proptest.model import Falsified
from theorybench.proptest.model import Property
from theorybench.proptest.model import householder
from theorybench.proptest.reporting import format_outcome
from theorybench.proptest.runner import PROFILES
from theorybench.proptest.runner import Counterexample
from theorybench.proptest.runner import PropertyOutcome
from theorybench.proptest.runner import run_properties
from theorybench.proptest.runner import run_property
from theorybench.proptest.runner import validate_run_options
from theorybench.proptest.step import near_kink
from theorybench.proptest.step import one_step_margins


def suite(bounds, *, library: bool, user_code: bool = False,
          allow_vacuous: bool = False) -> list[Property]:
    """The properties of ``bounds`` (and the library's own when ``library``).

    ``user_code`` and ``allow_vacuous`` mark the bounds' properties as a user's (an exception in
    the bound is then a contract error; vacuity passes only when the module allows it).
    """
    properties = [replace(p, user_code=user_code, allow_vacuous=allow_vacuous)
                  for bound in bounds for p in bound_properties(bound)]
    if library:
        properties += library_properties()
    return properties
