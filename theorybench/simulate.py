"""One complete run: sample, train by gradient descent, measure the test error.

`simulate` follows the seed contract of docs/architecture.md — ``data, init, test`` streams of
``SeedSequence(config.seed)`` — so the same configuration and seed give a bit-identical
`SimulationResult.to_json`. The JSON holds no wall times, host names or dates.

Provenance: the setting is PAPER (docs/theory.md §1) unless it leaves the paper's hypotheses in one of
the ways docs/theory.md §8 lists, in which case the result is labelled BEYOND with the reasons; the
test-error interval is EXACT (Clopper–Pearson coverage).
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

import numpy as np

from theorybench import __version__
from theorybench.config import Config, config_hash, config_to_dict
from theorybench.evaluation import checkpoint_test_errors, monte_carlo_test_error, error_sampling_method
from theorybench.jsonio import strict_json_value
from theorybench.sampling import TrainingSet, sample_run, test_stream
from theorybench.stats import BinomialEstimate
from theorybench.training import TrainingRun, train

CHECKPOINT_FIELDS = ("step", "log_loss", "weight_norm", "pattern_fraction", "pattern_intact",
                     "train_error")


def beyond_reasons(config: Config) -> list[str]:
    """Ways the configuration leaves the paper's setting (docs/theory.md §8), empty if none."""
    data, network, training = config.data, config.network, config.training
    reasons = []
    if data.label_flip > 0:
        reasons.append(f"label noise (data.label_flip = {data.label_flip})")
    if data.class_balance != 0.5:
        reasons.append(f"unbalanced classes (data.class_balance = {data.class_balance}; the paper has "
                       "P(y = +1) = 1/2, docs/theory.md §1)")
    if training.loss != "exponential":
        reasons.append(f"{training.loss} loss (the paper trains on the exponential loss)")
    if training.normalized:
        reasons.append("normalised GD (a fast oracle for the limit direction, not the paper's "
                       "algorithm)")
    if not network.balanced:
        reasons.append(f"unbalanced second layer (m_+ = {network.positive_neurons}, m = {network.m})")
    if data.d < data.n:
        reasons.append(f"d = {data.d} < n = {data.n}")
    return reasons


def _plain(value: Any) -> Any:
    # NumPy scalars become Python numbers so that json writes them by shortest round trip.
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class SimulationResult:
    """The outcome of `simulate`.

    Attributes
    ----------
    config : Config
        The configuration that was run (seed included).
    training_set : TrainingSet
        The sampled training set (observed and clean labels, flip mask).
    run : TrainingRun
        The gradient-descent run (checkpoints, stop reason).
    test_error : BinomialEstimate or None
        Monte Carlo test error with its Clopper–Pearson interval; None when the final weights are
        not finite (a diverged run has no classifier to test).
    theory : dict or None
        What the theory says about this draw, added by the ``simulate`` command
        (`theorybench.commands.draw_theory`); written under ``"theory"`` when present.
    checkpoint_test_errors : list of (BinomialEstimate or None)
        The test error at every checkpoint (`theorybench.evaluation.checkpoint_test_errors`),
        empty unless ``evaluation.test_points_at_checkpoints > 0``.
    """

    config: Config
    training_set: TrainingSet
    run: TrainingRun
    test_error: BinomialEstimate | None
    theory: dict[str, Any] | None = None
    checkpoint_test_errors: list[BinomialEstimate | None] = ()

    def to_dict(self) -> dict[str, Any]:
        """The deterministic, JSON-ready content: scalars only, no big arrays, no wall times."""
        import scipy  # for its version only; loaded by now (the intervals use scipy.special)

        reasons = beyond_reasons(self.config)
        checkpoints = [{name: _plain(getattr(c, name)) for name in CHECKPOINT_FIELDS}
                       for c in self.run.checkpoints]
        for row, estimate in zip(checkpoints, self.checkpoint_test_errors):
            row["test_error"] = self._test_dict(estimate)
        final = checkpoints[-1]
        test = self._test_dict(self.test_error)
        return {
            "config": config_to_dict(self.config),
            "config_hash": config_hash(self.config),
            "seed": self.config.seed,
            "versions": {
                "theorybench": __version__,
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "python": platform.python_version(),
            },
            "setting": {
                "provenance": "BEYOND" if reasons else "PAPER",
                "theory_section": "docs/theory.md §8" if reasons else "docs/theory.md §1",
                "beyond_reasons": reasons,
            },
            "label_flips": self.training_set.flip_count,
            "training": {
                "stop_reason": self.run.stop_reason,
                "steps_taken": int(self.run.steps_taken),
                "first_pattern_break": _plain(self.run.first_pattern_break),
                "final_log_loss": final["log_loss"],
                "train_error": final["train_error"],
                "checkpoints": checkpoints,
            },
            "test_error": test,
            **({"theory": self.theory} if self.theory is not None else {}),
        }

    def _test_dict(self, estimate: BinomialEstimate | None) -> dict[str, Any] | None:
        if estimate is None:
            return None
        return {**estimate.to_dict(), "method": error_sampling_method(self.config.data),
                "provenance": "EXACT (Clopper-Pearson interval, coverage >= confidence)"}

    def to_json(self) -> str:
        """`to_dict` as canonical strict JSON (sorted keys, floats by shortest round trip;
        non-finite values as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, see
        `theorybench.jsonio`)."""
        return json.dumps(strict_json_value(self.to_dict()), sort_keys=True, indent=2,
                          ensure_ascii=False, allow_nan=False) + "\n"


def simulate(config: Config, *, progress: bool = False) -> SimulationResult:
    """Sample a training set and an initialisation, train, and measure the test error.

    Streams (docs/architecture.md): the training set from ``data``, ``W(0)`` from ``init``, the
    test points from ``test`` (of ``evaluation.test_seed`` when it is set,
    `theorybench.sampling.test_stream`). The test error uses ``config.evaluation.test_points`` fresh clean
    pairs and the interval level ``config.evaluation.confidence``; with
    ``evaluation.test_points_at_checkpoints > 0`` every checkpoint is tested too, from its own
    stream (`theorybench.evaluation.checkpoint_test_errors`).
    """
    training_set, W0 = sample_run(config.data, config.network, config.seed)
    test_rng = test_stream(config.seed, config.evaluation)
    a = config.network.second_layer()
    run = train(training_set.X, training_set.y, a, W0, config.network.gamma, config.training,
                progress=progress)
    W = run.final_weights()
    test_error = None
    if np.all(np.isfinite(W)):
        test_error = monte_carlo_test_error(
            (W, a, config.network.gamma), config.data, test_rng, config.evaluation.test_points,
            config.evaluation.confidence, progress=progress,
        )
    along = checkpoint_test_errors(run, config.data, config.evaluation, config.seed)
    return SimulationResult(config=config, training_set=training_set, run=run, test_error=test_error,
                            checkpoint_test_errors=along)


def summary(result: SimulationResult) -> str:
    """A short human summary: setting, stop reason, final log-loss, training and test error."""
    content = result.to_dict()
    training = content["training"]
    setting = content["setting"]
    lines = [
        f"config {content['config_hash']}, seed {content['seed']}: setting {setting['provenance']}"
        + (f" ({'; '.join(setting['beyond_reasons'])})" if setting["beyond_reasons"] else ""),
        f"stopped: {training['stop_reason']} after {training['steps_taken']} steps; "
        f"final log-loss {training['final_log_loss']:.6g}; training error {training['train_error']:.4g}"
        f"; label flips {content['label_flips']}",
    ]
    if result.checkpoint_test_errors:
        along = ", ".join(f"{c.step}: {'n/a' if e is None else f'{e.errors}/{e.trials}'}"
                          for c, e in zip(result.run.checkpoints, result.checkpoint_test_errors))
        lines.append(f"test errors along training (step: errors/points): {along}")
    test = result.test_error
    if test is None:
        lines.append("test error: not measured (the final weights are not finite)")
    elif test.errors == 0:
        # No error seen is a resolution, not an error rate of 0 (docs/data_model.md).
        level = f"{100 * test.confidence:g}%"
        lines.append(
            f"test error: no error in {test.trials} points, so below the resolution: {level} "
            f"Clopper-Pearson interval [0, {test.upper:.4g}]"
        )
    else:
        level = f"{100 * test.confidence:g}%"
        lines.append(
            f"test error: {test.errors}/{test.trials} = {test.rate:.4g}, {level} Clopper-Pearson "
            f"interval [{test.lower:.4g}, {test.upper:.4g}]"
        )
    return "\n".join(lines)
