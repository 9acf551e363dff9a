"""Running properties: hypothesis searches for an instance that falsifies each one.

Deterministic for a profile and seed (``@seed(S)``, no example database). Instances outside a
statement's hypotheses are rejected and replaced, so a profile's example count is spent where the
statement speaks; every outcome reports how many instances *exercised* the property. A property
that no instance exercised is ``vacuous``, a failure unless the property allows it (a user's
module may, docs/proptest.md; the library's own properties never do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, reject, seed as hypothesis_seed, settings
from hypothesis.errors import HypothesisException, Unsatisfiable

from theorybench.errors import UserInputError
from theorybench.proptest.contract import BoundRaised, ContractViolation
from theorybench.proptest.model import Falsified, Property
from theorybench.proptest.reporting import describe

PROFILES = {"quick": 25, "thorough": 400}

for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name, max_examples=_examples, deadline=None, database=None, derandomize=False,
        report_multiple_bugs=False, print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                               HealthCheck.data_too_large])


@dataclass(frozen=True)
class Counterexample:
    """A shrunk instance that falsifies a property.

    ``detail`` says how it fails, ``raw`` holds the instance's values, ``toml`` the configuration
    it maps to (None when it maps to none), and ``instance`` the object itself (for replaying).
    """

    detail: str
    raw: dict
    toml: str | None
    instance: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PropertyOutcome:
    """The result of one property over one strategy run.

    ``status``: ``passed``, ``falsified``, ``vacuous`` (no generated instance satisfied the
    statement's hypotheses) or ``error`` (the search itself failed, e.g. a flaky bound).
    ``examples`` instances were generated and ``applicable`` of them exercised the property.
    """

    subject: str
    name: str
    provenance: str
    section: str
    status: str
    examples: int
    applicable: int
    message: str
    counterexample: Counterexample | None = None
    allow_vacuous: bool = False

    @property
    def failed(self) -> bool:
        """Falsified, errored, or vacuous where vacuity is not allowed."""
        return self.status in ("falsified", "error") or (
            self.status == "vacuous" and not self.allow_vacuous)


def validate_run_options(profile: str, seed: Any) -> None:
    if profile not in PROFILES:
        raise UserInputError(f"--profile = {profile!r} is not allowed: it must be one of "
                             f"{', '.join(PROFILES)}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserInputError(f"--seed = {seed!r} is not allowed: it must be an integer >= 0.")


def run_property(prop: Property, *, profile: str = "quick", seed: int = 0) -> PropertyOutcome:
    """Search for a counterexample to ``prop``; deterministic for a given profile and seed.

    Raises `ContractViolation` when a user's bound breaks the contract (including raising an
    exception: the message carries the traceback of the user's code).
    """
    validate_run_options(profile, seed)
    counts = {"examples": 0, "applicable": 0}
    last: dict[str, Any] = {}

    @settings(settings.get_profile(profile))
    @hypothesis_seed(seed)
    @given(prop.strategy)
    def search(instance):
        # Hypothesis replays the shrunk failing example last, so `last` ends on it.
        last["instance"] = instance
        counts["examples"] += 1
        if not prop.check(instance):
            # Outside the statement's hypotheses: ask for another instance, so that the profile's
            # example count is spent on instances the statement speaks about.
            reject()
        counts["applicable"] += 1

    def outcome(status: str, message: str, counterexample: Counterexample | None = None):
        return PropertyOutcome(prop.subject, prop.name, prop.provenance, prop.section, status,
                               counts["examples"], counts["applicable"], message, counterexample,
                               prop.allow_vacuous)

    def counterexample(detail: str) -> Counterexample:
        raw, toml = describe(last.get("instance"))
        return Counterexample(detail, raw, toml, last.get("instance"))

    vacuous = (f"{prop.description}: no generated instance satisfied the statement's hypotheses, "
               "nothing was tested")
    try:
        search()
    except ContractViolation:
        raise  # bad input (the declaration), reported by the command line with exit status 2
    except BoundRaised as raised:
        if prop.user_code:
            raise raised.contract_violation() from None
        # A shipped bound that raises on a valid instance is itself wrong.
        return outcome("falsified", prop.description, counterexample(str(raised)))
    except Falsified as failure:
        return outcome("falsified", prop.description, counterexample(str(failure)))
    except Unsatisfiable:
        return outcome("vacuous", vacuous)
    except HypothesisException as error:
        return outcome("error", f"the search failed: {type(error).__name__}: {error}")
    except Exception as error:  # the toolkit's own reference or transform raised: a failure
        return outcome("falsified", prop.description,
                       counterexample(f"raised {type(error).__name__}: {error}"))
    if counts["applicable"] == 0:
        return outcome("vacuous", vacuous)
    return outcome("passed", prop.description)


def run_properties(properties: list[Property], *, profile: str = "quick", seed: int = 0,
                   on_outcome: Callable[[PropertyOutcome], None] | None = None) -> list[PropertyOutcome]:
    """Run ``properties`` in order; ``on_outcome`` is called with each outcome as soon as it is
    known (for streaming output)."""
    validate_run_options(profile, seed)
    outcomes = []
    for prop in properties:
        outcome = run_property(prop, profile=profile, seed=seed)
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
