"""Configuration (theorybench.config): TOML round trip, validation messages, hash, examples, and
agreement of docs/configuration.md with the code."""

import dataclasses
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import assume
from hypothesis import strategies as st

from theorybench.config import (
    Config,
    ConfigError,
    CovarianceConfig,
    DataConfig,
    EvaluationConfig,
    NetworkConfig,
    NoiseConfig,
    TrainingConfig,
    config_from_dict,
    config_from_toml,
    config_hash,
    config_to_dict,
    config_to_toml,
    load_config,
)

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.toml"))

finite = dict(allow_nan=False, allow_infinity=False)


@st.composite
def configs(draw):
    """Valid configurations by construction, covering every family and optional key."""
    d = draw(st.integers(1, 6))
    family = draw(st.sampled_from(["isotropic", "power_law", "spiked", "orthogonal", "user"]))
    covariance = {
        "isotropic": lambda: CovarianceConfig(),
        "power_law": lambda: CovarianceConfig(family="power_law",
                                              alpha=draw(st.floats(0, 5, **finite))),
        "spiked": lambda: CovarianceConfig(family="spiked",
                                           spike_strength=draw(st.floats(0, 100, **finite)),
                                           spike_direction=draw(st.sampled_from(["mean", "e1"]))),
        "orthogonal": lambda: CovarianceConfig(family="orthogonal"),
        "user": lambda: CovarianceConfig(family="user", matrix=tuple(
            tuple(draw(st.floats(0.1, 10, **finite)) if i == j else 0.0 for j in range(d))
            for i in range(d))),
    }[family]()
    noise = draw(st.sampled_from([
        NoiseConfig(), NoiseConfig(family="rademacher"), NoiseConfig(family="uniform"),
        NoiseConfig(family="student_t", nu=7.5),
        NoiseConfig(family="user", sampler="pkg.mod:draw", sub_gaussian_proxy=2.0, fourth_moment=4.0),
    ]))
    mean = draw(st.none() | st.tuples(*[st.floats(-1e3, 1e3, **finite) for _ in range(d)]))
    signal = draw(st.floats(0, 1e6, **finite))
    mean_is_zero = (mean is None and signal == 0) or (mean is not None and not any(mean))
    # A spike along mu/||mu|| is undefined for mu = 0 and refused by DataConfig (tested below).
    assume(not (family == "spiked" and covariance.spike_direction == "mean" and mean_is_zero))
    assume(not (family == "orthogonal" and mean_is_zero))
    m = draw(st.integers(1, 9))
    m_positive = draw(st.integers(0, m)) if m % 2 else draw(st.none() | st.integers(0, m))
    return Config(
        data=DataConfig(n=draw(st.integers(2, 10**6)), d=d, signal=signal,
                        mean_direction=draw(st.sampled_from(["e1", "ones"])), mean=mean,
                        class_balance=draw(st.floats(0.01, 0.99, **finite)),
                        label_flip=draw(st.floats(0, 0.49, **finite)), covariance=covariance, noise=noise),
        network=NetworkConfig(m=m, m_positive=m_positive, gamma=draw(st.floats(0.01, 0.99, **finite)),
                              init_scale=draw(st.floats(0, 1, **finite))),
        training=TrainingConfig(loss=draw(st.sampled_from(["exponential", "logistic", "hinge"])),
                                step_size=draw(st.floats(1e-9, 1e3, **finite)),
                                max_steps=draw(st.integers(1, 10**7)),
                                log_loss_floor=draw(st.floats(-1e6, 0, **finite)),
                                checkpoints=draw(st.integers(2, 100)),
                                normalized=draw(st.booleans()),
                                implementation=draw(st.sampled_from(["gram", "weight"])),
                                stop_on_zero_train_error=draw(st.booleans()),
                                stop_on_pattern_reached=draw(st.booleans())),
        evaluation=EvaluationConfig(test_points=draw(st.integers(1, 10**8)),
                                    confidence=draw(st.floats(0.01, 0.999999, **finite)),
                                    test_points_at_checkpoints=draw(st.integers(0, 10**6))),
        seed=draw(st.integers(0, 2**63 - 1)),  # TOML integers are signed 64-bit
    )


@settings(max_examples=60, deadline=None)
@given(configs())
def test_toml_round_trip_is_the_identity(config):
    text = config_to_toml(config)
    again = config_from_toml(text)
    assert again == config
    assert config_to_toml(again) == text
    assert config_hash(again) == config_hash(config)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_files_load_and_round_trip(path):
    config = load_config(path)
    text = config_to_toml(config)
    assert config_from_toml(text) == config
    assert config_to_toml(config_from_toml(text)) == text


def test_the_default_example_is_the_built_in_default():
    assert load_config(DOCS / "examples" / "default.toml") == Config() == load_config(None)


def test_hash_identifies_the_configuration():
    base = Config()
    assert config_hash(base) == config_hash(Config())
    assert re.fullmatch(r"[0-9a-f]{16}", config_hash(base))
    changed = [base.replace(seed=1), base.replace(data=DataConfig(n=41)),
               base.replace(network=NetworkConfig(gamma=0.25))]
    assert len({config_hash(c) for c in changed} | {config_hash(base)}) == 4


@pytest.mark.parametrize("build,parameter", [
    (lambda: NetworkConfig(gamma=1.0), "network.gamma"),
    (lambda: NetworkConfig(gamma=0.0), "network.gamma"),
    (lambda: DataConfig(n=1), "data.n"),
    (lambda: DataConfig(d=0), "data.d"),
    (lambda: TrainingConfig(step_size=0.0), "training.step_size"),
    (lambda: NetworkConfig(init_scale=-1e-9), "network.init_scale"),
    (lambda: DataConfig(label_flip=0.5), "data.label_flip"),
    (lambda: DataConfig(label_flip=-0.01), "data.label_flip"),
    (lambda: DataConfig(d=3, mean=(1.0, 2.0)), "data.mean"),
    (lambda: NoiseConfig(family="student_t", nu=2.0), "data.noise.nu"),
    (lambda: NoiseConfig(family="gaussian", nu=5.0), "data.noise.nu"),
    (lambda: NoiseConfig(family="user", sampler="no_colon"), "data.noise.sampler"),
    (lambda: CovarianceConfig(family="power_law", alpha=-1.0), "data.covariance.alpha"),
    (lambda: NetworkConfig(m=3), "network.m"),
    (lambda: EvaluationConfig(confidence=1.0), "evaluation.confidence"),
    (lambda: Config(seed=-1), "seed"),
])
def test_invalid_values_name_the_parameter(build, parameter):
    with pytest.raises(ConfigError) as info:
        build()
    assert parameter in str(info.value)


def test_unknown_keys_get_a_suggestion():
    with pytest.raises(ConfigError, match="Did you mean 'step_size'"):
        config_from_toml("[training]\nstep_sise = 0.1")
    with pytest.raises(ConfigError, match="Did you mean 'gaussian'"):
        config_from_toml("[data.noise]\nfamily = 'gausian'")


def _documented_default_block():
    text = (DOCS / "configuration.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/configuration.md must show the default configuration in a toml block"
    return text, blocks[0]


def test_configuration_doc_shows_the_true_defaults_and_every_key():
    text, block = _documented_default_block()
    assert config_from_toml(block) == Config()
    sections = [DataConfig, CovarianceConfig, NoiseConfig, NetworkConfig, TrainingConfig,
                EvaluationConfig, Config]
    tables = {"data", "covariance", "noise", "network", "training", "evaluation"}
    for cls in sections:
        for field in dataclasses.fields(cls):
            if field.name not in tables:
                assert f"`{field.name}`" in text, f"docs/configuration.md does not document {field.name}"
    for table in ("[data]", "[data.covariance]", "[data.noise]", "[network]", "[training]",
                  "[evaluation]"):
        assert f"`{table}`" in text


def test_to_dict_omits_unset_optional_keys():
    content = config_to_dict(Config())
    assert "mean" not in content["data"] and "m_positive" not in content["network"]


def test_a_spike_along_a_zero_mean_is_refused():
    covariance = CovarianceConfig(family="spiked", spike_direction="mean")
    with pytest.raises(ConfigError, match="spike_direction = 'mean' needs a non-zero mean"):
        DataConfig(signal=0.0, covariance=covariance)
    # The same spike along e_1 is well defined with mu = 0.
    assert DataConfig(signal=0.0, covariance=CovarianceConfig(family="spiked", spike_direction="e1"))


@pytest.mark.parametrize("text,message", [
    ("[training]\nstop_on_zero_train_error = 'yes'", "training.stop_on_zero_train_error = 'yes'"),
    ("[training]\nstop_on_pattern_reached = 1", "training.stop_on_pattern_reached = 1"),
    ("[evaluation]\ntest_points_at_checkpoints = -1", "evaluation.test_points_at_checkpoints = -1"),
    ("[training]\nloss = 'hinje'", "Did you mean 'hinge'"),
    ("[data.covariance]\nfamily = 'orthogonal'\nmatrix_file = 'x.npy'", "matrix_file"),
    ("[data]\nmean_sha256 = 'abc'", "data.mean_sha256"),
])
def test_new_keys_refuse_bad_values_with_the_key_named(text, message):
    with pytest.raises(ConfigError) as info:
        config_from_toml(text)
    assert message in str(info.value)


@pytest.mark.parametrize("bad", [-1, 2**63, 1.5, True, "7"])
def test_test_seed_must_be_a_seed(bad):
    with pytest.raises(ConfigError, match="evaluation.test_seed"):
        config_from_dict({"evaluation": {"test_seed": bad}})


def test_an_absent_test_seed_leaves_the_configuration_and_its_hash_as_before():
    # Optional keys left unset are not written (config_to_dict), so every configuration hash
    # recorded before evaluation.test_seed existed still names the same configuration.
    assert "test_seed" not in config_to_dict(Config())["evaluation"]
    shared = config_from_dict({"evaluation": {"test_seed": 7}})
    assert config_to_dict(shared)["evaluation"]["test_seed"] == 7
    assert config_from_toml(config_to_toml(shared)) == shared
    assert config_hash(shared) != config_hash(Config())
