"""The verifier's work unit: everything measured on one (setting, replicate).

`measure(config, setting, replicate)` samples the training set and the initialisation from
``config.seed`` (`theorybench.sampling.streams`), trains the network, computes the limit direction
of docs/theory.md §2.2 with its certificate, and returns tidy rows:

- one ``checkpoint`` row per training checkpoint: ``step``, ``log_loss``, ``weight_norm``,
  ``pattern_fraction``, ``pattern_intact``, ``train_error`` and ``one_minus_cos``
  (``1 - cos(W(t), W_hat)``, None without a certified limit direction); with
  ``evaluation.test_points_at_checkpoints > 0`` also ``test_errors`` out of
  ``checkpoint_test_points`` (`theorybench.evaluation.checkpoint_test_errors`; None for
  non-finite weights);
- one ``final`` row (``step = None``) with the setting's resolved parameters as flat columns
  named by their configuration keys (`config_columns`: ``data.n``, ``data.d``, ``data.signal``,
  ``data.covariance.family``, ``data.noise.family``, ``network.m``, ``network.gamma``,
  ``network.init_scale``, ``training.step_size`` ...), the run summary, the step-one activation criterion
  against what gradient descent did (§3), the limit direction's certificate (§2.2), the Monte
  Carlo test errors of the trained network and of ``sign <w_bar, x>`` on the same fresh points
  with their agreement (§2.3), the exact Gaussian error of w_bar and the Bayes error (§2.4, logs),
  the conditional bounds of §2.4 (logs), and the theory's quantities: psi, r, the candidate
  exponents and every theorem's hypotheses (``hyp/<theorem>/<hypothesis>/holds`` and
  ``.../margin``) and applicability (``applies/<theorem>``).

Every probability that can be astronomically small is stored as its natural logarithm
(``log_...``); Monte Carlo errors are stored as counts (``*_errors`` out of ``test_points``) so
that any interval level can be formed later (`theorybench.stats.clopper_pearson`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit

from bounds import THEOREMS
from bounds.contract import Sample, requirement_verdict
from bounds.error_functionals import best_conditional_bound, log_bayes_error, log_gaussian_error
from bounds.rates import (
    CANDIDATE_EXPONENTS,
    candidate_exponent,
    default_moment_order,
    deterministic_equivalent_of,
    effective_rank,
    parameter_values,
    psi,
    regime_indicator,
)
from bounds.theorem_4_8 import sample_limit_direction
from theorybench.config import Config
from theorybench.covariance import covariance_sqrt_apply
from theorybench.evaluation import chunk_sizes, checkpoint_test_errors, count_errors, gaussian_projection_factor
from theorybench.network import leaky_relu, leaky_relu_derivative
from theorybench.gd_batch import Problem, train_batch
from theorybench.noise import sample_noise
from theorybench.sampling import sample_labels, sample_run, test_stream
from theorybench.training import train
from verify.checks import BORDERLINE_RELATIVE
from verify.runner import Batching


def measure(config: Config, setting: str, replicate: int) -> list[dict[str, Any]]:
    """All rows of one (setting, replicate); deterministic in ``config`` (seed included).

    The batch of one of `measure_batch`.

    Parameters
    ----------
    config : Config
        The setting's configuration with the unit's seed already set by the runner.
    setting : str
        The setting's name, copied into every row.
    replicate : int
        The replicate index, copied into every row.

    Returns
    -------
    list of dict
        Checkpoint rows by increasing step, then the final row (see the module docstring).
    """
    return measure_batch([(config, setting, replicate)])[0]


def batch_key(config: Config) -> tuple[int, int, int] | None:
    """Units that may share a batch (`verify.runner.Batching`): Gram-space runs with the same
    ``(n, m)``, which `theorybench.gd_batch.train_batch` advances together, and the same d, which
    sets the memory a batch holds (`batch_capacity`); None (alone) for the weight-space reference
    implementation and for the features the batched engine lacks."""
    training = config.training
    if training.implementation != "gram":
        return None
    # The batched engine implements the exponential and logistic losses with the budget, loss-floor,
    # divergence and non-finite stop rules; the hinge loss, the stop rules by name and the test
    # error along training run alone through `train` (the same rows, only unbatched).
    if (training.loss == "hinge" or training.stop_on_zero_train_error or training.stop_on_pattern_reached
            or config.evaluation.test_points_at_checkpoints > 0):
        return None
    return (config.data.n, config.network.m, config.data.d)


def measure_batch(units: list[tuple[Config, str, int]]) -> list[list[dict[str, Any]]]:
    """The rows of several units, one list per unit, with gradient descent batched.

    Each unit samples from its own seed exactly as alone; units of one `batch_key` are trained
    together by `theorybench.gd_batch.train_batch` (the same trajectories as
    `theorybench.training.train` up to rounding, docs/theory.md §2.5), the others one by one. The
    rest (limit direction, Monte Carlo test points, theory columns) is computed once per unit,
    except that units of one `shared_test_key` draw their test noise once, together.
    Deterministic in the list of units: the same batch gives the same rows, bit for bit.
    """
    sampled = [_sample(config) for config, _, _ in units]
    runs: list[Any] = [None] * len(units)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for index, (config, _, _) in enumerate(units):
        key = batch_key(config)
        if key is None:
            problem = sampled[index][0]
            runs[index] = train(problem.X, problem.y, problem.a, problem.W0, problem.gamma, config.training)
        else:
            groups.setdefault(key, []).append(index)
    for indices in groups.values():
        batch = train_batch([sampled[i][0] for i in indices], [units[i][0].training for i in indices])
        for index, run in zip(indices, batch):
            runs[index] = run
    # One Sample per unit for the limit direction and every theorem's rows: what they share (the
    # first step, the limit direction and its certificate) is computed once (bounds.theorem_4_8).
    samples = [Sample(X=problem.X, y=problem.y, W0=problem.W0, a=problem.a, gamma=problem.gamma,
                      eta=config.training.step_size)
               for (problem, _, _), (config, _, _) in zip(sampled, units)]
    tests: list[dict[str, Any]] = [{}] * len(units)
    for indices in _test_groups([config for config, _, _ in units]):
        # Formed group by group: a unit's weights take m d floats, too many to hold for a batch.
        tested = [_tested(units[i][0], samples[i], runs[i]) for i in indices]
        for index, columns in zip(indices, test_columns(tested, sampled[indices[0]][2])):
            tests[index] = columns
    return [_unit_rows(config, setting, replicate, sampled[index], runs[index], samples[index], tests[index])
            for index, (config, setting, replicate) in enumerate(units)]


def shared_test_key(config: Config) -> tuple[Any, ...] | None:
    """Units with equal keys are tested on the same fresh points, drawn once (`test_columns`): the
    same ``evaluation.test_seed`` (hence the same test stream, `theorybench.sampling.test_stream`),
    number of points, dimension, noise law and class balance. None (tested alone): no
    ``test_seed``, or Gaussian noise, whose points are never formed (`_test_chunks`)."""
    data, evaluation = config.data, config.evaluation
    if evaluation.test_seed is None or data.noise.family == "gaussian":
        return None
    return (evaluation.test_seed, evaluation.test_points, data.d, data.noise, data.class_balance)


def _test_groups(configs: list[Config]) -> list[list[int]]:
    """Indices of the units tested together, by `shared_test_key`, in order of first appearance."""
    groups: dict[Any, list[int]] = {}
    for index, config in enumerate(configs):
        key = shared_test_key(config)
        groups.setdefault(("alone", index) if key is None else ("shared", key), []).append(index)
    return list(groups.values())


def _sample(config: Config) -> tuple[Problem, Any, np.random.Generator]:
    """The unit's training problem, its training set and its test stream, from ``config.seed``
    (the test stream from ``evaluation.test_seed`` when set, `theorybench.sampling.test_stream`)."""
    training_set, W0 = sample_run(config.data, config.network, config.seed)
    test_rng = test_stream(config.seed, config.evaluation)
    problem = Problem(X=training_set.X, y=training_set.y, a=config.network.second_layer(), W0=W0,
                      gamma=config.network.gamma)
    return problem, training_set, test_rng


def _certified(limit: Any) -> bool:
    return limit.refusal is None and limit.certificate.ok


def _unit_rows(config: Config, setting: str, replicate: int, sampled: tuple[Problem, Any, np.random.Generator],
               run: Any, sample: Sample, tests: dict[str, Any]) -> list[dict[str, Any]]:
    """Checkpoint rows and the final row of one trained unit (module docstring), with its test
    columns already counted (`test_columns`)."""
    problem, training_set, _ = sampled
    X, y, a, W0 = problem.X, problem.y, problem.a, problem.W0
    K = run.gram if run.gram is not None else X @ X.T
    limit = sample_limit_direction(sample)
    certified = _certified(limit)
    hat_norm = math.sqrt(max(float(np.sum((K @ limit.coefficients) * limit.coefficients)), 0.0)) \
        if certified else None

    head = {"setting": setting, "replicate": replicate}
    along = checkpoint_test_errors(run, config.data, config.evaluation, config.seed)
    rows = []
    for index, checkpoint in enumerate(run.checkpoints):
        gap = None
        if certified and checkpoint.weight_norm > 0:
            cosine = run.inner_product(limit.coefficients, checkpoint.step) / (checkpoint.weight_norm * hat_norm)
            # 1 - cos loses digits below ~1e-15 to cancellation; that is far below any tolerance used
            gap = 1.0 - cosine
        rows.append({**head, "step": int(checkpoint.step), "kind": "checkpoint",
                     "log_loss": float(checkpoint.log_loss), "weight_norm": float(checkpoint.weight_norm),
                     "pattern_fraction": float(checkpoint.pattern_fraction),
                     "pattern_intact": bool(checkpoint.pattern_intact),
                     "train_error": float(checkpoint.train_error), "one_minus_cos": gap})
        if along:
            rows[-1]["checkpoint_test_points"] = config.evaluation.test_points_at_checkpoints
            rows[-1]["test_errors"] = None if along[index] is None else along[index].errors

    last = run.checkpoints[-1]
    final: dict[str, Any] = {**head, "step": None, "kind": "final", **config_columns(config),
                             "stop_reason": run.stop_reason, "steps_taken": int(run.steps_taken),
                             "first_pattern_break": run.first_pattern_break,
                             "final_log_loss": float(last.log_loss), "final_train_error": float(last.train_error),
                             "final_one_minus_cos": rows[-1]["one_minus_cos"],
                             "label_flips": training_set.flip_count}
    final.update(step_one_columns(config, X, y, a, W0, K, run))
    final.update(certificate_columns(limit))
    final.update(tests)
    final.update(error_columns(config, np.asarray(limit.linear_direction, dtype=np.float64) if certified else None))
    final.update(theory_columns(config, sample))
    rows.append(final)
    return rows


def config_columns(config: Config) -> dict[str, Any]:
    """Every scalar parameter of `config` as a flat column named by its configuration key
    (``data.n``, ``data.covariance.alpha``, ``training.step_size`` ...; None where a family does not
    use it), so that a table of final rows needs no suite file. The seed is a column of its own;
    array-valued keys (a user covariance ``matrix``, a user ``mean``) are left out: the row's
    ``config_hash`` names them."""
    columns: dict[str, Any] = {}

    def visit(value: Any, prefix: str) -> None:
        for item in dataclasses.fields(value):
            child = getattr(value, item.name)
            if dataclasses.is_dataclass(child):
                visit(child, f"{prefix}{item.name}.")
            elif "tuple" not in str(item.type) and item.name != "seed":  # array-valued keys: by hash
                columns[f"{prefix}{item.name}"] = child

    visit(config, "")
    return columns


def step_one_columns(config: Config, X: np.ndarray, y: np.ndarray, a: np.ndarray, W0: np.ndarray,
                     K: np.ndarray, run: Any) -> dict[str, Any]:
    """The EXACT step-one activation criterion (docs/theory.md §3) against gradient descent's step 1.

    .. math::
        s_j y_k \\langle x_k, w_j(1)\\rangle = s_j y_k H_{kj}(0) + \\frac{\\eta}{n}\\,|a_j|
        \\sum_i \\ell_i(0)\\, \\varphi'(H_{ij}(0))\\, y_i y_k K_{ki}

    with :math:`\\ell_i(0)` the derivative weight of the loss at the initial margin (exponential:
    :math:`e^{-y_i f_i}`; logistic: :math:`1/(1+e^{y_i f_i})`; hinge: :math:`\\mathbf 1[y_i f_i < 1]`),
    divided by :math:`L(W(0))` for normalised GD. Computed independently of the trainer, from
    ``W(0)`` and ``K`` only, and
    compared pair by pair with the sign of :math:`s_j y_k H_{kj}(1)` of the trained run.
    Pairs whose value is within rounding of 0 (`BORDERLINE_RELATIVE`) are counted apart.
    """
    step_one = next((c for c in run.checkpoints if c.step == 1), None)
    if step_one is None:
        return {"step1_pairs": None}
    n = X.shape[0]
    gamma = config.network.gamma
    signs = np.sign(a)
    H0 = X @ W0.T
    margins = y * (leaky_relu(H0, gamma) @ a)
    # Written out, not taken from theorybench.numerics: the criterion is an independent
    # re-derivation of the first step, checked against what the trainer did.
    if config.training.loss == "exponential":
        weights = np.exp(-margins)
        loss = float(np.mean(weights))
    elif config.training.loss == "hinge":
        weights = (margins < 1.0).astype(np.float64)  # subgradient 0 at the kink, as the trainer
        loss = float(np.mean(np.maximum(0.0, 1.0 - margins)))
    else:
        weights = expit(-margins)
        loss = float(np.mean(np.logaddexp(0.0, -margins)))
    scale = config.training.step_size / n / (loss if config.training.normalized else 1.0)
    # contributions[i, j] = l_i phi'(H_ij) y_i |a_j|, so the step term is y_k K_k. @ contributions
    contributions = (weights * y)[:, None] * leaky_relu_derivative(H0, gamma) * np.abs(a)[None, :]
    initial = signs[None, :] * y[:, None] * H0
    step = scale * y[:, None] * (K @ contributions)
    predicted = initial + step
    magnitude = np.abs(initial) + scale * (np.abs(K) @ np.abs(contributions))
    borderline = np.abs(predicted) <= BORDERLINE_RELATIVE * magnitude

    if step_one.coefficients is not None:
        H1 = H0 + K @ step_one.coefficients
    else:
        H1 = X @ step_one.weights.T
    actual = signs[None, :] * y[:, None] * H1 > 0
    decided = ~borderline
    return {"step1_pairs": int(predicted.size), "step1_borderline": int(borderline.sum()),
            "step1_criterion_correct": int(np.count_nonzero(predicted > 0)),
            "step1_actual_correct": int(np.count_nonzero(actual)),
            "step1_disagreements": int(np.count_nonzero((predicted > 0)[decided] != actual[decided]))}


def certificate_columns(limit: Any) -> dict[str, Any]:
    """Summary of the limit direction's certificate (docs/theory.md §2.2, EXACT)."""
    certificate = limit.certificate
    return {"ld_ok": bool(limit.refusal is None and certificate.ok),
            "ld_refusal": limit.refusal, "ld_reason": certificate.reason,
            "ld_pattern_consistent": bool(certificate.pattern_consistent),
            "ld_min_margin": float(certificate.min_margin),
            "ld_duality_gap": float(certificate.duality_gap),
            "ld_complementary_slackness": float(certificate.complementary_slackness),
            "ld_dual_infeasibility": float(certificate.dual_infeasibility),
            "ld_kkt_residual": float(certificate.kkt_residual),
            "ld_svm_cosine": None if limit.svm_cosine is None else float(limit.svm_cosine)}


@dataclass(frozen=True)
class Tested:
    """The classifiers of one unit tested on fresh points: the trained network ``W`` (m, d) with
    second layer ``a`` and slope ``gamma``, and, when the limit direction is certified, ``w_bar``
    (d,) and the limit network's ``W_hat`` (m, d); ``config`` gives the data law and the points."""

    config: Config
    W: np.ndarray
    a: np.ndarray
    gamma: float
    w_bar: np.ndarray | None
    W_hat: np.ndarray | None

    def rows(self) -> np.ndarray:
        """``M``: the rows whose inner products with a test point decide every classifier."""
        blocks = [self.W] + ([self.w_bar[None, :], self.W_hat] if self.w_bar is not None else [])
        return np.vstack(blocks)


def _tested(config: Config, sample: Sample, run: Any) -> Tested:
    limit = sample_limit_direction(sample)
    certified = _certified(limit)
    return Tested(config, run.final_weights(), sample.a, sample.gamma,
                  np.asarray(limit.linear_direction, dtype=np.float64) if certified else None,
                  limit.weights() if certified else None)


def _test_chunks(configs: list[Config], Ms: list[np.ndarray], rng: np.random.Generator):
    """Fresh clean test pairs as ``(y, [X M^T for each M])`` in chunks, for units that share them.

    Gaussian noise (one unit): ``X M^T`` is sampled exactly in law as ``y M mu + e R`` with ``R``
    the triangular factor of ``(M Sigma^{1/2})^T`` (`theorybench.evaluation.gaussian_projection_factor`),
    O(k^2) per point for k rows instead of O(k d). Other families: the d-dimensional noise of
    `theorybench.sampling.sample_test_set` (the same draws, in the same order), projected without
    forming the points, :math:`X M^\\top = y (M\\mu)^\\top + \\xi (M \\Sigma^{1/2})^\\top`
    (:math:`\\Sigma^{1/2}` symmetric, EXACT): one pass over the noise instead of four, and one
    draw of the noise for every unit of the group (`shared_test_key`: the same noise law, so each
    unit's own mean and covariance enter only through its rows ``M mu`` and ``M Sigma^{1/2}``).
    """
    data = configs[0].data
    points = configs[0].evaluation.test_points
    gaussian = data.noise.family == "gaussian"
    width = Ms[0].shape[0] if gaussian else data.d
    means = [M @ config.data.mean_vector() for config, M in zip(configs, Ms)]
    if gaussian:
        (R,) = [gaussian_projection_factor(data, M) for M in Ms]
    else:
        projection = np.vstack([covariance_sqrt_apply(config.data, M) for config, M in zip(configs, Ms)])
        bounds = np.cumsum([0] + [M.shape[0] for M in Ms])
    # The chunks of theorybench.evaluation, so that the draws are those of `simulate`, in order.
    for count in chunk_sizes(points, width):
        labels = sample_labels(data.class_balance, rng, count)
        if gaussian:
            yield labels, [np.outer(labels, means[0]) + rng.standard_normal((count, R.shape[0])) @ R]
        else:
            noise = sample_noise(data.noise, rng, (count, data.d)) @ projection.T
            yield labels, [np.outer(labels, mean) + noise[:, lo:hi]
                           for mean, lo, hi in zip(means, bounds[:-1], bounds[1:])]


def test_columns(tested: list[Tested], rng: np.random.Generator) -> list[dict[str, Any]]:
    """Monte Carlo errors of each unit on one set of fresh points (counts; intervals are formed
    later), drawn from `rng`; several units only when they share their points (`shared_test_key`).

    - ``network_errors``: :math:`y f(x; W(T)) \\le 0` (a tie is an error).
    - ``linear_errors``: :math:`y \\langle \\bar w, x\\rangle \\le 0`.
    - ``disagreements``: :math:`\\operatorname{sign} f(x; W(T)) \\ne \\operatorname{sign}
      \\langle\\bar w, x\\rangle` (PAPER, §3: the boundary becomes linear).
    - ``limit_disagreements``: the same for :math:`f(x; \\hat W)`, which is EXACT (§2.3, balanced
      neurons); points with :math:`|\\langle \\bar w, x\\rangle|` or :math:`|f(x;\\hat W)|` within
      rounding of 0 relative to the chunk's largest value (`BORDERLINE_RELATIVE`) are skipped.
    """
    counts = [{"network_errors": 0, "linear_errors": 0, "disagreements": 0, "limit_disagreements": 0}
              for _ in tested]
    for labels, blocks in _test_chunks([t.config for t in tested], [t.rows() for t in tested], rng):
        for unit, H, count in zip(tested, blocks, counts):
            m = unit.W.shape[0]
            network = leaky_relu(H[:, :m], unit.gamma) @ unit.a
            count["network_errors"] += count_errors(labels * network)
            if unit.w_bar is None:
                continue
            linear = H[:, m]
            limit = leaky_relu(H[:, m + 1:], unit.gamma) @ unit.a
            count["linear_errors"] += count_errors(labels * linear)
            count["disagreements"] += int(np.count_nonzero(np.sign(network) != np.sign(linear)))
            clear = (np.abs(linear) > BORDERLINE_RELATIVE * np.max(np.abs(linear))) & \
                    (np.abs(limit) > BORDERLINE_RELATIVE * np.max(np.abs(limit)))
            count["limit_disagreements"] += int(np.count_nonzero(np.sign(limit[clear]) != np.sign(linear[clear])))
    for unit, count in zip(tested, counts):
        if unit.w_bar is None:
            count.update(linear_errors=None, disagreements=None, limit_disagreements=None)
    return [{"test_points": unit.config.evaluation.test_points, **count} for unit, count in zip(tested, counts)]


def error_columns(config: Config, w_bar: np.ndarray | None) -> dict[str, Any]:
    """Exact errors and conditional bounds of docs/theory.md §2.4 (EXACT), as natural logs.

    - ``log_bayes_error``: :math:`\\log\\Phi(-\\|\\Sigma^{-1/2}\\mu\\|)` (Gaussian noise only);
    - ``log_limit_error``: :math:`\\log\\Phi(-t/s)` with :math:`t = \\langle\\bar w,\\mu\\rangle`,
      :math:`s = \\|\\Sigma^{1/2}\\bar w\\|` (Gaussian noise only);
    - ``log_bound_best`` and ``bound_best``: the smallest valid conditional bound (sub-Gaussian,
      Cantelli, fourth moment; 0 when only the trivial bound 1 holds) on the error of
      :math:`\\operatorname{sign}\\langle\\bar w, x\\rangle`, and its name;
    - ``limit_signal_to_noise``: :math:`t/s`.
    """
    data = config.data
    gaussian = data.noise.family == "gaussian"
    out: dict[str, Any] = {"log_bayes_error": log_bayes_error(data) if gaussian else None,
                           "log_limit_error": None, "log_bound_best": None, "bound_best": None,
                           "limit_signal_to_noise": None}
    if w_bar is None:
        return out
    b = covariance_sqrt_apply(data, w_bar[None, :])[0]
    t = float(w_bar @ data.mean_vector())
    s = float(np.linalg.norm(b))
    out["limit_signal_to_noise"] = t / s
    if gaussian:
        out["log_limit_error"] = log_gaussian_error(t, s)
    bound = best_conditional_bound(t, b, proxy=data.noise.sub_gaussian_variance_proxy(),
                                   kurtosis=data.noise.kurtosis())
    out["log_bound_best"] = bound.log_value
    out["bound_best"] = bound.name
    return out


def theory_columns(config: Config, sample: Sample) -> dict[str, Any]:
    """psi, r, candidate exponents, and every theorem's hypotheses and conclusions (docs/theory.md §3–§6).

    ``psi`` and ``r`` are RECONSTRUCTED (§4); ``psi/<name>`` and ``r/<name>`` for every candidate
    exponent of `bounds.rates.CANDIDATE_EXPONENTS` (``cao_gu_belkin`` is PRIOR, §6) and for the
    deterministic equivalent ``psi_de`` (`bounds.deterministic_equivalent`, None when rank Sigma <= n);
    ``effective_rank`` is Tr Sigma / ||Sigma||, the validity domain of psi (§4);
    ``moment_order`` is the q of Theorem 6.3 (§5). For each theorem of `bounds.THEOREMS`:
    ``hyp/<theorem>/<key>/holds`` (all verdict rows of that key hold; None when one cannot be
    evaluated), ``.../margin`` (their smallest margin) and ``.../critical`` (the largest value of
    the key's universal constant for which it holds, where it has one), ``applies/<theorem>`` with
    its reason, ``concl/<theorem>/<name>`` (the conclusion's log value when it has one, else its
    value) and ``inconsistent/<theorem>`` (the statement of every printed bound that contradicts an
    exact quantity, §7, or None).
    """
    values = parameter_values(config)
    out: dict[str, Any] = {"psi": psi(values), "r": regime_indicator(values),
                           "moment_order": default_moment_order(config.data.noise),
                           "effective_rank": _number(effective_rank(values))}
    for name in CANDIDATE_EXPONENTS:
        out[f"psi/{name}"] = candidate_exponent(name, values)
        out[f"r/{name}"] = regime_indicator(values, name)
    equivalent = deterministic_equivalent_of(config)
    out["psi/psi_de"] = None if equivalent is None else equivalent.psi
    out["r/psi_de"] = None if equivalent is None else equivalent.indicator
    for theorem in THEOREMS:
        results = theorem.hypotheses(config, sample)
        by_key: dict[str, list[Any]] = {}
        for result in results:
            if result.verdict:
                by_key.setdefault(result.key, []).append(result)
        for key, group in by_key.items():
            prefix = f"hyp/{theorem.key}/{key}"
            states = [result.holds for result in group]
            out[f"{prefix}/holds"] = None if None in states else all(states)
            # a flag (a yes/no hypothesis) has no margin: its placeholder +-0.5 is not a measurement
            margins = [result.margin for result in group if not result.is_flag]
            out[f"{prefix}/margin"] = _number(min(margins)) if margins else None
            criticals = [r.critical_constant for r in group if r.critical_constant is not None]
            if criticals:
                # The key holds exactly for constants up to the smallest critical value (§7 calibration).
                out[f"{prefix}/critical"] = _number(min(criticals))
        applies, reason = requirement_verdict(results, theorem.requirements)
        out[f"applies/{theorem.key}"] = bool(applies)
        out[f"applies/{theorem.key}/reason"] = reason
        inconsistent = []
        for conclusion in theorem.conclusions(config, sample):
            if conclusion.name == "inconsistency":
                inconsistent.append(conclusion.statement)
                continue
            value = conclusion.log_value if conclusion.log_value is not None else conclusion.value
            out[f"concl/{theorem.key}/{conclusion.name}"] = _number(value) \
                if isinstance(value, (int, float)) else value
        out[f"inconsistent/{theorem.key}"] = "; ".join(inconsistent) or None
    return out


def _number(value: Any) -> float | None:
    """A float, with NaN (a margin that cannot be evaluated) stored as None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def batch_capacity(key: tuple[int, int, int]) -> int:
    """Most units of shape ``key = (n, m, d)`` in one batch: at most 64; about `BATCH_ENTRIES`
    entries per stacked ``(B, n, m)`` array, since past that the arrays of one step leave the cache
    and a step costs more per unit than in a smaller batch (measured with ``benchmarks/batch.py``:
    the best batch had 2^14 to 2^16 entries at every (n, m), and 1024 units of n = 100, m = 64 ran
    at half the speed of one at a time; docs/benchmarks.md); and at most `BATCH_MEMORY_ENTRIES`
    floats of what a batch holds per unit until its rows are written: the training set and the
    initialisation, ``(n + m) d``, and, when the batch shares its test noise
    (`shared_test_key`), the unit's tested rows and their projection, ``2 (2m + 1) d``. At least 1."""
    n, m, d = key
    held_per_unit = (n + m + 2 * (2 * m + 1)) * d
    return max(1, min(64, BATCH_ENTRIES // (n * m), BATCH_MEMORY_ENTRIES // held_per_unit))


# See batch_capacity.
BATCH_ENTRIES = 2**15
BATCH_MEMORY_ENTRIES = 2**25  # 256 MiB of float64 per batch, so a worker's memory stays bounded

BATCHING = Batching(work=measure_batch, key=batch_key, max_size_of=batch_capacity)
"""How `theorybench report` runs this module's units: batched by `batch_key` (`verify.runner`)."""
