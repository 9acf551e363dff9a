"""Library properties: EXACT statements of the toolkit itself, checked pointwise.

- ``gram_equals_weight_gd`` (docs/theory.md §2.5): Gram-space and weight-space GD give the same
  trajectory at a moderate step;
- ``trajectory_invariances`` (§2.5): the whole GD trajectory under permutation of samples, the
  sign symmetry :math:`(y, a) \\to (-y, -a)`, joint rescaling and rotation;
- ``limit_direction_certificate`` (§2.2): a certified limit direction re-checked in weight space,
  on instances where a limit direction exists (Case 1 samples: every pair positively correlated);
- ``linear_boundary`` (§2.3): balanced neurons, sign f(x; W_hat) = sign <w_bar, x>;
- ``bayes_floor`` (§2.4): the Bayes error is a floor for every direction's exact Gaussian error.

`check`'s sufficient rows of Theorem 4.8 are tested by running gradient descent
(`theorybench.proptest.sufficient`). The references of the noise laws (`theorybench.proptest.noise_laws`), of ``log_ndtr`` and of the
Clopper–Pearson interval (`theorybench.proptest.numerics`) are library properties too.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from bounds.catalogue import DirectionInstance, StepInstance
from bounds.error_functionals import log_bayes_error, log_gaussian_error_of_direction
from bounds.limit_direction import limit_direction
from theorybench import strategies
from theorybench.config import Config, TrainingConfig
from theorybench.proptest.direction import direction_slack
from theorybench.proptest.model import EPS, Falsified, Property, compare_arrays
from theorybench.proptest.step import step_variants
from theorybench.training import train


def _moderate_step(config: Config) -> tuple[StepInstance, TrainingConfig]:
    """The sampled problem and a training configuration with a moderate step.

    The step is capped so that :math:`\\eta \\max_i \\|x_i\\|^2 \\le 1/2` (with losses near 1 this
    keeps the first-order step map close to the identity), where rounding differences between two
    evaluations of the same trajectory grow at most geometrically by a factor below 2 per step
    instead of chaotically (docs/theory.md §2.5).
    """
    instance = strategies.sample_step_instance(config)
    radius = float(np.max(np.einsum("ij,ij->i", instance.X, instance.X)))
    eta = min(config.training.step_size, 0.5 / radius) if radius > 0 else config.training.step_size
    steps = min(config.training.max_steps, 12)
    return replace(instance, eta=eta), TrainingConfig(step_size=eta, max_steps=steps, checkpoints=2,
                                                      log_loss_floor=-1e300)


def _trajectory_slack(instance: StepInstance, steps: int, H: np.ndarray) -> np.ndarray:
    # Per step each pre-activation gains a rounding of (n + d + 4) eps times its absolute scale;
    # with the moderate step the accumulated error is at most 2^steps times the per-step error
    # (see _moderate_step), and the absolute scale is bounded by |X||W0| + |H| + 1.
    n, d = instance.X.shape
    base = np.abs(instance.X) @ np.abs(instance.W0).T + np.abs(H) + 1.0
    return 8.0 * (n + d + 4) * EPS * (2.0 ** steps) * steps * base


def _run(instance: StepInstance, training: TrainingConfig, implementation: str = "gram"):
    return train(instance.X, instance.y, instance.a, instance.W0, instance.gamma,
                 replace(training, implementation=implementation))


def _gram_weight_property() -> Property:
    def check(config: Config) -> bool:
        instance, training = _moderate_step(config)
        gram, weight = _run(instance, training, "gram"), _run(instance, training, "weight")
        H = weight.preactivations(instance.X)
        slack = _trajectory_slack(instance, weight.steps_taken, H)
        compare_arrays("pre-activations, Gram vs weight space", gram.preactivations(instance.X), H,
                        slack)
        # log L = logsumexp(-y f) - log n is 1-Lipschitz in max_i |f_i|, and |f_i| moves by at
        # most sum_j |a_j| |delta H_ij|.
        loss_slack = float(np.max(slack @ np.abs(instance.a))) + 16 * EPS * (1.0 + abs(weight.final.log_loss))
        if abs(gram.final.log_loss - weight.final.log_loss) > loss_slack:
            raise Falsified(f"final log loss {gram.final.log_loss!r} (Gram) vs "
                            f"{weight.final.log_loss!r} (weight space), allowed {loss_slack:.3g}")
        if gram.steps_taken != weight.steps_taken or gram.stop_reason != weight.stop_reason:
            raise Falsified(f"Gram run took {gram.steps_taken} steps ({gram.stop_reason}), weight run "
                            f"{weight.steps_taken} ({weight.stop_reason})")
        return True

    return Property("library", "gram_equals_weight_gd", "EXACT", "§2.5",
                    "Gram-space GD and weight-space GD give the same trajectory",
                    strategies.configs(), check)


@st.composite
def _configs_with_transforms(draw):
    config = draw(strategies.configs())
    permutation = draw(st.permutations(list(range(config.data.n))))
    scale = draw(strategies.log_uniform(0.1, 10.0))
    axis = draw(strategies.vectors(config.data.d, 1.0))
    return config, permutation, scale, axis


def _trajectory_invariance_property() -> Property:
    def check(drawn) -> bool:
        config, permutation, scale, axis = drawn
        instance, training = _moderate_step(config)
        base = _run(instance, training)
        H = base.preactivations(instance.X)
        slack = _trajectory_slack(instance, base.steps_taken, H)
        for label, rows, other in step_variants(instance, permutation, scale, axis):
            moved_training = replace(training, step_size=other.eta)
            moved = _run(other, moved_training)
            compare_arrays(f"final pre-activations under {label}", H[rows], moved.preactivations(other.X),
                            2.0 * slack[rows])
            loss_slack = 2.0 * float(np.max(slack)) * (1.0 + abs(base.final.log_loss))
            if abs(moved.final.log_loss - base.final.log_loss) > loss_slack:
                raise Falsified(f"final log loss {base.final.log_loss!r} became "
                                f"{moved.final.log_loss!r} under {label}")
        return True

    return Property("library", "trajectory_invariances", "EXACT", "§2.5",
                    "GD trajectory invariant under permutation of samples, (y, a) -> (-y, -a), "
                    "joint rescaling (X s, W0 / s, eta / s^2) and rotation", _configs_with_transforms(),
                    check)


def _limit_direction_property() -> Property:
    def check(instance: StepInstance) -> bool:
        result = limit_direction(instance.X, instance.y, instance.a, instance.gamma)
        if result.refusal is not None:
            if not isinstance(result.refusal, str) or not result.refusal:
                raise Falsified("a refused limit direction must say why")
            return False
        W = result.weights()
        H = instance.X @ W.T
        network = np.where(H > 0, H, instance.gamma * H) @ instance.a
        margins = instance.y * network
        absX = np.abs(instance.X)
        n, d = instance.X.shape
        # Re-evaluation in weight space differs from the Gram-space certificate by rounding of
        # length-(n + d) products of absolute size |X||W|.
        rounding = 8.0 * (n + d + 4) * EPS * (absX @ np.abs(W).T)
        tolerance = result.certificate.tolerance
        if np.any(result.dual < -tolerance * float(np.max(np.abs(result.dual)))):
            raise Falsified(f"dual infeasible: min lambda = {float(result.dual.min())!r}")
        worst = float(np.min(margins + np.abs(instance.a) @ rounding.T))
        if worst < 1.0 - tolerance:
            raise Falsified(f"certified, but min_i y_i f(x_i; W_hat) = {float(margins.min())!r} < 1 "
                            "when evaluated in weight space")
        pattern = instance.y[:, None] * np.sign(instance.a)[None, :] * H
        if np.any(pattern < -rounding):
            raise Falsified("certified, but s_j y_i <x_i, w_hat_j> < 0 for some (i, j) in weight space")
        total = float(result.dual.sum())
        # The certificate bounds the relative duality gap by `tolerance` (default 1e-9), evaluated
        # in Gram form (sum B * K B); the weight form ||B^T X||_F^2 here differs from it only by
        # the rounding of length-(n + d) sums, a few (n + d) eps relative (d <= 60 here): the
        # extra 1e3 n eps (>= 4e-13) covers it and is far below the tolerance.
        if abs(float(np.sum(W * W)) - total) > (tolerance + 1e3 * n * EPS) * total:
            raise Falsified(f"strong duality fails: ||W_hat||^2 = {float(np.sum(W * W))!r} vs "
                            f"sum lambda = {total!r}")
        return True

    return Property("library", "limit_direction_certificate", "EXACT", "§2.2",
                    "a certified limit direction re-checked in weight space through the real network",
                    strategies.step_instances(), check)


@st.composite
def _balanced_with_points(draw):
    config = draw(strategies.configs(balanced=True))
    instance = strategies.sample_step_instance(config)
    points = draw(st.lists(strategies.vectors(config.data.d, 4.0), min_size=1, max_size=5))
    return instance, np.array(points).reshape(len(points), config.data.d)


def _linear_boundary_property() -> Property:
    def check(drawn) -> bool:
        instance, points = drawn
        result = limit_direction(instance.X, instance.y, instance.a, instance.gamma)
        if result.refusal is not None:
            return False
        W, w_bar = result.weights(), result.linear_direction
        candidates = np.vstack([instance.X, points])
        H = candidates @ W.T
        f = np.where(H > 0, H, instance.gamma * H) @ instance.a
        linear = candidates @ w_bar
        d = instance.X.shape[1]
        # sign f = sign <w_bar, x> is exact; only points within rounding of the boundary
        # (|<w_bar, x>| below (d + n + 8) eps |x||w_bar| times a factor 8) are left undecided.
        undecided = np.abs(linear) <= 8.0 * (d + instance.n + 8) * EPS * (np.abs(candidates) @ np.abs(w_bar))
        wrong = (np.sign(f) != np.sign(linear)) & ~undecided
        if np.any(wrong):
            k = int(np.argmax(wrong))
            raise Falsified(f"point {k}: f(x; W_hat) = {float(f[k])!r} but <w_bar, x> = "
                            f"{float(linear[k])!r}")
        return True

    return Property("library", "linear_boundary", "EXACT", "§2.3",
                    "balanced neurons: sign f(x; W_hat) = sign <w_bar, x> at every point",
                    _balanced_with_points(), check)


@st.composite
def _gaussian_directions_and_bayes(draw):
    instance = draw(strategies.direction_instances(noises=("gaussian",)))
    if draw(st.booleans()):
        # The Bayes direction Sigma^{-1} mu attains the floor: the sharpest case of the inequality.
        S = instance.sqrt_sigma
        instance = DirectionInstance(np.linalg.solve(S @ S, instance.mu), instance.mu, S, "gaussian")
    return instance


def _bayes_floor_property() -> Property:
    def check(instance: DirectionInstance) -> bool:
        # For t <= 0 the error is at least 1/2, trivially above the Bayes error.
        if instance.s == 0.0 or not instance.t > 0:
            return False
        sigma = instance.sigma
        error = log_gaussian_error_of_direction(instance.w, instance.mu, sigma)
        bayes = log_bayes_error(instance.mu, sigma)
        eigenvalues = np.linalg.eigvalsh(sigma)
        mahalanobis = float(instance.mu @ np.linalg.solve(sigma, instance.mu))
        # The Mahalanobis norm from an eigendecomposition is accurate to a relative
        # 16 d eps cond(Sigma); log Phi(-sqrt M) moves by at most (M + sqrt M + 2) times that
        # (as in direction_slack, with x^2 = M); the direction's own error adds direction_slack.
        condition = float(eigenvalues[-1] / eigenvalues[0])
        slack = (mahalanobis + math.sqrt(mahalanobis) + 2.0 * (1.0 + abs(bayes))) \
            * 16.0 * (instance.d + 2) * EPS * condition + direction_slack(instance, error, bayes)
        if error < bayes - slack:
            raise Falsified(f"log error of the direction {error!r} is below the log Bayes error "
                            f"{bayes!r} (slack {slack:.3g})")
        return True

    return Property("library", "bayes_floor", "EXACT", "§2.4",
                    "every direction's exact Gaussian error is at least the Bayes error "
                    "(bounds.error_functionals; Cauchy-Schwarz)", _gaussian_directions_and_bayes(),
                    check)


def library_properties() -> list[Property]:
    """The EXACT properties of the toolkit itself (see the module docstring)."""
    from theorybench.proptest.certificate import certificate_properties
    from theorybench.proptest.noise_laws import noise_law_property
    from theorybench.proptest.numerics import (
        clopper_pearson_coverage_property,
        clopper_pearson_tails_property,
        log_ndtr_property,
    )
    from theorybench.proptest.sufficient import sufficient_properties
    from theorybench.proptest.thresholds import (
        boundary_property,
        smallest_dimension_property,
        threshold_property,
    )

    return [_gram_weight_property(), _trajectory_invariance_property(), _limit_direction_property(),
            *certificate_properties(),
            _linear_boundary_property(), _bayes_floor_property(), noise_law_property(),
            log_ndtr_property(), clopper_pearson_coverage_property(),
            clopper_pearson_tails_property(), threshold_property(), smallest_dimension_property(),
            boundary_property(), *sufficient_properties()]
