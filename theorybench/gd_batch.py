"""Gradient descent in Gram space for a batch of units at once (docs/theory.md §2.5–2.6).

`train_batch` advances ``B`` independent training problems with the same ``n`` (samples) and ``m``
(neurons) as stacked arrays: per unit ``b`` (its own data, initialisation, ``gamma``, ``eta``,
second layer, loss, budget and stop rules),

.. math::
    H_b = H_b(0) + K_b A_b, \\qquad A_b \\leftarrow A_b + D_b(H_b),

with :math:`K_b = X_b X_b^\\top`, :math:`H_b(0) = X_b W_b(0)^\\top` and the increment
:math:`D_b` of `theorybench.network.descent_state` (log-space loss and derivative, docs/theory.md §2.6).
Each product is a stack of ``B`` small matrix products, so the per-step cost of the Python
interpreter is paid once per batch instead of once per unit; that is the whole gain (the
arithmetic is the same, EXACT identities of §2.5).

Per unit, as `theorybench.training.train` does for one: the same stop reasons in the same order
(``non_finite``, ``divergence``, ``loss_floor``, then ``budget``), checkpoints at its own
log-spaced steps (`theorybench.training.checkpoint_steps`), the pattern of §2.1 checked at every
step. A unit that stops is removed from the stacked arrays (masked, never recomputed), so the
others' arithmetic does not depend on when it stopped. The result is a list of
`theorybench.training.TrainingRun`, one per unit, equal to `train`'s up to rounding (the stacked
products may sum in another order; tested to 1e-12 relative in ``tests/test_gd_batch.py``).

`train` stays the reference implementation: it is independent code for the same trajectory.
The loss enters only through `theorybench.numerics.log_per_sample_loss` and
`theorybench.numerics.log_loss_derivative`, applied to the rows of the units using that loss, so
a new loss there is available here without change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from theorybench import numerics
from theorybench.config import TrainingConfig
from theorybench.errors import UserInputError
from theorybench.training import Checkpoint, TrainingRun, _train_error, _validated_problem, checkpoint_steps


@dataclass(frozen=True)
class Problem:
    """One training problem of a batch (docs/theory.md §1): inputs ``X`` (n, d), labels ``y`` (n,),
    second layer ``a`` (m,), initial first layer ``W0`` (m, d), leaky-ReLU slope ``gamma``."""

    X: np.ndarray
    y: np.ndarray
    a: np.ndarray
    W0: np.ndarray
    gamma: float


class _Stack:
    """The stacked state of the units still running; ``keep`` drops the stopped ones."""

    def __init__(self, **arrays: np.ndarray) -> None:
        self.__dict__.update(arrays)
        self._names = tuple(arrays)

    def keep(self, mask: np.ndarray) -> None:
        for name in self._names:
            setattr(self, name, getattr(self, name)[mask])

    def __len__(self) -> int:
        return len(self.index)


def _check_batch(problems: Sequence[Problem], trainings: Sequence[TrainingConfig]) -> list[tuple]:
    if len(problems) != len(trainings) or not problems:
        raise UserInputError(
            f"train_batch needs one TrainingConfig per problem and at least one problem; got "
            f"{len(problems)} problems and {len(trainings)} training configurations."
        )
    validated = []
    for problem, training in zip(problems, trainings):
        if not isinstance(training, TrainingConfig):
            raise UserInputError(f"training = {training!r} is not allowed: it must be a TrainingConfig.")
        if training.implementation != "gram":
            raise UserInputError(
                f"training.implementation = {training.implementation!r}: the batched engine is Gram "
                "space only; run weight-space units one at a time with theorybench.training.train."
            )
        validated.append(_validated_problem(problem.X, problem.y, problem.a, problem.W0, problem.gamma))
    shapes = {(X.shape[0], a.size) for X, _, a, _, _ in validated}
    if len(shapes) != 1:
        raise UserInputError(
            f"a batch needs the same (n, m) for every unit; got {sorted(shapes)}. Group units by "
            "(n, m) before batching."
        )
    return validated


def _descent(H: np.ndarray, s: _Stack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Margins, log L and the increment, per unit (`network.descent_state`).

    Row ``b`` is computed with the same formulas, in the same order, as `descent_state` on
    ``H[b]``: :math:`u = y \\odot (\\phi(H) a)`, :math:`\\log L = \\operatorname{logsumexp}(\\log
    \\ell(u)) - \\log n`, :math:`g = r e^{M}`, :math:`D_{ij} = c_i y_i a_j \\phi'(H_{ij})`.
    Called under ``np.errstate(over="ignore", invalid="ignore")``: an overflow or NaN is a state
    the caller records as ``non_finite``, not a warning.
    """
    n = H.shape[1]
    # phi(H) = H * phi'(H) entry by entry, bitwise equal to where(H > 0, H, gamma H) (x * 1.0 = x
    # and products commute in IEEE arithmetic); phi' is then reused for the increment.
    slope = np.where(H > 0, 1.0, s.gamma_full)
    margins = s.y * np.matmul(H * slope, s.a[:, :, None])[:, :, 0]
    if s.loss_rows is None:  # one loss for the whole batch: no row selection
        log_losses = numerics.log_per_sample_loss(margins, s.only_loss)
    else:
        log_losses = np.empty_like(margins)
        for loss, rows in s.loss_rows.items():
            log_losses[rows] = numerics.log_per_sample_loss(margins[rows], loss)
    # Row-wise numerics.log_sum_exp and numerics.relative_loss_derivatives: shifted by the row
    # maximum so nothing overflows; a non-finite maximum is passed through (a non_finite stop).
    largest = log_losses.max(axis=1)
    shifted = np.exp(log_losses - largest[:, None])
    log_total = largest + np.log(np.sum(shifted, axis=1))
    if s.only_loss == "exponential":
        # log g = log l = -u for the exponential loss (numerics): the same shifted exponentials,
        # computed once (exp is the costliest call of a step once weights reach subnormal range)
        scale, relative = largest, shifted
    else:
        if s.loss_rows is None:
            log_g = numerics.log_loss_derivative(margins, s.only_loss)
        else:
            log_g = np.empty_like(margins)
            for loss, rows in s.loss_rows.items():
                log_g[rows] = numerics.log_loss_derivative(margins[rows], loss)
        scale = log_g.max(axis=1)
        relative = np.exp(log_g - scale[:, None])
    # A sum is non-finite whenever a term is, so one reduction tells whether any row needs this.
    if not math.isfinite(largest.sum()):
        log_total = np.where(np.isfinite(largest), log_total, largest)
    if not math.isfinite(scale.sum()):
        relative[~np.isfinite(scale)] = np.nan
    # exp overflows to inf beyond 709.78: a loss above e^709, recorded as non_finite.
    factor = s.step_over_n * np.exp(scale)
    if s.any_normalized:
        factor = np.where(s.normalized, s.step_size * np.exp(scale - log_total), factor)
    coefficients = factor[:, None] * relative * s.y
    increment = coefficients[:, :, None] * s.a[:, None, :] * slope
    return margins, log_total - math.log(n), increment


def _finite(s: _Stack, log_loss: np.ndarray, increment: np.ndarray) -> np.ndarray:
    """Per unit, whether ``A``, ``H``, ``log L`` and the increment are all finite.

    A sum is non-finite whenever one term is (inf, -inf or NaN propagate), so a finite sum of
    everything proves every entry finite at the cost of three reductions; only units whose sum is
    not finite (some entry non-finite, or finite entries whose sum overflowed) are checked entry
    by entry.
    """
    count = len(log_loss)
    total = (s.coefficients.reshape(count, -1).sum(axis=1) + s.preactivations.reshape(count, -1).sum(axis=1)
             + increment.reshape(count, -1).sum(axis=1) + log_loss)
    finite = np.isfinite(total)
    if not finite.all():
        for b in np.flatnonzero(~finite):
            finite[b] = bool(np.isfinite(s.coefficients[b]).all() and np.isfinite(s.preactivations[b]).all()
                             and np.isfinite(log_loss[b]) and np.isfinite(increment[b]).all())
    return finite


def train_batch(problems: Sequence[Problem], trainings: Sequence[TrainingConfig]) -> list[TrainingRun]:
    """Run full-batch gradient descent on every problem, as stacked arrays (docs/theory.md §2.5–2.6).

    Parameters
    ----------
    problems : sequence of Problem
        Same ``n`` and ``m`` for all; ``d``, data, ``a``, ``W0`` and ``gamma`` may differ.
    trainings : sequence of TrainingConfig
        One per problem (Gram implementation); loss, step size, budget, floor, divergence margin,
        checkpoint count and normalised mode may differ.

    Returns
    -------
    list of TrainingRun
        One per problem, in order; deterministic (the same batch gives bit-identical runs).

    Raises
    ------
    UserInputError
        Mismatched lengths, an empty batch, a weight-space configuration, units of different
        ``(n, m)``, or any input `theorybench.training.train` refuses.
    """
    validated = _check_batch(problems, trainings)
    count = len(validated)
    n = validated[0][0].shape[0]
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: recorded as non_finite below
        grams = np.stack([X @ X.T for X, *_ in validated])
        initial = np.stack([X @ W0.T for X, _, _, W0, _ in validated])
    schedules = [checkpoint_steps(t.max_steps, t.checkpoints) for t in trainings]
    state = _Stack(
        index=np.arange(count),
        gram=grams, initial=initial, coefficients=np.zeros_like(initial), preactivations=initial.copy(),
        y=np.stack([y for _, y, *_ in validated]), a=np.stack([a for _, _, a, _, _ in validated]),
        gamma_full=np.stack([np.full((n, a.size), g) for _, _, a, _, g in validated]),
        signs=np.stack([np.sign(a)[None, :] * y[:, None] for _, y, a, _, _ in validated]),
        initial_norm_sq=np.array([float(np.sum(np.square(W0))) for _, _, _, W0, _ in validated]),
        step_size=np.array([t.step_size for t in trainings]),
        step_over_n=np.array([t.step_size for t in trainings]) / n,  # the same division as train's
        normalized=np.array([t.normalized for t in trainings]),
        floor=np.array([t.log_loss_floor for t in trainings]),
        margin=np.array([t.divergence_log_margin for t in trainings]),
        max_steps=np.array([t.max_steps for t in trainings]),
        loss=np.array([t.loss for t in trainings]),
        divergence_above=np.zeros(count),  # log L(0) + margin, set at step 0
        next_step=np.array([schedule[1] for schedule in schedules]),  # step 0 is recorded below
        next_slot=np.ones(count, dtype=np.int64),  # index of next_step in the unit's schedule
        unbroken=np.ones(count, dtype=bool),
    )
    records: list[list[Checkpoint]] = [[] for _ in range(count)]
    first_break: list[int | None] = [None] * count
    reasons: list[str] = ["budget"] * count
    steps_taken = [0] * count

    def regroup() -> None:
        """Per-stack constants that change only when units leave the stack."""
        names = sorted(set(state.loss.tolist()))
        state.only_loss = names[0] if len(names) == 1 else None
        state.loss_rows = None if len(names) == 1 else {name: state.loss == name for name in names}
        state.any_normalized = bool(state.normalized.any())
        state.first_budget = int(state.max_steps.min()) if len(state) else 0

    def record(b: int, step: int, log_loss: float, margins: np.ndarray, pattern: np.ndarray) -> None:
        unit = int(state.index[b])
        coefficients = state.coefficients[b].copy()
        coefficients.setflags(write=False)
        # ||W||^2 = ||W0||^2 + <A, H + H0> (theorybench.gd_gram.GramSpaceGD.weight_norm)
        cross = float(np.sum(state.coefficients[b] * (state.preactivations[b] + state.initial[b])))
        records[unit].append(Checkpoint(
            step=step, log_loss=float(log_loss),
            weight_norm=float(np.sqrt(max(state.initial_norm_sq[b] + cross, 0.0))),
            pattern_fraction=float(pattern[b].mean()), pattern_intact=first_break[unit] is None,
            train_error=_train_error(margins[b]), coefficients=coefficients, weights=None))

    step = 0
    regroup()
    # Overflow and NaN are states recorded as the non_finite stop reason, not warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        margins, log_loss, increment = _descent(state.preactivations, state)
        state.divergence_above = log_loss + state.margin
        pattern = state.signs * state.preactivations > 0
        # Only a non-finite start stops before the first step; the other rules are about progress.
        running = _finite(state, log_loss, increment)
        for b in range(count):
            record(b, 0, log_loss[b], margins, pattern)
            if not running[b]:
                reasons[b] = "non_finite"
        next_due = int(state.next_step.min())  # the earliest checkpoint of a running unit
        while True:
            if running is not None:  # drop the stopped units from the stack
                state.keep(running)
                increment = increment[running]
                regroup()
                if len(state) == 0:
                    break
                next_due = int(state.next_step.min())
            step += 1
            state.coefficients += increment
            # H = K A + H(0) in H's own buffer (addition commutes: the same bits as H(0) + K A)
            np.matmul(state.gram, state.coefficients, out=state.preactivations)
            state.preactivations += state.initial
            margins, log_loss, increment = _descent(state.preactivations, state)
            pattern = state.signs * state.preactivations > 0
            intact = pattern.reshape(len(pattern), -1).all(axis=1)
            if not intact.all():
                for b in np.flatnonzero(state.unbroken & ~intact):
                    first_break[int(state.index[b])] = step
                state.unbroken &= intact
            finite = _finite(state, log_loss, increment)
            # Neither diverged nor below the floor (NaN compares False, but is not finite).
            going = finite & (log_loss <= state.divergence_above) & (log_loss >= state.floor)
            if step >= state.first_budget:
                going &= step < state.max_steps
            running = None if going.all() else going
            if running is None and step < next_due:
                continue
            for b in np.flatnonzero(~going | (state.next_step == step)):
                unit = int(state.index[b])
                record(b, step, log_loss[b], margins, pattern)
                if not going[b]:
                    # the order of docs/theory.md §2.6 (theorybench.training): the first that applies
                    value = log_loss[b]
                    reasons[unit] = ("non_finite" if not finite[b] else "divergence"
                                     if value > state.divergence_above[b] else "loss_floor"
                                     if value < state.floor[b] else "budget")
                    steps_taken[unit] = step
                else:
                    state.next_slot[b] += 1
                    state.next_step[b] = schedules[unit][state.next_slot[b]]
            next_due = int(state.next_step.min())
    return [
        TrainingRun(
            checkpoints=records[unit], stop_reason=reasons[unit], steps_taken=steps_taken[unit],
            first_pattern_break=first_break[unit], implementation="gram", loss=training.loss,
            normalized=training.normalized, step_size=training.step_size,
            divergence_log_margin=training.divergence_log_margin,
            X=X, y=y, a=a, W0=W0, gamma=gamma, gram=_read_only(grams[unit]),
            initial_preactivations=_read_only(initial[unit]),
        )
        for unit, ((X, y, a, W0, gamma), training) in enumerate(zip(validated, trainings))
    ]


def _read_only(array: np.ndarray) -> np.ndarray:
    array = array.copy()
    array.setflags(write=False)
    return array
