"""Library properties: `check`'s sufficient rows of Theorem 4.8, tested by running gradient descent.

A row of `check` that holds claims a conclusion about the process (docs/theory.md §3). These
properties evaluate the row exactly as `check` does (`bounds.theorem_4_8.Theorem48` on the sample,
the declared statements of `bounds.symbolic` at `bounds.theorem_4_8.sample_values`) and then run
the process itself (`theorybench.training.train`, Gram-space GD) to see the conclusion:

- ``step_size_descent`` (DERIVED, §3 "The step-size condition"): where ``step_lambda``
  (:math:`\\eta L(W(1))\\lambda_{\\max}(Q) \\le 2`) or ``step_radius``
  (:math:`\\eta L(W(1))\\max_i\\|\\tilde x_i\\|^2 \\le u^*`) holds, the loss does not increase at any
  step :math:`t \\ge 1` while the activation pattern holds (at :math:`W(t)` and :math:`W(t+1)`);
  where ``case1`` holds, every margin :math:`y_i f(x_i; W)` does not decrease at such a step
  (EXACT: every increment :math:`(\\eta/n)\\sum_k \\ell_k Q_{ik}` is :math:`\\ge 0`);
- ``initialisation_activates`` (§3): where the small-initialisation rows hold
  (``init``: the EXACT step-one criterion; ``init_sufficient``: the DERIVED bound
  :math:`\\max|H(0)| < \\frac{\\eta}{n\\sqrt m}S_{\\min}`), every neuron is correctly activated after
  the actual first step; where the EXACT criterion fails, some pair is not;
- ``theorem_4_8_pattern`` (PAPER, constants at their defaults, §3): where every requirement of
  Theorem 4.8 holds on the sample (H0, Case 1 or Case 2, the certificate, the initialisation, the
  step size), the pattern is reached at step 1 and persists for the steps run.

Only the comparisons need a tolerance; each is the float64 rounding of the quantities compared,
derived where it is computed. Steps and sizes are modest, so the quick profile stays fast.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from bounds import symbolic
from bounds.catalogue import StepInstance
from bounds.contract import Sample
from bounds.limit_direction import lifted_gram
from bounds.theorem_4_8 import Theorem48, sample_values
from theorybench import strategies
from theorybench.config import Config, TrainingConfig
from theorybench.network import leaky_relu
from theorybench.proptest.model import EPS, Falsified, Property, aim
from theorybench.training import train

# Steps run after the first: the claims are about every step, a few dozen make them bite at
# the moderate cost of an (n, n) x (n, m) product each.
STEPS = 24


def _sample(instance: StepInstance) -> Sample:
    return Sample(X=instance.X, y=instance.y, W0=instance.W0, a=instance.a, gamma=instance.gamma,
                  eta=instance.eta)


def _holds(statement_name: str, values: dict) -> bool:
    return bool(symbolic.statement(statement_name).holds(values))


def _run(instance: StepInstance, steps: int):
    """Gram-space GD with every step recorded (`theorybench.training.train`)."""
    return train(instance.X, instance.y, instance.a, instance.W0, instance.gamma,
                 TrainingConfig(step_size=instance.eta, max_steps=steps, checkpoints=steps + 1,
                                log_loss_floor=-1e300, divergence_log_margin=1e300,
                                implementation="gram"))


def _margins_and_scale(run, checkpoint) -> tuple[np.ndarray, np.ndarray]:
    """Margins :math:`y_i f(x_i; W(t))` and, per sample, the absolute scale of their terms.

    :math:`H = H(0) + KA` is summed over n + 1 terms, each rounded to a relative
    :math:`(n + 2)\\epsilon` of :math:`|H(0)| + |K||A|`; :math:`f_i = \\sum_j a_j\\phi(H_{ij})` adds
    :math:`(m + 2)\\epsilon` of :math:`\\sum_j|a_j||H_{ij}|`.
    """
    A = checkpoint.coefficients
    H = run.initial_preactivations + run.gram @ A
    margins = run.y * (leaky_relu(H, run.gamma) @ run.a)
    scale = (np.abs(run.initial_preactivations) + np.abs(run.gram) @ np.abs(A)) @ np.abs(run.a)
    return margins, scale


def _rounding(run, scale: np.ndarray) -> np.ndarray:
    n, m = run.gram.shape[0], run.a.size
    return 4.0 * (n + m + 4) * EPS * scale


@st.composite
def _step_problems(draw):
    """Step instances with the step rescaled over five orders of magnitude around
    :math:`1/\\lambda_{\\max}(Q)`, so that the step-size rows hold, fail, and sit near equality."""
    instance = draw(strategies.step_instances())
    lifted = lifted_gram(instance.X @ instance.X.T, instance.y, instance.a, instance.gamma)
    top = float(np.linalg.eigvalsh(lifted)[-1])
    if not (np.isfinite(top) and top > 0):
        return instance
    eta = draw(strategies.log_uniform(1e-2, 1e3)) / top
    return StepInstance(X=instance.X, y=instance.y, a=instance.a, W0=instance.W0,
                        gamma=instance.gamma, eta=eta)


def _radius_factor(u: float) -> float:
    """:math:`c(u) = (e^u - 1 - u)/u^2` of docs/theory.md §3 (b); its series
    :math:`1/2 + u/6 + u^2/24` below :math:`u = 10^{-4}`, where the subtraction cancels (relative
    error about :math:`2\\epsilon/u \\approx 4\\cdot10^{-12}`) and the first omitted term,
    :math:`u^3/120`, is below :math:`2\\cdot10^{-14}` of the value."""
    return (math.expm1(u) - u) / (u * u) if u > 1e-4 else 0.5 + u / 6.0 + u * u / 24.0


def _check_radius_descent(run, before, after, margin_slack: float, loss_slack: float) -> None:
    """The inequality that proves step size (b), docs/theory.md §3:

    .. math:: \\frac{L(t+1)}{L(t)} \\le 1 - \\eta L\\|\\bar x\\|^2 (1 - c(u)\\,u),\\qquad
              u = \\eta L R^2,\\ \\|\\bar x\\|^2 = \\pi^\\top Q\\pi,\\ \\pi = \\ell/(nL),

    with :math:`Q` the lifted Gram matrix and :math:`R^2 = \\max_i Q_{ii}`. It is tight to second
    order in the step, so a wrong factor in the row's derivation shows here long before the loss
    itself increases.
    """
    margins, _ = _margins_and_scale(run, before)
    Q = lifted_gram(run.gram, run.y, run.a, run.gamma)
    log_loss = before.log_loss
    pi = np.exp(-margins - (log_loss + math.log(margins.size)))  # l_i / (n L), in log space
    u = run.step_size * math.exp(log_loss) * float(np.max(np.diag(Q)))
    decrease = run.step_size * math.exp(log_loss) * float(pi @ Q @ pi) * (1.0 - _radius_factor(u) * u)
    if not -1.0 < -decrease <= 0.0:
        return  # u > u*: the inequality is not claimed at this step (the loss check decides)
    bound = math.log1p(-decrease)
    # pi from the rounded margins: each pi_i moves by a relative margin_slack, the quadratic form
    # pi'Q pi by 2 margin_slack plus (n + 2) eps of its absolute terms; log1p is exact to 2 eps.
    n = margins.size
    absolute = run.step_size * math.exp(log_loss) * float(np.abs(pi) @ np.abs(Q) @ np.abs(pi))
    bound_slack = 4.0 * (margin_slack + (n + 4) * EPS) * absolute / (1.0 - decrease)
    if after.log_loss - log_loss > bound + loss_slack + bound_slack:
        raise Falsified(
            f"step size (b) holds (u = {u!r} <= u*), yet log L(t+1) - log L(t) = "
            f"{after.log_loss - log_loss!r} at step {after.step} exceeds the proof's bound "
            f"log(1 - eta L ||x_bar||^2 (1 - c u)) = {bound!r} (rounding "
            f"{loss_slack + bound_slack:.3g})")


def _step_size_property() -> Property:
    def check(instance: StepInstance) -> bool:
        values = sample_values(_sample(instance))
        step_rows = [name for name in ("step_size_lambda", "step_size_sample")
                     if _holds(name, values)]
        case1 = _holds("case1_sample", values)
        if not step_rows and not case1:
            return False
        with np.errstate(divide="ignore"):
            aim(-abs(np.log(values["eta"] * values["loss_1"] * values["lift_lambda_max"] / 2.0)),
                "step_lambda near equality")
        run = _run(instance, STEPS)
        exercised = False
        for before, after in zip(run.checkpoints[1:], run.checkpoints[2:]):
            if not after.pattern_intact:
                break  # the claims speak of steps inside the pattern (W(t) and W(t+1))
            exercised = True
            old, old_scale = _margins_and_scale(run, before)
            new, new_scale = _margins_and_scale(run, after)
            slack = _rounding(run, old_scale) + _rounding(run, new_scale)
            if step_rows:
                # log L = logsumexp(-margins) - log n is 1-Lipschitz in max_i |delta margin_i|;
                # the log-sum-exp itself is exact to (n + 4) eps (1 + |log L|).
                loss_slack = float(slack.max()) + 2 * (slack.size + 4) * EPS * (
                    1.0 + abs(before.log_loss) + abs(after.log_loss))
                if after.log_loss > before.log_loss + loss_slack:
                    raise Falsified(
                        f"{', '.join(step_rows)} holds (eta = {instance.eta!r}), yet log L went "
                        f"from {before.log_loss!r} to {after.log_loss!r} at step {after.step} "
                        f"with the pattern intact (rounding {loss_slack:.3g})")
            if "step_size_sample" in step_rows:
                _check_radius_descent(run, before, after, float(slack.max()), loss_slack)
            if case1:
                drop = old - new - slack
                if np.any(drop > 0):
                    i = int(np.argmax(drop))
                    raise Falsified(f"Case 1 holds, yet the margin of sample {i} fell from "
                                    f"{float(old[i])!r} to {float(new[i])!r} at step {after.step} "
                                    f"with the pattern intact (rounding {float(slack[i]):.3g})")
        return exercised

    return Property("library", "step_size_descent", "DERIVED", "§3",
                    "where check's step-size row (a) or (b) holds the loss does not increase, and "
                    "where Case 1 holds no margin decreases, at every step inside the pattern "
                    "(run by gradient descent)", _step_problems(), check)


@st.composite
def _initialisation_problems(draw):
    """Step instances, half of them with W(0) rescaled to between 1/3 and 1000 times the largest
    :math:`\\max|H(0)|` the sufficient initialisation condition allows (up to the change of the
    initial losses): the condition is conservative, so a wrong one (one that holds too often)
    fails where it holds but activation does not, some way beyond its equality. The other half
    as drawn (both sides of the exact criterion)."""
    instance = draw(strategies.step_instances())
    if not draw(st.booleans()):
        return instance
    values = sample_values(_sample(instance))
    init_max, allowed = symbolic.statement("small_init_sample").evaluate(values)
    if not (allowed > 0 and init_max > 0 and math.isfinite(allowed / init_max)):
        return instance
    factor = allowed / init_max * draw(strategies.log_uniform(1.0 / 3.0, 1e3))
    return StepInstance(X=instance.X, y=instance.y, a=instance.a, W0=instance.W0 * factor,
                        gamma=instance.gamma, eta=instance.eta)


def _initialisation_property() -> Property:
    def check(instance: StepInstance) -> bool:
        values = sample_values(_sample(instance))
        exact = _holds("step_one_exact", values)
        sufficient = values["step_min"] > 0 and _holds("small_init_sample", values)
        aim(-abs(values["step_one_min"]) / (1.0 + values["init_max"]), "step-one margin near 0")
        init_max, allowed = symbolic.statement("small_init_sample").evaluate(values)
        if allowed > 0 and init_max > 0:
            # towards the sufficient condition at equality, where a wrong one first fails
            aim(-abs(math.log(allowed / init_max)), "small initialisation near equality")
        run = _run(instance, 1)
        A = run.checkpoints[1].coefficients
        H = run.initial_preactivations + run.gram @ A
        signed = run.y[:, None] * np.sign(run.a)[None, :] * H
        n = run.gram.shape[0]
        # each H_kj sums n + 1 terms: rounding (n + 2) eps (|H(0)| + |K||A|), doubled for step_one's
        # own evaluation of the same entry in another order
        undecided = np.abs(signed) <= 4.0 * (n + 2) * EPS * (
            np.abs(run.initial_preactivations) + np.abs(run.gram) @ np.abs(A))
        activated = bool(np.all((signed > 0) | undecided))
        if (exact or sufficient) and not activated:
            rows = " and ".join(r for r, held in (("init (step_one_exact)", exact),
                                                  ("init_sufficient", sufficient)) if held)
            raise Falsified(f"{rows} holds, yet after the actual first step "
                            f"{int(np.count_nonzero((signed <= 0) & ~undecided))} pairs (k, j) "
                            "are not correctly activated")
        if not exact and bool(np.all(signed > 0) & ~np.any(undecided)) \
                and values["step_one_min"] < 0:
            raise Falsified("the step-one criterion fails, yet every pair (k, j) is correctly "
                            "activated after the actual first step")
        return True

    return Property("library", "initialisation_activates", "EXACT", "§3",
                    "where check's initialisation rows hold, every neuron is correctly activated "
                    "after the actual first GD step (and not where the exact criterion fails)",
                    _initialisation_problems(), check)


def _theorem_property() -> Property:
    def check(instance: StepInstance) -> bool:
        sample = _sample(instance)
        applies, _ = Theorem48().applies(Config(), sample)
        if not applies:
            return False
        run = _run(instance, STEPS)
        if run.first_pattern_break is not None:
            raise Falsified(f"Theorem 4.8 applies on this sample (every requirement holds at the "
                            f"default constants), yet the activation pattern breaks at step "
                            f"{run.first_pattern_break} of {run.steps_taken}")
        return True

    return Property("library", "theorem_4_8_pattern", "PAPER", "§3",
                    "where every requirement of Theorem 4.8 holds on the sample, the pattern is "
                    "reached at step 1 and persists (run by gradient descent)",
                    st.one_of(strategies.training_problems("case1"),
                              strategies.training_problems("case2")), check)


def sufficient_properties() -> list[Property]:
    """The properties of this module (see its docstring)."""
    return [_step_size_property(), _initialisation_property(), _theorem_property()]
