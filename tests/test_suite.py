"""Suite loading and sweep expansion (verify/suite.py)."""

from pathlib import Path

import pytest

from theorybench.errors import ConfigError, UserInputError
from verify.suite import REGIMES, available_suites, load_suite, suite_from_toml

VALID = """
name = "demo"
description = "a test suite"
root_seed = 7
replicates = 3

[verify]
band_ratio = 20

[base]
data.n = 10
data.d = 50
network.m = 4

[[setting]]
name = "weak"
group = "gauss"
regime = "weak"
data.d = 500
sweep = { signal = [1, 2.5], "network.gamma" = [0.25, 0.5] }

[[setting]]
name = "heavy"
group = "tails"
regime = "polynomial"
"data.noise.family" = "student_t"
data.noise.nu = 5.0
"""


def test_valid_suite_expands_sweeps_in_sorted_key_order():
    suite = suite_from_toml(VALID, source="demo.toml")
    names = [s.name for s in suite.settings]
    # cartesian product, keys sorted ("network.gamma" < "signal"), values in the order written
    assert names == [
        "weak[network.gamma=0.25,signal=1]",
        "weak[network.gamma=0.25,signal=2.5]",
        "weak[network.gamma=0.5,signal=1]",
        "weak[network.gamma=0.5,signal=2.5]",
        "heavy",
    ]
    assert suite.name == "demo" and suite.root_seed == 7 and suite.replicates == 3
    assert suite.options.band_ratio == 20.0
    second = suite.settings[1]
    assert second.config.data.signal == 2.5 and second.config.network.gamma == 0.25
    # the setting's override beats the base; untouched base keys are kept
    assert second.config.data.d == 500 and second.config.data.n == 10 and second.config.network.m == 4
    assert second.sweep == {"network.gamma": 0.25, "signal": 2.5}
    heavy = suite.setting("heavy")
    assert heavy.config.data.noise.family == "student_t" and heavy.config.data.noise.nu == 5.0
    assert heavy.config.data.d == 50 and heavy.group == "tails" and not heavy.beyond
    assert list(suite.groups()) == ["gauss", "tails"]


def test_loading_twice_gives_equal_suites():
    assert suite_from_toml(VALID) == suite_from_toml(VALID)


def test_user_path_is_loaded(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text(VALID.replace('name = "demo"\n', ""), encoding="utf-8")
    suite = load_suite(str(path))
    assert suite.name == "mine" and len(suite.settings) == 5


@pytest.mark.parametrize("name", available_suites())
def test_every_shipped_suite_loads_and_covers_valid_regimes(name):
    suite = load_suite(name)
    assert suite.settings and all(s.regime in REGIMES for s in suite.settings)
    assert len({s.name for s in suite.settings}) == len(suite.settings)


def test_quick_suite_represents_every_regime_of_the_issue():
    suite = load_suite("quick")
    regimes = {s.regime for s in suite.settings}
    # phase_diagram is the grid of its own suite (issue 13), not a regime the smoke test samples
    assert regimes == set(REGIMES) - {"phase_diagram"}
    noises = {s.config.data.noise.family for s in suite.settings}
    assert {"gaussian", "rademacher", "uniform", "student_t"} <= noises
    covariances = {s.config.data.covariance.family for s in suite.settings}
    assert {"isotropic", "power_law", "spiked"} <= covariances
    beyond = [s.config for s in suite.settings if s.beyond]
    assert any(c.data.label_flip > 0 for c in beyond)
    assert any(c.data.d < c.data.n for c in beyond)
    assert any(c.training.loss == "logistic" for c in beyond)
    assert any(not c.network.balanced for c in beyond)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (('regime = "weak"', 'regime = "weakish"'), "regime = 'weakish'"),
        (("sweep = { signal", "sweep = { signl"), "signl"),
        (("sweep = { signal = [1, 2.5]", "sweep = { signal = []"), "non-empty list"),
        (("data.d = 500", "data.d = -5"), "data.d"),
        (("data.noise.nu = 5.0", "data.noise.nu = 1.0"), "heavy"),
        (("band_ratio = 20", "band_ratio = 0.5"), "band_ratio"),
        (("replicates = 3", "replicates = 0"), "replicates"),
        (('name = "heavy"', 'name = "weak[signal=1]"'), "name"),
        (("[base]", "[base]\nseed = 3"), "root_seed"),
        (('group = "tails"', 'group = "tails"\ncolour = 1'), "colour"),
    ],
)
def test_invalid_suites_raise_config_error_naming_the_problem(edit, fragment):
    old, new = edit
    assert old in VALID
    with pytest.raises(ConfigError) as info:
        suite_from_toml(VALID.replace(old, new, 1), source="demo.toml")
    message = str(info.value)
    assert "demo.toml" in message and fragment in message


def test_invalid_setting_message_names_the_expanded_setting():
    text = VALID.replace("sweep = { signal = [1, 2.5]", "sweep = { signal = [1, -2.5]")
    with pytest.raises(ConfigError, match=r"weak\[network.gamma=0.25,signal=-2.5\]"):
        suite_from_toml(text, source="demo.toml")


def test_ambiguous_sweep_key_asks_for_the_dotted_path():
    text = VALID.replace("sweep = { signal = [1, 2.5]", 'sweep = { family = ["gaussian"]')
    with pytest.raises(ConfigError, match="ambiguous"):
        suite_from_toml(text, source="demo.toml")


def test_duplicate_names_are_refused():
    text = VALID + '\n[[setting]]\nname = "heavy"\nregime = "beyond"\n'
    with pytest.raises(ConfigError, match="two settings are named 'heavy'"):
        suite_from_toml(text, source="demo.toml")


def test_unknown_names_and_missing_files_are_user_errors(tmp_path: Path):
    with pytest.raises(UserInputError, match="quik"):
        load_suite("quik")
    with pytest.raises(UserInputError, match="does not exist"):
        load_suite(str(tmp_path / "absent.toml"))
    (tmp_path / "bad.toml").write_text("name = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_suite(tmp_path / "bad.toml")


def test_peer_suite_pairs_each_one_step_setting_with_a_long_run_that_differs_only_in_the_stop_rule():
    suite = load_suite("peer_kedar2")
    one_step = {s.name: s for s in suite.settings if s.group == "protocol-one-step"}
    long_run = {s.name: s for s in suite.settings if s.group == "protocol-long-run"}
    assert len(one_step) == len(long_run) == 6  # d in {100, 500, 1000} x label noise {0, 0.1}
    for name, setting in one_step.items():
        partner = long_run[name.replace("one-step", "long-run")]
        assert setting.config.training.stop_on_zero_train_error
        assert not partner.config.training.stop_on_zero_train_error
        assert setting.config.replace(training=partner.config.training) == partner.config
        assert setting.config.data.covariance.family == "orthogonal"
        assert setting.config.training.loss == "hinge" and setting.beyond
