"""Strict JSON for results: RFC 8259 has no NaN or Infinity, so non-finite floats become strings.

Python's `json` writes bare ``NaN`` / ``Infinity`` tokens that other readers (jq, JavaScript)
refuse. Results files (`theorybench simulate`'s result.json, the report's rows.jsonl) store them as
the strings of `NON_FINITE` instead, and readers that know the column is numeric map them back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def strict_json_value(value: Any) -> Any:
    """`value` with NumPy scalars and arrays as Python values and non-finite floats as strings."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist() if isinstance(value, np.ndarray) else value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: strict_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json_value(item) for item in value]
    return value
