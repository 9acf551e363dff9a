"""`theorybench check [CONFIG.toml] [--sample] [--json]`: evaluate every encoded theorem on a config.

Without ``--sample`` the hypotheses are evaluated on the parameters alone; those that are statements
about the drawn sample are evaluated in their typical-case version and marked "depends on the
sample". With ``--sample`` a training set and initialisation are drawn exactly as `theorybench
simulate` draws them (``theorybench.sampling.streams(seed)``: the ``data`` and ``init`` streams)
and the sample hypotheses are evaluated on that draw. Typical values carry the log factors of
maxima (docs/theory.md §3), never a worst case. Unless ``--draws 0``, every theorem is also evaluated
on N independent draws (`theorybench.draws`: default 200, fewer when a draw is expensive), and the
output says in what fraction of draws each hypothesis holds and each theorem applies, with exact
Clopper–Pearson intervals. The output is a table (theorem, hypothesis, lhs, rhs, margin, holds,
provenance), the verdict of each theorem with its reason, the predicted error bounds as logarithms
(never a bare 0), every printed bound that contradicts an exact quantity (an upper bound below the
Bayes error: an inconsistency of the encoded constants), the regime and the draw tallies;
``--json`` prints the same as JSON.
Exit status 0 whenever the check ran, whatever the verdicts; bad input exits 2 (theorybench.cli).
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from theorybench import __version__
from theorybench.errors import UserInputError
from theorybench.guard import config_estimate, parse_memory, require_within

if TYPE_CHECKING:
    from bounds import Sample, Theorem
    from theorybench.config import Config

HELP = "evaluate the hypotheses and bounds of every encoded theorem on a configuration"
LN10 = math.log(10.0)


def add_arguments(parser) -> None:
    parser.add_argument("config", nargs="?", default=None, metavar="CONFIG.toml",
                        help="configuration file (TOML); the built-in default when omitted")
    parser.add_argument("--sample", action="store_true",
                        help="also evaluate the sample hypotheses on a drawn training set and "
                             "initialisation (the draw of `theorybench simulate` for this seed)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--seed", type=int, default=None, metavar="S",
                        help="root seed, replacing the configuration's")
    parser.add_argument("--constant", action="append", default=[], metavar="NAME=VALUE",
                        help="set a universal constant (e.g. C_2=0.5) in every theorem that has it; "
                             "repeatable; defaults in docs/theory.md (1, or 1/2 for the rate "
                             "constants c_u, c_sg, c_B)")
    parser.add_argument("--draws", type=int, default=None, metavar="N",
                        help="evaluate every theorem on N independent draws and report in what "
                             "fraction each hypothesis holds and each theorem applies (default: 200, "
                             "fewer for expensive configurations; 0 to skip)")
    parser.add_argument("--max-memory", default=None, metavar="SIZE",
                        help="memory budget, e.g. 4GiB (default: half of this machine's memory)")


# `bounds` is imported inside the functions below, not at module level: it builds its sympy
# statements on import (about a second), and theorybench.cli imports every command module to build
# its parser, so a module-level import would slow down every other command. The configuration and
# sampling layers (numpy) are imported on use for the same reason.


def parse_constants(items: list[str]) -> dict[str, float]:
    """``["C_2=0.5", ...]`` -> ``{"C_2": 0.5}``; malformed items raise `UserInputError`."""
    from bounds import THEOREMS

    known = sorted({name for theorem in THEOREMS for name in theorem.constants})
    out: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in known:
            raise UserInputError(
                f"--constant {item!r} is not allowed: write NAME=VALUE with NAME one of "
                f"{', '.join(known)}.")
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            raise UserInputError(
                f"--constant {name} = {text!r} is not allowed: it must be a finite real > 0.")
        out[name] = value
    return out


def theorems_with(constants: dict[str, float]) -> list[Theorem]:
    """Fresh instances of the registered theorems with the given constants where they have them."""
    from bounds import THEOREMS

    out = []
    for theorem in THEOREMS:
        own = {k: v for k, v in constants.items() if k in theorem.constants}
        out.append(type(theorem)(**own))
    return out


def evaluate_all(config: Config, *, sample: Sample | None, constants: dict[str, float],
                 draws: int = 0) -> dict:
    """Everything `check` prints, as a JSON-ready dictionary (``draws`` > 0 adds the tallies of
    `theorybench.draws.tally_draws`)."""
    from bounds.contract import requirement_verdict
    from bounds.rates import parameter_values, regime
    from bounds.theorem_5_1 import rate_conclusions
    from theorybench.config import config_hash, config_to_dict

    values = parameter_values(config)
    conclusions = rate_conclusions(values, "§4")
    # The regime is read from the float r, before to_dict turns a NaN into the string "NaN".
    r = next(c.value for c in conclusions if c.name == "r")
    rates = [c.to_dict() for c in conclusions]
    theorems = []
    for theorem in theorems_with(constants):
        hypotheses = theorem.hypotheses(config, sample)
        ok, reason = requirement_verdict(hypotheses, theorem.requirements)
        theorems.append({
            "key": theorem.key, "title": theorem.title, "section": theorem.section,
            "provenance": theorem.provenance, "constants": dict(theorem.constants),
            "applies": ok, "reason": reason,
            "hypotheses": [h.to_dict() for h in hypotheses],
            "conclusions": [c.to_dict() for c in theorem.conclusions(config, sample)],
        })
    from theorybench.draws import tally_draws

    inconsistencies = [{"theorem": t["key"], "statement": c["statement"]}
                       for t in theorems for c in t["conclusions"] if c["name"] == "inconsistency"]
    return {
        "theorybench_version": __version__, "config_hash": config_hash(config),
        "seed": config.seed, "evaluated_on": "sample" if sample is not None else "parameters",
        "config": config_to_dict(config), "rates": rates, "regime": regime(r),
        "theorems": theorems, "inconsistencies": inconsistencies,
        "draws": tally_draws(config, theorems_with(constants), draws).to_dict() if draws else None,
    }


def _number(value: float) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.4g}"


def _side(value, log_scale: bool) -> str:
    if isinstance(value, str) or value is None:
        return _number(value)
    if log_scale:
        return f"{math.exp(value):.4g}" if abs(value) < 700 else f"e^{value:.4g}"
    return _number(value)


def _margin(row: dict) -> str:
    margin = row["margin"]
    if isinstance(margin, str) or margin is None or math.isnan(margin):
        return _number(margin)
    if row["log_scale"]:
        return f"x{math.exp(min(abs(margin), 700.0)):.3g}"
    return f"{margin:+.3g}"


def _holds(value) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[value]


# What a log of -inf means, said in words instead of a bare 0 (an exact zero is a finding).
EXACT_ZERO_MEANINGS = {
    "Bayes error": "mu' Sigma^+ mu = inf: mu is outside the range of Sigma (e.g. noise orthogonal to "
                   "the mean), so the classes are separable without error",
}


def _log_text(log_value, name: str = "") -> str:
    if log_value in ("-Infinity", -math.inf):
        meaning = EXACT_ZERO_MEANINGS.get(name, "the quantity is exactly 0")
        return f"exactly 0 (log = -inf; {meaning})"
    if isinstance(log_value, str):
        return log_value
    return f"log = {log_value:.4g}  (= 10^{log_value / LN10:.4g})"


def format_report(report: dict, source: str) -> str:
    """The human-readable report: header, hypothesis table, verdicts, predictions, regime."""
    config = report["config"]
    data, network = config["data"], config["network"]
    lines = [
        f"theorybench check  {source}  (config {report['config_hash']}, seed {report['seed']}, "
        f"evaluated on the {report['evaluated_on']})",
        f"n = {data['n']}, d = {data['d']}, m = {network['m']}, gamma = {network['gamma']}, "
        f"eta = {config['training']['step_size']}, omega = {network['init_scale']}, "
        f"noise {data['noise']['family']}, covariance {data['covariance']['family']}",
        "",
    ]
    header = ("theorem", "hypothesis", "lhs", "rel", "rhs", "margin", "holds", "provenance", "on")
    rows = []
    for theorem in report["theorems"]:
        for h in theorem["hypotheses"]:
            name = h["name"] + ("" if h["verdict"] else " (info)")
            if h["is_flag"]:
                rows.append((theorem["key"], name, "", "", "", "", _holds(h["holds"]),
                             f"{h['provenance']} {h['section']}", h["evaluated_on"]))
                continue
            rows.append((theorem["key"], name, _side(h["lhs"], h["log_scale"]), h["relation"],
                         _side(h["rhs"], h["log_scale"]), _margin(h), _holds(h["holds"]),
                         f"{h['provenance']} {h['section']}", h["evaluated_on"]))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        lines.append("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip())
    lines += ["", "Verdicts"]
    for theorem in report["theorems"]:
        lines.append(f"  {theorem['title']} [{theorem['provenance']} {theorem['section']}] "
                     f"{theorem['reason']}")
    lines += ["", "Predicted error bounds (natural log; never a bare 0)"]
    for theorem in report["theorems"]:
        for c in theorem["conclusions"]:
            if c["log_value"] is not None:
                state = "" if theorem["applies"] else "  [theorem does not apply]"
                lines.append(f"  {theorem['key']:<10} {c['name']:<12} {c['statement']}: "
                             f"{_log_text(c['log_value'], c['name'])}  {c['provenance']} {c['section']}{state}")
    rate_names = {c["name"] for c in report["rates"]}
    lines += ["", "Other conclusions"]
    for theorem in report["theorems"]:
        for c in theorem["conclusions"]:
            if c["log_value"] is None and c["name"] not in rate_names and c["value"] is not None:
                lines.append(f"  {theorem['key']:<10} {c['name']:<16} {_number(c['value'])}  "
                             f"{c['statement']}  {c['provenance']} {c['section']}")
    lines += ["", "Rates and regime"]
    for c in report["rates"]:
        lines.append(f"  {c['name']:<14} {_number(c['value'])}  {c['statement']}  "
                     f"{c['provenance']} {c['section']}")
    lines += ["", "Consistency of the encoded constants"]
    lines += [f"  INCONSISTENT  {i['theorem']}: {i['statement']}" for i in report["inconsistencies"]] \
        or ["  no printed bound contradicts an exact quantity (Bayes error, exact error on the draw)"]
    if report["draws"] is not None:
        from theorybench.draws import format_draws

        titles = {t["key"]: t["title"] for t in report["theorems"]}
        lines += [""] + format_draws(report["draws"], titles)
    return "\n".join(lines)


def run(args) -> int:
    from theorybench.config import load_config

    config = load_config(args.config)
    if args.seed is not None:
        if args.seed < 0:
            raise UserInputError(f"--seed = {args.seed} is not allowed: it must be an integer >= 0.")
        config = config.replace(seed=args.seed)
    constants = parse_constants(args.constant)
    if args.draws is not None and args.draws < 0:
        raise UserInputError(f"--draws = {args.draws} is not allowed: it must be an integer >= 0.")
    budget = None if args.max_memory is None else parse_memory(args.max_memory)
    # Before the draws: default_draws itself sizes the work from the configuration.
    require_within(config_estimate(config, sample=args.sample or args.draws != 0), budget, "this configuration")
    from theorybench.draws import default_draws, draw_sample

    draws = default_draws(config) if args.draws is None else args.draws
    sample = draw_sample(config, config.seed) if args.sample else None
    report = evaluate_all(config, sample=sample, constants=constants, draws=draws)
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print(format_report(report, args.config or "built-in default"))
    return 0

