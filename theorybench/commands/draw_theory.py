"""What the theory says about the one draw `theorybench simulate` made (docs/theory.md §2.2, §2.4, §3).

`theory_on_draw(result)` computes, on the sampled training set and initialisation:

- the limit direction Ŵ (the hard-margin SVM of the lifted points, `bounds.limit_direction`) and its
  KKT certificate (EXACT, §2.2): whether it is certified, and if not why;
- ``1 − cos(W(T), Ŵ)``: how far the trained network is from the limit direction (EXACT, §2.2; it
  tends to 0 like 1/log² t while the activation pattern holds);
- the exact test error of the linear direction w̄ of Ŵ for Gaussian noise,
  ``Φ(−⟨w̄, μ⟩ / ‖Σ^{1/2} w̄‖)`` (EXACT, §2.4, `theorybench.evaluation.log_exact_gaussian_error`),
  as its natural logarithm and printed from it;
- Theorem 4.8's applicability on this draw (PAPER, §3): each hypothesis with its margin and
  whether Case 1 or Case 2 holds, from `bounds` (the same evaluation as ``theorybench check --sample``).

It lives with the commands, which may use all of `bounds` (docs/architecture.md): the simulator
itself needs none of it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from theorybench.evaluation import log_exact_gaussian_error
from theorybench.simulate import SimulationResult
from theorybench.stats import format_log_probability

THEOREM = "4.8"


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def theory_on_draw(result: SimulationResult) -> dict[str, Any]:
    """The limit direction, 1 − cos(W(T), Ŵ), the exact error of w̄ and Theorem 4.8 on this draw."""
    from bounds import THEOREMS
    from bounds.contract import Sample, requirement_verdict
    from bounds.limit_direction import limit_direction

    config, run = result.config, result.run
    X, y, a, gamma = result.training_set.X, result.training_set.y, run.a, config.network.gamma
    limit = limit_direction(X, y, a, gamma)
    certificate = limit.certificate
    certified = bool(limit.refusal is None and certificate.ok)
    out: dict[str, Any] = {"limit_direction": {
        "provenance": "EXACT", "theory_section": "docs/theory.md §2.2", "certified": certified,
        "refusal": limit.refusal, "reason": certificate.reason,
        "pattern_consistent": bool(certificate.pattern_consistent),
        "min_margin": _float(certificate.min_margin), "duality_gap": _float(certificate.duality_gap),
        "kkt_residual": _float(certificate.kkt_residual)}}
    one_minus_cos = log_error = None
    if certified:
        W, W_hat = run.final_weights(), limit.weights()
        norms = float(np.linalg.norm(W) * np.linalg.norm(W_hat))
        if math.isfinite(norms) and norms > 0:
            # 1 - cos loses digits below ~1e-15 to cancellation: far below the 1/log^2 t it tracks
            one_minus_cos = 1.0 - float(np.sum(W * W_hat)) / norms
        if config.data.noise.family == "gaussian":
            log_error = log_exact_gaussian_error(np.asarray(limit.linear_direction, np.float64), config.data)
    out["one_minus_cos"] = one_minus_cos
    out["limit_error"] = {"provenance": "EXACT", "theory_section": "docs/theory.md §2.4", "log": log_error,
                          "note": None if log_error is not None else (
                              "exact only for Gaussian noise" if certified else "no certified limit direction")}
    theorem = next(t for t in THEOREMS if t.key == THEOREM)
    sample = Sample(X=X, y=y, W0=run.W0, a=a, gamma=gamma, eta=config.training.step_size)
    rows = theorem.hypotheses(config, sample)
    applies, reason = requirement_verdict(rows, theorem.requirements)
    out["theorem_4_8"] = {
        "provenance": theorem.provenance, "theory_section": "docs/theory.md §3", "applies": bool(applies),
        "reason": reason,
        # a flag (yes/no hypothesis) has no margin: its placeholder +-0.5 is not a measurement
        "hypotheses": [{"key": r.key, "name": r.name, "holds": r.holds,
                        "margin": None if r.is_flag else _float(r.margin), "provenance": r.provenance}
                       for r in rows if r.verdict]}
    return out


def summary_lines(theory: dict[str, Any]) -> list[str]:
    """The theory block in a few lines for the terminal."""
    limit = theory["limit_direction"]
    lines = [f"limit direction: {'certified' if limit['certified'] else 'not certified'}"
             + ("" if limit["certified"] else f" ({limit['refusal'] or limit['reason']})")
             + ("" if theory["one_minus_cos"] is None else f"; 1 - cos(W(T), W_hat) = {theory['one_minus_cos']:.3g}")]
    error = theory["limit_error"]
    lines.append("exact error of w_bar: " + (format_log_probability(error["log"]) if error["log"] is not None
                                             else f"not computed ({error['note']})"))
    theorem = theory["theorem_4_8"]
    lines.append(f"Theorem 4.8 on this draw: {theorem['reason']}" if theorem["reason"]
                 else f"Theorem 4.8 on this draw: {'applies' if theorem['applies'] else 'does not apply'}")
    return lines
