"""Samplers of the data model, the initialisation and the seed streams (docs/theory.md §1).

Training set (PAPER data model, docs/theory.md §1; label flips BEYOND, §8):

.. math:: y_i \\sim \\pm 1\\ \\text{with}\\ P(y_i = +1) = \\beta, \\qquad
          x_i = y_i \\mu + \\Sigma^{1/2} \\xi_i,

then each *training* label is flipped independently with probability p (``data.label_flip``);
test labels are always clean. The draws are made in a fixed order from one generator (labels,
noise, flip indicators), and the flip indicators are drawn even when p = 0, so configurations
that differ only in p share their points and clean labels (common random numbers).

Initialisation (PAPER, docs/theory.md §1): :math:`w_j(0) \\sim N(0, \\omega^2 I_d)` i.i.d.

Seeds (docs/architecture.md): ``data, init, test = SeedSequence(seed).spawn(3)``; the test points
at checkpoints (``evaluation.test_points_at_checkpoints``) come from a fourth child,
``SeedSequence(seed).spawn(4)[3]``, so that turning them on changes none of the other draws; the
final test points come from the ``test`` stream of ``evaluation.test_seed`` instead when it is
set (`test_stream`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theorybench.config import DataConfig, EvaluationConfig, NetworkConfig
from theorybench.covariance import covariance_sqrt_apply
from theorybench.noise import sample_noise

STREAM_NAMES = ("data", "init", "test")
# Index of the checkpoint-test stream among the children of SeedSequence(seed) (after STREAM_NAMES).
CHECKPOINT_TEST_STREAM = len(STREAM_NAMES)


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """The generators ``(data, init, test)`` of ``SeedSequence(seed).spawn(3)``, in that order."""
    data, init, test = np.random.SeedSequence(seed).spawn(len(STREAM_NAMES))
    return np.random.default_rng(data), np.random.default_rng(init), np.random.default_rng(test)


def test_stream(seed: int, evaluation: EvaluationConfig) -> np.random.Generator:
    """The generator of a run's final test points: the ``test`` stream of `streams` for
    ``evaluation.test_seed`` when it is set (common random numbers across runs), else for the
    run's own ``seed``."""
    return streams(seed if evaluation.test_seed is None else evaluation.test_seed)[2]


def checkpoint_test_stream(seed: int) -> np.random.Generator:
    """A generator for the test points at checkpoints: child `CHECKPOINT_TEST_STREAM` of
    ``SeedSequence(seed)``, independent of the ``data``, ``init`` and ``test`` streams (children
    0-2 are the same whether 3 or 4 children are spawned). Each call starts afresh, so every
    checkpoint is tested on the same draws."""
    child = np.random.SeedSequence(seed).spawn(CHECKPOINT_TEST_STREAM + 1)[CHECKPOINT_TEST_STREAM]
    return np.random.default_rng(child)


@dataclass(frozen=True)
class TrainingSet:
    """A sampled training set.

    Attributes
    ----------
    X : numpy.ndarray
        (n, d) points, rows x_i.
    y : numpy.ndarray
        (n,) observed labels in {+1.0, -1.0} (flipped where ``flipped``).
    y_clean : numpy.ndarray
        (n,) labels before flipping: x_i = y_clean_i mu + z_i.
    flipped : numpy.ndarray
        (n,) bool, True where the observed label was flipped (BEYOND, docs/theory.md §8).
    """

    X: np.ndarray
    y: np.ndarray
    y_clean: np.ndarray
    flipped: np.ndarray

    @property
    def flip_count(self) -> int:
        return int(self.flipped.sum())


def sample_labels(class_balance: float, rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` i.i.d. labels in {+1.0, -1.0} with P(+1) = class_balance."""
    return np.where(rng.random(count) < class_balance, 1.0, -1.0)


def sample_points(data: DataConfig, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Points :math:`x_i = y_i \\mu + \\Sigma^{1/2}\\xi_i` for the given labels, shape (len(y), d)."""
    xi = sample_noise(data.noise, rng, (y.size, data.d))
    return np.outer(y, data.mean_vector()) + covariance_sqrt_apply(data, xi)


def sample_training_set(data: DataConfig, rng: np.random.Generator) -> TrainingSet:
    """A training set of ``data.n`` points with label flips on the observed labels only.

    Draw order (fixed, part of the determinism contract): labels, noise, flip indicators.
    """
    y_clean = sample_labels(data.class_balance, rng, data.n)
    X = sample_points(data, y_clean, rng)
    flipped = rng.random(data.n) < data.label_flip
    y = np.where(flipped, -y_clean, y_clean)
    return TrainingSet(X=X, y=y, y_clean=y_clean, flipped=flipped)


def sample_test_set(data: DataConfig, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` fresh pairs ``(X, y)`` from the clean model (no label flips)."""
    y = sample_labels(data.class_balance, rng, count)
    return sample_points(data, y, rng), y


def sample_initialisation(network: NetworkConfig, d: int, rng: np.random.Generator) -> np.ndarray:
    """``W0`` of shape (m, d) with i.i.d. :math:`N(0, \\omega^2)` entries (docs/theory.md §1)."""
    return network.init_scale * rng.standard_normal((network.m, d))


def sample_run(data: DataConfig, network: NetworkConfig, seed: int) -> tuple[TrainingSet, np.ndarray]:
    """The training set and ``W(0)`` of the run with ``seed``, from its ``data`` and ``init``
    streams (`streams`): the draws of `theorybench simulate`, of `check --draws` and of every unit
    of `theorybench report`."""
    data_rng, init_rng, _ = streams(seed)
    return sample_training_set(data, data_rng), sample_initialisation(network, data.d, init_rng)
