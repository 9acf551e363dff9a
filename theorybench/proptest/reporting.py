"""Reporting: the raw values and TOML of a counterexample, and one printed block per outcome."""

from __future__ import annotations

from typing import Any

import numpy as np

from bounds.catalogue import DirectionInstance, RateInstance, StepInstance
from theorybench.config import Config, config_to_toml

LABELS = {"passed": "PASS", "falsified": "FAIL", "vacuous": "VACUOUS", "error": "ERROR"}


def describe(instance: Any) -> tuple[dict, str | None]:
    """Raw values of an instance, and the TOML of the configuration it maps to (if any)."""
    if isinstance(instance, tuple):
        raws, toml = [], None
        for part in instance:
            raw, part_toml = describe(part)
            raws.append(raw)
            toml = toml or part_toml
        return {"parts": raws}, toml
    if isinstance(instance, Config):
        return {"config": "see TOML"}, config_to_toml(instance)
    if isinstance(instance, np.ndarray):
        return {"array": instance.tolist()}, None
    if isinstance(instance, (int, float, str, list)):
        return {"value": instance}, None
    raw = instance.raw() if hasattr(instance, "raw") else {"repr": repr(instance)}
    if isinstance(instance, StepInstance):
        config = instance.config
        return raw, None if config is None else config_to_toml(config)
    if isinstance(instance, DirectionInstance):
        header = "# The data model of the counterexample; the direction w is in the raw values.\n"
        return raw, header + config_to_toml(instance.to_config())
    if isinstance(instance, RateInstance):
        return raw, config_to_toml(instance.to_config())
    return raw, None


def format_outcome(outcome) -> str:
    """One line per property (with how many instances exercised it), and the counterexample
    (detail, raw values, TOML) under a failure."""
    label = LABELS[outcome.status]
    if outcome.status == "vacuous" and outcome.allow_vacuous:
        label = "VACUOUS (allowed)"
    line = (f"{label:8s}{outcome.subject} :: {outcome.name}  [{outcome.provenance}, docs/theory.md "
            f"{outcome.section}]  exercised by {outcome.applicable} of {outcome.examples} examples")
    if outcome.status in ("vacuous", "error"):
        line += f"\n        {outcome.message}"
    example = outcome.counterexample
    if example is None:
        return line
    lines = [line, f"        property: {outcome.message}", f"        falsified: {example.detail}",
             "        shrunk counterexample, raw values:"]
    lines += [f"          {key} = {value!r}" for key, value in example.raw.items()]
    if example.toml is not None:
        lines.append("        as a configuration (theorybench check accepts it):")
        lines += ["          " + row for row in example.toml.rstrip().splitlines()]
    return "\n".join(lines)
