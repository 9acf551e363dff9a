"""Arrays from .npy files (theorybench.npyfiles, data.covariance.matrix_file, data.mean_file) and
the orthogonal-noise family against its explicit user-covariance equivalent."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from theorybench.config import (
    Config,
    ConfigError,
    CovarianceConfig,
    DataConfig,
    EvaluationConfig,
    NetworkConfig,
    TrainingConfig,
    config_from_toml,
    config_hash,
    config_to_dict,
    config_to_toml,
    load_config,
)
from theorybench.simulate import simulate


def _orthogonal_projection(d, mu):
    u = mu / np.linalg.norm(mu)
    return np.eye(d) - np.outer(u, u)


def _save(path, array):
    np.save(path, array)
    return str(path)


def test_a_relative_npy_path_is_read_beside_the_toml_and_recorded_with_its_hash(tmp_path):
    d = 5
    rng = np.random.default_rng(np.random.SeedSequence(1))
    factor = rng.standard_normal((d, d))
    sigma = factor @ factor.T
    mu = rng.standard_normal(d)
    np.save(tmp_path / "sigma.npy", sigma)
    np.save(tmp_path / "mu.npy", mu)
    toml = tmp_path / "run.toml"
    toml.write_text(f"[data]\nn = 4\nd = {d}\nmean_file = 'mu.npy'\n"
                    "[data.covariance]\nfamily = 'user'\nmatrix_file = 'sigma.npy'\n")
    config = load_config(toml)
    np.testing.assert_array_equal(config.data.mean_vector(), mu)
    content = config_to_dict(config)
    assert content["data"]["mean_file"] == str(tmp_path / "mu.npy")
    assert content["data"]["mean_sha256"] == __import__("hashlib").sha256(
        (tmp_path / "mu.npy").read_bytes()).hexdigest()
    assert "matrix" not in content["data"]["covariance"] and "mean" not in content["data"]
    assert len(content["data"]["covariance"]["matrix_sha256"]) == 64
    # The written configuration reads back to the same configuration (the hash is checked).
    assert config_from_toml(config_to_toml(config)) == config


def test_a_changed_file_is_refused_when_its_hash_is_pinned(tmp_path):
    path = _save(tmp_path / "mu.npy", np.ones(3))
    config = DataConfig(n=2, d=3, mean_file=path)
    np.save(path, 2 * np.ones(3))
    with pytest.raises(ConfigError, match="data.mean_file .* the file changed"):
        DataConfig(n=2, d=3, mean_file=path, mean_sha256=config.mean_sha256)
    # Without the pin the new content is accepted, under a new hash.
    assert DataConfig(n=2, d=3, mean_file=path).mean_sha256 != config.mean_sha256


@pytest.mark.parametrize("content,words", [
    (None, "does not exist"),
    (b"not a numpy file", "not a readable .npy file"),
    (np.ones((2, 2)), "shape (2, 2)"),
    (np.array([1.0, np.nan, 0.0]), "non-finite"),
])
def test_a_bad_mean_file_is_refused_with_the_key_named(tmp_path, content, words):
    path = tmp_path / "mu.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.save(path, content)
    with pytest.raises(ConfigError, match="data.mean_file") as info:
        DataConfig(n=2, d=3, mean_file=str(path))
    assert words in str(info.value)


@pytest.mark.parametrize("matrix,words", [
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "not positive semi-definite"),
    (np.array([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
    (np.eye(3), "3 x 3 but data.d = 2"),
])
def test_a_bad_matrix_file_is_refused_with_the_key_named(tmp_path, matrix, words):
    path = _save(tmp_path / "sigma.npy", matrix)
    with pytest.raises(ConfigError, match="data.covariance.matrix_file") as info:
        DataConfig(n=2, d=2, covariance=CovarianceConfig(family="user", matrix_file=path))
    assert words in str(info.value)


def test_matrix_and_matrix_file_are_exclusive(tmp_path):
    path = _save(tmp_path / "sigma.npy", np.eye(2))
    with pytest.raises(ConfigError, match="exactly one of data.covariance.matrix"):
        CovarianceConfig(family="user", matrix=((1.0, 0.0), (0.0, 1.0)), matrix_file=path)
    with pytest.raises(ConfigError, match="exactly one of data.covariance.matrix"):
        CovarianceConfig(family="user")


def test_the_cli_refuses_a_missing_npy_file_with_status_2(tmp_path):
    toml = tmp_path / "run.toml"
    toml.write_text("[data]\nn = 4\nd = 3\nmean_file = 'absent.npy'\n")
    done = subprocess.run([sys.executable, "-m", "theorybench", "simulate", str(toml), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "data.mean_file" in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_orthogonal_family_trains_like_its_explicit_user_covariance(tmp_path):
    d = 400
    base = Config(
        data=DataConfig(n=16, d=d, signal=2.0, mean_direction="ones",
                        covariance=CovarianceConfig(family="orthogonal")),
        network=NetworkConfig(m=8, init_scale=1e-3),
        training=TrainingConfig(step_size=0.05, max_steps=300, checkpoints=10),
        evaluation=EvaluationConfig(test_points=2000),
        seed=3,
    )
    path = _save(tmp_path / "sigma.npy", _orthogonal_projection(d, base.data.mean_vector()))
    explicit = base.replace(data=DataConfig(n=16, d=d, signal=2.0, mean_direction="ones",
                                            covariance=CovarianceConfig(family="user", matrix_file=path)))
    structured, dense = simulate(base), simulate(explicit)
    # Same draw (same xi), two square roots of one projection: the structured one exactly, the
    # dense one through eigh (Q Q^T = I to ~d eps, null eigenvalue set to 0), so the points agree
    # to ~d eps ~ 1e-13 relative; GD on a separable problem is a contraction in the pattern regime,
    # so the coefficients keep that relative agreement. 1e-12 is the acceptance bound of issue 14.
    scale = np.max(np.abs(structured.training_set.X))
    assert np.max(np.abs(structured.training_set.X - dense.training_set.X)) <= 1e-12 * scale
    for a, b in zip(structured.run.checkpoints, dense.run.checkpoints, strict=True):
        assert a.step == b.step
        top = np.max(np.abs(a.coefficients))
        assert np.max(np.abs(a.coefficients - b.coefficients)) <= 1e-12 * top
    assert structured.run.stop_reason == dense.run.stop_reason
    # The result records the file and its hash, not the matrix.
    text = dense.to_json()
    assert len(text) < 20_000 and path in text
    assert json.loads(text)["config"]["data"]["covariance"]["matrix_sha256"] == \
        explicit.data.covariance.matrix_sha256


def test_orthogonal_bayes_error_is_zero_in_log_space():
    from bounds.error_functionals import log_bayes_error
    from theorybench.evaluation import log_exact_gaussian_error

    data = DataConfig(n=4, d=30, signal=1.0, covariance=CovarianceConfig(family="orthogonal"))
    assert log_bayes_error(data) == -math.inf
    mu = data.mean_vector()
    sigma = _orthogonal_projection(30, mu)
    # The dense route agrees: mu has its whole norm in the numerical null space of Sigma.
    assert log_bayes_error(mu, sigma) == -math.inf
    # The direction mu = e_1 itself sees no noise (Sigma^{1/2} e_1 = 0 exactly): error exactly 0.
    assert log_exact_gaussian_error(mu, data) == -math.inf


def test_a_relative_toml_path_records_an_absolute_npy_path(tmp_path, monkeypatch):
    folder = tmp_path / "configs"
    folder.mkdir()
    np.save(folder / "mu.npy", np.arange(1.0, 4.0))
    (folder / "run.toml").write_text("[data]\nn = 2\nd = 3\nmean_file = 'mu.npy'\n")
    monkeypatch.chdir(tmp_path)
    config = load_config("configs/run.toml")
    assert config.data.mean_file == str(folder / "mu.npy")
    # Written back and read from elsewhere, it still names the same file.
    monkeypatch.chdir(folder)
    assert config_from_toml(config_to_toml(config)) == config
