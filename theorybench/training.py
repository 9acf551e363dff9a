"""Full-batch gradient descent on the two-layer leaky-ReLU network, with a record of the run.

`train` runs gradient descent (docs/theory.md §1: fixed second layer ``a``, first layer ``W`` from
``W0``, fixed step ``eta``) in weight space (`theorybench.gd_weight`) or in Gram space
(`theorybench.gd_gram`, docs/theory.md §2.5; the same trajectory up to rounding), with the log-space
numerics of docs/theory.md §2.6. It returns a `TrainingRun`: log-spaced `Checkpoint` s (step 0, 1, ...,
the last step taken), why the run stopped, and the first step at which the activation pattern of
docs/theory.md §2.1 failed, checked at *every* step (O(n m) per step).

Provenance (docs/theory.md §0): plain GD on the exponential loss is the paper's algorithm (PAPER, §1);
the logistic and hinge losses and normalised GD (:math:`W \\leftarrow W - \\eta \\nabla L / L`, a fast oracle
for the limit direction of §2.2, never the paper's algorithm) are BEYOND (§8). Each run says which.

Stop reasons (docs/theory.md §2.6), checked after every step in this order:

``non_finite``
    ``W`` (or ``A``), ``H``, ``log L`` or the next increment has a NaN or infinite entry.
``divergence``
    :math:`\\log L(W(t)) > \\log L(W(0)) + \\Delta`: the loss grew by a factor above
    :math:`e^{\\Delta}` over its initial value (``TrainingConfig.divergence_log_margin``, whose default is explained in `theorybench.config`).
    A recorded outcome, never an exception.
``loss_floor``
    :math:`\\log L < ` ``training.log_loss_floor``; this includes a hinge loss of exactly 0
    (:math:`\\log L = -\\infty`, every margin >= 1), where the gradient is 0 and GD is at a
    fixed point.
``zero_train_error``
    Only with ``training.stop_on_zero_train_error``: every training margin is > 0.
``pattern_reached``
    Only with ``training.stop_on_pattern_reached``: every pair (i, j) is correctly activated
    (docs/theory.md §2.1).
``budget``
    ``training.max_steps`` steps were taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from theorybench.config import TrainingConfig
from theorybench.errors import UserInputError
from theorybench.gd_gram import GramSpaceGD
from theorybench.gd_weight import WeightSpaceGD
from theorybench.network import correctly_activated, descent_state

STOP_REASONS = ("budget", "loss_floor", "divergence", "non_finite", "zero_train_error",
                "pattern_reached")
THEORY_SECTION = "docs/theory.md §2.5-2.6"

# A progress bar appears only for runs still going after this many seconds: short runs (tests,
# sweeps of small settings) stay silent, long ones show their rate and remaining time.
PROGRESS_DELAY_SECONDS = 2.0


def checkpoint_steps(max_steps: int, count: int) -> list[int]:
    """Log-spaced checkpoint steps: 0, 1, ..., ``max_steps``, ``min(count, max_steps + 1)`` of them
    (with ``count = 2``: 0 and ``max_steps`` only).

    Geometric spacing on [1, T], made strictly increasing by taking at least one step between
    checkpoints and re-spreading the remaining ratio over the remaining slots, so that small ``T``
    gives every step and large ``T`` gives :math:`\\approx T^{k/(count-2)}`.
    """
    if count - 1 >= max_steps:
        return list(range(max_steps + 1))
    if count == 2:
        return [0, max_steps]
    steps = [0, 1]
    current = 1
    for remaining in range(count - 2, 0, -1):
        proposal = round(current * (max_steps / current) ** (1.0 / remaining))
        # Leave room for the remaining slots so the schedule ends exactly at max_steps.
        current = min(max(current + 1, proposal), max_steps - (remaining - 1))
        steps.append(current)
    return steps


@dataclass(frozen=True)
class Checkpoint:
    """The state of a run at one step (docs/theory.md §2.5–2.6).

    Attributes
    ----------
    step : int
        Number of GD steps taken.
    log_loss : float
        :math:`\\log L(W(t))` (the loss itself underflows float64; never stored).
    weight_norm : float
        :math:`\\|W(t)\\|_F`.
    pattern_fraction : float
        Fraction of pairs (i, j) with :math:`s_j y_i \\langle x_i, w_j(t)\\rangle > 0` (§2.1).
    pattern_intact : bool
        Whether the pattern held at every step from 1 to ``step`` (vacuously True at step 0).
    train_error : float
        Fraction of training samples with margin :math:`y_i f(x_i; W(t)) \\le 0`; NaN when a
        margin is NaN (only in a run stopping as ``non_finite``).
    coefficients : ndarray (n, m) or None
        ``A(t)`` with :math:`W(t) = W(0) + A(t)^\\top X` (Gram implementation only; read-only).
    weights : ndarray (m, d) or None
        ``W(t)`` (weight implementation only; read-only).
    """

    step: int
    log_loss: float
    weight_norm: float
    pattern_fraction: float
    pattern_intact: bool
    train_error: float
    coefficients: np.ndarray | None
    weights: np.ndarray | None


@dataclass(frozen=True)
class TrainingRun:
    """The record of one gradient-descent run, and the final iterate as functions of new data.

    Attributes
    ----------
    checkpoints : list of Checkpoint
        Log-spaced, from step 0 to ``steps_taken`` (always included).
    stop_reason : str
        One of `STOP_REASONS`.
    steps_taken : int
        GD steps taken (the step of the last checkpoint).
    first_pattern_break : int or None
        First step >= 1 at which some pair (i, j) was not correctly activated; None if never.
    implementation, loss, normalized, step_size, divergence_log_margin
        How the run was made.
    X, y, a, W0, gamma
        The training problem (read-only references).
    gram : ndarray (n, n) or None
        :math:`K = X X^\\top` (Gram implementation).
    initial_preactivations : ndarray (n, m)
        :math:`H(0) = X W(0)^\\top`.
    """

    checkpoints: list[Checkpoint]
    stop_reason: str
    steps_taken: int
    first_pattern_break: int | None
    implementation: str
    loss: str
    normalized: bool
    step_size: float
    divergence_log_margin: float
    X: np.ndarray
    y: np.ndarray
    a: np.ndarray
    W0: np.ndarray
    gamma: float
    gram: np.ndarray | None
    initial_preactivations: np.ndarray

    @property
    def provenance(self) -> str:
        """``PAPER`` for plain GD on the exponential loss (the paper's algorithm, docs/theory.md §1),
        ``BEYOND`` for the logistic or hinge loss or normalised GD (docs/theory.md §8)."""
        return "PAPER" if self.loss == "exponential" and not self.normalized else "BEYOND"

    @property
    def provenance_reason(self) -> str:
        if self.normalized:
            return "normalised GD (W <- W - eta grad L / L) is a fast oracle for the limit " \
                "direction, not the paper's algorithm (docs/theory.md §2.5, §8)"
        if self.loss != "exponential":
            return f"the paper trains on the exponential loss; the {self.loss} loss is BEYOND (docs/theory.md §8)"
        return "full-batch GD on the exponential loss, as in the paper (docs/theory.md §1)"

    @property
    def final(self) -> Checkpoint:
        """The checkpoint of the last step taken."""
        return self.checkpoints[-1]

    def checkpoint(self, step: int) -> Checkpoint:
        """The checkpoint at ``step``; UserInputError if no checkpoint was recorded there."""
        for checkpoint in self.checkpoints:
            if checkpoint.step == step:
                return checkpoint
        recorded = ", ".join(str(c.step) for c in self.checkpoints)
        raise UserInputError(
            f"step = {step!r} is not a checkpoint of this run: it must be one of {recorded}."
        )

    def rows(self) -> list[dict]:
        """One tidy row per checkpoint (no arrays), with the run's provenance and docs/theory.md section."""
        return [
            {
                "step": c.step,
                "log_loss": c.log_loss,
                "weight_norm": c.weight_norm,
                "pattern_fraction": c.pattern_fraction,
                "pattern_intact": c.pattern_intact,
                "train_error": c.train_error,
                "stop_reason": self.stop_reason,
                "provenance": self.provenance,
                "theory": THEORY_SECTION,
            }
            for c in self.checkpoints
        ]

    def weights_at(self, step: int) -> np.ndarray:
        """:math:`W(t)` of shape (m, d) at a checkpoint step (Gram: :math:`W(0) + A^\\top X`)."""
        checkpoint = self.checkpoint(step)
        if checkpoint.weights is not None:
            return checkpoint.weights.copy()
        return self.W0 + checkpoint.coefficients.T @ self.X

    def final_weights(self) -> np.ndarray:
        """:math:`W` of the last step taken, shape (m, d)."""
        return self.weights_at(self.steps_taken)

    def preactivations(self, X_new: np.ndarray) -> np.ndarray:
        """Pre-activations :math:`X_{new} W^\\top` of the final iterate, shape (k, m).

        Gram implementation: :math:`X_{new} W(0)^\\top + (X_{new} X^\\top) A` (docs/theory.md §2.5),
        which never forms ``W``.
        """
        X_new = np.asarray(X_new, dtype=np.float64)
        if X_new.ndim != 2 or X_new.shape[1] != self.X.shape[1]:
            raise UserInputError(
                f"X_new has shape {X_new.shape}: it must be (k, d) with d = {self.X.shape[1]}, "
                "the dimension of the training inputs."
            )
        final = self.final
        if final.weights is not None:
            return X_new @ final.weights.T
        return X_new @ self.W0.T + (X_new @ self.X.T) @ final.coefficients

    def inner_product(self, B: np.ndarray, step: int) -> float:
        """:math:`\\langle W(t), B^\\top X\\rangle_F` for coefficients ``B`` of shape (n, m).

        Gram implementation (docs/theory.md §2.5), with no (m, d) matrix:
        :math:`\\langle W(0) + A^\\top X, B^\\top X\\rangle_F = \\langle H(0), B\\rangle_F +
        \\langle A, K B\\rangle_F`.
        """
        B = self._check_coefficients(B)
        checkpoint = self.checkpoint(step)
        if checkpoint.weights is not None:
            return float(np.sum(checkpoint.weights * (B.T @ self.X)))
        return float(np.sum(self.initial_preactivations * B)
                     + np.sum(checkpoint.coefficients * (self.gram @ B)))

    def cosine(self, B: np.ndarray, step: int) -> float:
        """:math:`\\cos(W(t), B^\\top X)` with :math:`\\|B^\\top X\\|_F^2 = \\langle B, K B\\rangle_F`;
        NaN when either is the zero matrix (e.g. ``W(0)`` with ``init_scale = 0``), where no
        cosine exists."""
        B = self._check_coefficients(B)
        gram = self.gram if self.gram is not None else self.X @ self.X.T
        norm = math.sqrt(max(float(np.sum(B * (gram @ B))), 0.0))
        denominator = self.checkpoint(step).weight_norm * norm
        if denominator == 0.0:
            return math.nan
        return self.inner_product(B, step) / denominator

    def _check_coefficients(self, B: np.ndarray) -> np.ndarray:
        B = np.asarray(B, dtype=np.float64)
        expected = self.initial_preactivations.shape
        if B.shape != expected:
            raise UserInputError(
                f"B has shape {B.shape}: it must be (n, m) = {expected}, coefficients of a "
                "direction B^T X in the row space of the training inputs."
            )
        return B


def _validated_problem(X, y, a, W0, gamma) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    X = np.array(X, dtype=np.float64)
    y = np.array(y, dtype=np.float64)
    a = np.array(a, dtype=np.float64)
    W0 = np.array(W0, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1:
        raise UserInputError(f"X has shape {X.shape}: it must be a two-dimensional (n, d) array, n >= 1.")
    n, d = X.shape
    if y.shape != (n,) or not np.isin(y, (-1.0, 1.0)).all():
        raise UserInputError(
            f"y (shape {y.shape}) is not allowed: it must be a vector of length n = {n} with "
            "entries +1 or -1."
        )
    if a.ndim != 1 or a.size < 1 or not np.isfinite(a).all() or (a == 0).any():
        raise UserInputError(
            f"a = {a!r} is not allowed: the second layer must be a non-empty vector of finite, "
            "non-zero reals (docs/theory.md §1 uses +-1/sqrt(m))."
        )
    if W0.shape != (a.size, d):
        raise UserInputError(
            f"W0 has shape {W0.shape}: it must be (m, d) = ({a.size}, {d}), one row per neuron."
        )
    if not (np.isfinite(X).all() and np.isfinite(W0).all()):
        raise UserInputError("X and W0 must have finite entries only (NaN or infinity found).")
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not 0 < gamma < 1:
        raise UserInputError(f"gamma = {gamma!r} is not allowed: it must be strictly between 0 and 1.")
    for array in (X, y, a, W0):
        array.setflags(write=False)
    return X, y, a, W0, float(gamma)


def train(
    X: np.ndarray,
    y: np.ndarray,
    a: np.ndarray,
    W0: np.ndarray,
    gamma: float,
    training: TrainingConfig,
    *,
    progress: bool = False,
) -> TrainingRun:
    """Run full-batch gradient descent and record it (docs/theory.md §1, §2.5–2.6).

    .. math::
        W(t+1) = W(t) - \\eta \\nabla L(W(t)) \\quad\\text{or, normalised,}\\quad
        W(t+1) = W(t) - \\eta \\frac{\\nabla L(W(t))}{L(W(t))},
        \\qquad L(W) = \\frac1n \\sum_{i=1}^n \\ell\\bigl(y_i f(x_i; W)\\bigr).

    Parameters
    ----------
    X : array (n, d)
        Training inputs.
    y : array (n,)
        Labels in {+1, -1}.
    a : array (m,)
        Fixed second layer, any finite non-zero entries (balanced or not).
    W0 : array (m, d)
        Initial first layer.
    gamma : float
        Leaky-ReLU slope, 0 < gamma < 1.
    training : TrainingConfig
        Loss, step size, budget, loss floor, checkpoint count, normalised mode, implementation.
    progress : bool
        Show a tqdm bar on stderr for runs that last more than `PROGRESS_DELAY_SECONDS`.

    Returns
    -------
    TrainingRun
        Deterministic: the same inputs give bit-identical arrays.

    Raises
    ------
    UserInputError
        Inconsistent shapes, labels outside {+1, -1}, a zero or non-finite second-layer entry,
        non-finite inputs, or gamma outside (0, 1). Divergence is *not* an error: it is a stop
        reason.
    """
    if not isinstance(training, TrainingConfig):
        raise UserInputError(f"training = {training!r} is not allowed: it must be a TrainingConfig.")
    X, y, a, W0, gamma = _validated_problem(X, y, a, W0, gamma)
    engine = GramSpaceGD(X, W0) if training.implementation == "gram" else WeightSpaceGD(X, W0)
    schedule = set(checkpoint_steps(training.max_steps, training.checkpoints))

    def evaluate():
        return descent_state(engine.preactivations, y, a, gamma, loss=training.loss,
                             step_size=training.step_size, normalized=training.normalized)

    def record(step: int, state, pattern: np.ndarray, intact: bool) -> Checkpoint:
        coefficients, weights = engine.snapshot()
        for array in (coefficients, weights):
            if array is not None:
                array.setflags(write=False)
        return Checkpoint(
            step=step,
            log_loss=state.log_loss,
            weight_norm=engine.weight_norm(),
            pattern_fraction=float(pattern.mean()),
            pattern_intact=intact,
            train_error=_train_error(state.margins),
            coefficients=coefficients,
            weights=weights,
        )

    def stop_reason(state, initial_log_loss: float, pattern: np.ndarray | None = None) -> str | None:
        # A hinge loss of exactly 0 (log L = -inf) is a fixed point, not a non-finite state.
        zero_hinge_loss = training.loss == "hinge" and state.log_loss == -math.inf
        if zero_hinge_loss and engine.is_finite():
            return "loss_floor"
        if not (engine.is_finite() and math.isfinite(state.log_loss)
                and np.isfinite(state.increment).all()):
            return "non_finite"
        if state.log_loss > initial_log_loss + training.divergence_log_margin:
            return "divergence"
        if state.log_loss < training.log_loss_floor:
            return "loss_floor"
        if training.stop_on_zero_train_error and bool(np.all(state.margins > 0)):
            return "zero_train_error"
        if training.stop_on_pattern_reached and pattern is not None and bool(pattern.all()):
            return "pattern_reached"
        return None

    state = evaluate()
    initial_log_loss = state.log_loss
    checkpoints = [record(0, state, correctly_activated(engine.preactivations, y, a), True)]
    first_break: int | None = None
    # Only a non-finite start stops before the first step; the other rules are about progress.
    reason = "non_finite" if stop_reason(state, initial_log_loss) == "non_finite" else None
    step = 0
    bar = _progress_bar(training.max_steps) if progress and reason is None else None
    while reason is None and step < training.max_steps:
        engine.advance(state.increment)
        step += 1
        state = evaluate()
        pattern = correctly_activated(engine.preactivations, y, a)
        if first_break is None and not pattern.all():
            first_break = step
        reason = stop_reason(state, initial_log_loss, pattern)
        if step in schedule or reason is not None:
            checkpoints.append(record(step, state, pattern, first_break is None))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return TrainingRun(
        checkpoints=checkpoints,
        stop_reason=reason or "budget",
        steps_taken=step,
        first_pattern_break=first_break,
        implementation=training.implementation,
        loss=training.loss,
        normalized=training.normalized,
        step_size=training.step_size,
        divergence_log_margin=training.divergence_log_margin,
        X=X,
        y=y,
        a=a,
        W0=W0,
        gamma=gamma,
        gram=engine.gram if isinstance(engine, GramSpaceGD) else None,
        initial_preactivations=engine.initial_preactivations if isinstance(engine, GramSpaceGD)
        else X @ W0.T,
    )


def _train_error(margins: np.ndarray) -> float:
    """Fraction of margins :math:`y_i f(x_i; W) \\le 0`, or NaN when some margin is NaN (a
    non-finite state classifies nothing; ``NaN <= 0`` is False and would count as correct)."""
    if np.isnan(margins).any():
        return math.nan
    return float(np.mean(margins <= 0))


def _progress_bar(total: int):
    from theorybench.progress import progress

    return progress(total, unit="step", desc="gradient descent", delay=PROGRESS_DELAY_SECONDS, leave=False)
