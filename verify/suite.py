"""Suites of named settings: what `theorybench report` sweeps (docs/theory.md §7).

A suite is a TOML file. Shipped suites live in ``verify/suites/*.toml`` and are loaded by name
(`load_suite("quick")`); any other TOML file is loaded by path. Layout::

    name = "quick"                 # optional, default: the file's stem
    description = "..."            # one paragraph, shown in the report
    root_seed = 20260521           # SeedSequence root; the runner spawns one seed per (setting, replicate)
    replicates = 2                 # independent draws (data, initialisation, test points) per setting

    [verify]                       # optional: options of the checks (see `SuiteOptions`)
    band_ratio = 10.0

    [base]                         # a partial configuration (theorybench.config layout), shared by all
    data.n = 16
    network.m = 10

    [[setting]]
    name = "weak"                  # identifier, unique in the suite
    group = "gaussian-sweep"       # settings of one group are judged together (constant bands, fits)
    regime = "weak"                # one of REGIMES
    notes = "Case 2 of Theorem 4.8"
    data.d = 3000                  # overrides: dotted keys or nested tables, merged into [base]
    sweep = { signal = [2, 4, 8] } # optional: one setting per value (cartesian product over keys)

A sweep key is either a full dotted path (``data.noise.nu``) or the name of a unique configuration
field (``signal``, ``nu``, ``d``). Expanded settings are named ``weak[signal=2]`` with keys in sorted
order, as benchopt does. The configuration seed is not part of a suite: the runner sets it per
(setting, replicate) from ``root_seed``.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from theorybench.config import (
    Config,
    CovarianceConfig,
    DataConfig,
    EvaluationConfig,
    NetworkConfig,
    NoiseConfig,
    TrainingConfig,
    MAX_COUNT,
    MAX_SEED,
    config_from_dict,
)
from theorybench.errors import ConfigError, UserInputError, shown
from theorybench.safeio import parse_toml, read_user_file

REGIMES = ("weak", "strong", "transition", "sub_gaussian", "polynomial", "anisotropic", "phase_diagram",
           "beyond")
"""Regime labels. ``beyond`` settings are outside every encoded hypothesis (docs/theory.md §8): they are
simulated and reported, and their verdict is always "no encoded theorem applies".
``phase_diagram`` settings span both regimes of §4 (a grid over ||mu|| and d or n): the checks that
hold run by run judge them (each theorem on the runs meeting its hypotheses), none of the fits
made along one regime or one ||mu|| sweep does."""

# Settings one [[setting]] may expand to: every point is a configuration built and validated here,
# and a unit (or more) of the sweep; ten thousand is far past any report a person reads.
MAX_SWEEP_POINTS = 10_000
_SETTING_KEYS = ("name", "group", "regime", "notes", "sweep")
_SUITE_KEYS = ("name", "description", "root_seed", "replicates", "verify", "base", "setting")


def _config_paths() -> dict[str, list[str]]:
    """Leaf field name -> every dotted path of a configuration field with that name."""
    sections = {
        "data": DataConfig,
        "data.covariance": CovarianceConfig,
        "data.noise": NoiseConfig,
        "network": NetworkConfig,
        "training": TrainingConfig,
        "evaluation": EvaluationConfig,
    }
    paths: dict[str, list[str]] = {}
    for prefix, cls in sections.items():
        for f in dataclasses.fields(cls):
            if f.name in ("covariance", "noise") and cls is DataConfig:
                continue
            paths.setdefault(f.name, []).append(f"{prefix}.{f.name}")
    return paths


_FIELD_PATHS = _config_paths()


@dataclass(frozen=True)
class SuiteOptions:
    """Options of the checks (docs/theory.md §7), from the suite's optional ``[verify]`` table.

    Attributes
    ----------
    band_ratio : float
        ``B``: a constant band ``[c_lo, c_hi]`` passes when ``c_hi / c_lo <= B`` (> 1; default 10).
    direction_tolerance : float
        Directional convergence passes when the final ``1 - cos(W(T), W_hat)`` is at most this
        (in (0, 1); default 0.05, generous for the short runs of a quick suite: docs/theory.md §2.5
        measures about 1e-3 after 10^3 steps).
    agreement_tolerance : float
        Largest accepted fraction of test points on which ``sign f(x; W(T))`` and
        ``sign <w_bar, x>`` differ (in [0, 1); default 0.01): W(T) only approaches W_hat.
    family_confidence : float
        Simultaneous confidence level of every family of pointwise interval checks (in (0, 1);
        default 0.95). A family of ``k`` intervals is checked at level ``1 - (1 - level)/k``
        (Bonferroni), so a correct statement fails with probability at most ``1 - level``.
    """

    band_ratio: float = 10.0
    direction_tolerance: float = 0.05
    agreement_tolerance: float = 0.01
    family_confidence: float = 0.95

    def __post_init__(self) -> None:
        checks = {
            "band_ratio": (lambda v: v > 1, "a real number > 1"),
            "direction_tolerance": (lambda v: 0 < v < 1, "strictly between 0 and 1"),
            "agreement_tolerance": (lambda v: 0 <= v < 1, "in [0, 1)"),
            "family_confidence": (lambda v: 0 < v < 1, "strictly between 0 and 1"),
        }
        for name, (ok, allowed) in checks.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not _finite_float(value) or not ok(value):
                raise ConfigError(f"verify.{name} = {shown(value)} is not allowed: it must be {allowed}.")
            object.__setattr__(self, name, float(value))


@dataclass(frozen=True)
class Setting:
    """One named point of a suite.

    Attributes
    ----------
    name : str
        Unique in the suite; expanded sweep points are named ``base[key=value,...]``.
    config : Config
        The validated configuration (its ``seed`` is a placeholder: the runner sets it).
    group : str
        Settings judged together (constant bands, slope and knee fits, figures).
    regime : str
        One of `REGIMES`.
    notes : str
        Free text shown in the report.
    sweep : dict
        The sweep values that produced this setting (empty when not swept), e.g. ``{"signal": 2}``.
    """

    name: str
    config: Config
    group: str
    regime: str
    notes: str = ""
    sweep: dict[str, Any] = field(default_factory=dict)

    @property
    def beyond(self) -> bool:
        """True for BEYOND settings (docs/theory.md §8): no encoded theorem applies."""
        return self.regime == "beyond"


@dataclass(frozen=True)
class Suite:
    """A named, ordered collection of settings with a root seed and a replicate count."""

    name: str
    description: str
    source: str
    root_seed: int
    replicates: int
    settings: tuple[Setting, ...]
    options: SuiteOptions = field(default_factory=SuiteOptions)

    def setting(self, name: str) -> Setting:
        """The setting called `name`; `UserInputError` naming the suite when there is none."""
        for setting in self.settings:
            if setting.name == name:
                return setting
        raise UserInputError(f"suite {shown(self.name)} has no setting named {shown(name)}.")

    def groups(self) -> dict[str, list[Setting]]:
        """Group label -> its settings, in suite order."""
        out: dict[str, list[Setting]] = {}
        for setting in self.settings:
            out.setdefault(setting.group, []).append(setting)
        return out


def available_suites() -> list[str]:
    """Names of the suites shipped in ``verify/suites``, sorted."""
    folder = resources.files("verify") / "suites"
    return sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """The suite shipped under `name_or_path`, or the suite in the TOML file at that path.

    A string without a path separator and without a ``.toml`` suffix is a shipped name; anything
    else is a path. Unknown names, missing files and invalid content raise `ConfigError` /
    `UserInputError` naming the suite file (and the setting, where one is at fault).
    """
    text_name = str(name_or_path)
    is_name = isinstance(name_or_path, str) and "/" not in text_name and "\\" not in text_name \
        and not text_name.endswith(".toml")
    if is_name:
        shipped = available_suites()
        if text_name not in shipped:
            hint = difflib.get_close_matches(text_name, shipped, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise UserInputError(
                f"suite {text_name!r} is not a shipped suite (shipped: {', '.join(shipped)}), and a "
                f"suite file must be given as a path ending in .toml.{suggestion}"
            )
        resource = resources.files("verify") / "suites" / f"{text_name}.toml"
        return suite_from_toml(resource.read_text(encoding="utf-8"), source=f"suite {text_name!r}",
                               default_name=text_name)
    path = Path(name_or_path)
    text = read_user_file(path, "suite")
    return suite_from_toml(text, source=f"suite file {str(path)!r}", default_name=path.stem)


def suite_from_toml(text: str, source: str = "<string>", default_name: str = "suite") -> Suite:
    """Parse and validate suite TOML; every error names `source` (and the setting at fault)."""
    return suite_from_dict(parse_toml(text, source), source=source, default_name=default_name)


def suite_from_dict(values: dict[str, Any], source: str = "<dict>",
                    default_name: str = "suite") -> Suite:
    """Build a `Suite` from the parsed TOML (see the module docstring for the layout)."""
    _check_keys(values, _SUITE_KEYS, f"the top level of {source}")
    name = values.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: name = {shown(name)} is not allowed: it must be a non-empty string.")
    description = values.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{source}: description = {shown(description)} is not allowed: it must be a string.")
    root_seed = _integer(values.get("root_seed", 0), "root_seed", source, minimum=0, maximum=MAX_SEED)
    replicates = _integer(values.get("replicates", 1), "replicates", source, minimum=1, maximum=MAX_COUNT)
    verify = values.get("verify", {})
    if not isinstance(verify, dict):
        raise ConfigError(f"{source}: [verify] must be a table, not {shown(verify)}.")
    _check_keys(verify, tuple(f.name for f in dataclasses.fields(SuiteOptions)), f"[verify] of {source}")
    try:
        options = SuiteOptions(**verify)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}")
    base = values.get("base", {})
    if not isinstance(base, dict):
        raise ConfigError(f"{source}: [base] must be a table, not {shown(base)}.")
    base = _expand_dotted(base, f"[base] of {source}")
    if "seed" in base:
        raise ConfigError(
            f"{source}: [base] sets seed = {shown(base['seed'])}, but a suite's seeds come from root_seed "
            "(the runner spawns one per setting and replicate); remove it."
        )
    tables = values.get("setting", [])
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{source} defines no [[setting]] tables: a suite needs at least one setting.")
    settings: list[Setting] = []
    for index, table in enumerate(tables):
        settings.extend(_expand_setting(table, index, base, source))
    seen: set[str] = set()
    for setting in settings:
        if setting.name in seen:
            raise ConfigError(f"{source}: two settings are named {shown(setting.name)}; names must be unique.")
        seen.add(setting.name)
    return Suite(name=name, description=description, source=source, root_seed=root_seed,
                 replicates=replicates, settings=tuple(settings), options=options)


def _check_keys(values: dict[str, Any], valid: tuple[str, ...], where: str) -> None:
    for key in values:
        if key not in valid:
            hint = difflib.get_close_matches(key, valid, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(f"unknown key {shown(key)} in {where}.{suggestion} Valid keys: {', '.join(valid)}.")


def _finite_float(value: int | float) -> bool:
    """Whether `value` converts to a finite float64 (a TOML integer may exceed float64's range)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _integer(value: Any, key: str, source: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{source}: {key} = {shown(value)} is not allowed: it must be an integer "
                          f"between {minimum} and {maximum}.")
    return value


def _expand_dotted(values: dict[str, Any], where: str) -> dict[str, Any]:
    """Nested copy of `values` in which quoted dotted keys (``"data.signal" = 2``) become tables."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        value = _expand_dotted(value, where) if isinstance(value, dict) else value
        parts = key.split(".")
        target = out
        for part in parts[:-1]:
            existing = target.setdefault(part, {})
            if not isinstance(existing, dict):
                raise ConfigError(f"{where}: key {shown(key)} conflicts with the value of {shown(part)}.")
            target = existing
        _merge_into(target, {parts[-1]: value}, where)
    return out


def _merge_into(target: dict[str, Any], overrides: dict[str, Any], where: str) -> None:
    """Deep-merge `overrides` into `target` (tables merge, anything else replaces)."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value, where)
        else:
            target[key] = _deep_copy(value)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def _resolve_sweep_key(key: str, where: str) -> str:
    """The full dotted configuration path of a sweep key (a full path or a unique field name)."""
    if "." in key:
        leaf = key.rsplit(".", 1)[-1]
        if key in _FIELD_PATHS.get(leaf, []):
            return key
        raise ConfigError(f"{where}: sweep key {shown(key)} is not a configuration field.")
    paths = _FIELD_PATHS.get(key)
    if not paths:
        hint = difflib.get_close_matches(key[:100], list(_FIELD_PATHS), n=1)
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ConfigError(f"{where}: sweep key {shown(key)} is not a configuration field.{suggestion}")
    if len(paths) > 1:
        raise ConfigError(
            f"{where}: sweep key {shown(key)} is ambiguous ({', '.join(paths)}); write the full dotted path."
        )
    return paths[0]


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        # 12 significant digits name every value a suite author types while staying short
        return format(value, ".12g")
    return str(value)


def _expand_setting(table: Any, index: int, base: dict[str, Any], source: str) -> list[Setting]:
    where = f"{source}, setting #{index + 1}"
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: each [[setting]] must be a table, not {shown(table)}.")
    name = table.get("name")
    if not isinstance(name, str) or not name or any(c in name for c in "[]=,"):
        raise ConfigError(
            f"{where}: name = {shown(name)} is not allowed: it must be a non-empty string without "
            "'[', ']', '=' or ','."
        )
    where = f"{source}, setting {shown(name)}"
    group = table.get("group", name)
    if not isinstance(group, str) or not group:
        raise ConfigError(f"{where}: group = {shown(group)} is not allowed: it must be a non-empty string.")
    regime = table.get("regime")
    if regime not in REGIMES:
        hint = difflib.get_close_matches(str(regime)[:100], REGIMES, n=1) if isinstance(regime, str) else []
        suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
        raise ConfigError(
            f"{where}: regime = {shown(regime)} is not allowed: it must be one of {', '.join(REGIMES)}.{suggestion}"
        )
    notes = table.get("notes", "")
    if not isinstance(notes, str):
        raise ConfigError(f"{where}: notes = {shown(notes)} is not allowed: it must be a string.")
    overrides = _expand_dotted({k: v for k, v in table.items() if k not in _SETTING_KEYS}, where)
    if "seed" in overrides:
        raise ConfigError(f"{where}: seed cannot be set per setting; the runner derives it from root_seed.")
    merged = _deep_copy(base)
    _merge_into(merged, overrides, where)

    sweep = table.get("sweep", {})
    if not isinstance(sweep, dict):
        raise ConfigError(f"{where}: sweep must be a table of lists, not {shown(sweep)}.")
    keys = sorted(sweep)
    for key in keys:
        values = sweep[key]
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: sweep.{key} = {shown(values)} is not allowed: it must be a non-empty list.")
    paths = [_resolve_sweep_key(key, where) for key in keys]
    points = math.prod(len(sweep[key]) for key in keys)
    if points > MAX_SWEEP_POINTS:
        raise ConfigError(f"{where}: the sweep has {points} points (the product of the list lengths); "
                          f"at most {MAX_SWEEP_POINTS} are allowed per setting.")

    settings = []
    for point in itertools.product(*(sweep[key] for key in keys)):
        values = _deep_copy(merged)
        for path, value in zip(paths, point):
            _merge_into(values, _expand_dotted({path: value}, where), where)
        label = name if not keys else \
            f"{name}[{','.join(f'{k}={_format_value(v)}' for k, v in zip(keys, point))}]"
        try:
            config = config_from_dict(values)
        except ConfigError as error:
            raise ConfigError(f"{source}, setting {shown(label)}: {error}")
        settings.append(Setting(name=label, config=config, group=group, regime=regime, notes=notes,
                                sweep=dict(zip(keys, point))))
    return settings
