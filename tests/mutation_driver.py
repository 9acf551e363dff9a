"""A small mutation-testing driver: planted edits in a copy of the package, killed by the tests.

Each `Mutant` is one realistic slip in the encoding of a statement (a dropped factor, a flipped
sign, a wrong branch, a check left out) in `bounds/` (error functionals, thresholds, symbolic
forms, the step-one criterion, the limit-direction certificate) or the interval code
(`theorybench/stats.py`). For each mutant the driver copies the repository's code into a
temporary directory, applies the edit (the original text must occur exactly once), and runs the
*killer* tests there (after regenerating `bounds/_generated.py` when the edit is in the sympy
statements of `bounds/symbolic.py`; `KILLERS`: the property suite first, then the unit tests of the mutated
modules) with ``pytest -x``; the mutant is *killed* when they fail. A mutant whose text is no
longer in the code (the code moved on) is reported ``stale``, not counted.

Run it directly for the table published in docs/proptest.md::

    python tests/mutation_driver.py            # the baseline, then all mutants, one at a time
    python tests/mutation_driver.py E1 L2      # the baseline, then some of them

``tests/test_mutation.py`` (marked slow) runs it and asserts the score.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("bounds", "theorybench", "verify", "tests", "docs/examples", "pyproject.toml")
# The property suite first (the subject of the score), then the unit tests of the mutated code.
KILLERS = ("tests/test_properties.py", "tests/test_error_functionals.py", "tests/test_stats.py",
           "tests/test_limit_direction.py", "tests/test_symbolic.py")


@dataclass(frozen=True)
class Mutant:
    """One planted edit: ``old`` replaced by ``new`` in ``path``; ``equivalent`` gives the reason
    when the edit cannot change any result (such mutants are excluded from the score)."""

    key: str
    path: str
    old: str
    new: str
    slip: str
    equivalent: str | None = None


MUTANTS = [
    # bounds/error_functionals.py: the conditional bounds of §2.4 and the exact Gaussian error.
    Mutant("E1", "bounds/error_functionals.py", "exponent = -(ratio * ratio) / (2.0 * proxy)",
           "exponent = -(ratio * ratio) / proxy", "sub-Gaussian bound without the factor 2"),
    Mutant("E2", "bounds/error_functionals.py", "log_value = -math.log1p(ratio * ratio)",
           "log_value = -math.log1p(ratio)", "Cantelli with t/s instead of (t/s)^2"),
    Mutant("E3", "bounds/error_functionals.py",
           "log_value = -2.0 * math.log(ratio) - math.log1p(ratio ** -2.0)",
           "log_value = -math.log(ratio) - math.log1p(ratio ** -2.0)",
           "Cantelli's large-ratio branch (t/s > 1e150) with log x instead of 2 log x"),
    Mutant("E4", "bounds/error_functionals.py", "+ 4.0 * math.log(top)", "+ 2.0 * math.log(top)",
           "fourth moment: the rescaling by max|b| restored with power 2 instead of 4"),
    Mutant("E5", "bounds/error_functionals.py", "(kurtosis - 3.0) * four", "(kurtosis - 1.0) * four",
           "fourth moment with kappa - 1 for kappa - 3 (looser, still a valid bound)"),
    Mutant("E6", "bounds/error_functionals.py", "log_moment - 4.0 * math.log(t)",
           "log_moment - 2.0 * math.log(t)",
           "Markov on the fourth moment divided by t^2 (in the branch for b/t out of range)"),
    Mutant("E12", "bounds/error_functionals.py", "scaled = b / t\n", "scaled = b / math.sqrt(t)\n",
           "fourth moment over t^2 in the scale-free form (b / sqrt t for b / t)"),
    Mutant("E7", "bounds/error_functionals.py", "return -math.inf if t > 0 else 0.0",
           "return 0.0 if t > 0 else -math.inf", "noise-free direction: error 0 and 1 swapped"),
    Mutant("E8", "bounds/error_functionals.py", "return float(log_ndtr(-t / s))",
           "return float(log_ndtr(t / s))", "Gaussian error Phi(x) for Phi(-x)"),
    Mutant("E9", "bounds/error_functionals.py", "return min(valid, key=lambda bound: bound.log_value)",
           "return max(valid, key=lambda bound: bound.log_value)",
           "best conditional bound: the largest valid bound instead of the smallest"),
    Mutant("E10", "bounds/error_functionals.py", "coordinates[~null] ** 2 / eigenvalues[~null]",
           "coordinates[~null] ** 2 * eigenvalues[~null]", "Mahalanobis norm with Sigma for Sigma^-1"),
    Mutant("E11", "bounds/error_functionals.py", "return float(log_ndtr(-math.sqrt(_scale(",
           "return float(log_ndtr(-(_scale(", "Bayes error at M instead of sqrt(M)"),
    # bounds/catalogue.py: the shipped statements built on them.
    Mutant("C1", "bounds/catalogue.py", "return -0.5 * x * x - _HALF_LOG_TWO_PI - math.log(x)",
           "return -0.5 * x * x - _HALF_LOG_TWO_PI + math.log(x)", "Mills upper bound phi(x) x"),
    Mutant("C2", "bounds/catalogue.py", "return -math.log(2.0) - 0.5 * x * x", "return -0.5 * x * x",
           "Chernoff without its factor 1/2 (looser, still valid)"),
    Mutant("C4", "bounds/catalogue.py",
           "return -0.5 * x * x - _HALF_LOG_TWO_PI + math.log(x) - math.log1p(x * x)",
           "return -0.5 * x * x - _HALF_LOG_TWO_PI - math.log1p(x * x)",
           "Mills lower bound phi(x)/(1+x^2) without the factor x (valid only for x <= 1)"),
    # bounds/theorem_4_8.py: the step-one criterion of §3.
    Mutant("T1", "bounds/theorem_4_8.py", "slopes = np.where(H0 > 0, 1.0, gamma)",
           "slopes = np.where(H0 >= 0, 1.0, gamma)", "phi'(0) = 1 instead of gamma at the kink"),
    Mutant("T2", "bounds/theorem_4_8.py",
           "step_terms = gamma * relative * np.diag(K) + negative @ relative",
           "step_terms = relative * np.diag(K) + negative @ relative",
           "S_min without the slope gamma of the own-sample term"),
    Mutant("T3", "bounds/theorem_4_8.py", "step_relative = (eta / n) * (K @ D_relative)",
           "step_relative = (eta / (n - 1)) * (K @ D_relative)", "the step with eta/(n - 1)"),
    Mutant("T4", "bounds/theorem_4_8.py", "negative = np.minimum(correlation, 0.0)",
           "negative = np.maximum(correlation, 0.0)",
           "S_min subtracting the positive correlations instead of the negative ones"),
    # (C3 until the catalogue's own formula for it gave way to the declared statement.)
    Mutant("T5", "bounds/theorem_4_8.py", "\"init_max\": float(np.abs(one.preactivations).max()),",
           "\"init_max\": float(np.abs(one.preactivations).min()),",
           "small initialisation against the smallest |<x_k, w_j(0)>|"),
    # bounds/symbolic.py: the sympy forms of §3-§6.
    Mutant("S1", "bounds/symbolic.py", "PSI = n * mu_norm**4 / (n * mu_sigma_mu + tr_sigma2)",
           "PSI = n * mu_norm**4 / (mu_sigma_mu + tr_sigma2)", "psi without n in the denominator"),
    Mutant("S2", "bounds/symbolic.py", "PSI_ALT = n * mu_norm**4 / (n * mu_norm**2 * sigma_op + sigma_op * tr_sigma)",
           "PSI_ALT = n * mu_norm**4 / (n * mu_norm**2 * sigma_op + tr_sigma)",
           "psi_alt without ||Sigma|| on Tr Sigma"),
    Mutant("S3", "bounds/symbolic.py", "sp.log(C_K) - moment_order / 2 * sp.log(PSI)",
           "sp.log(C_K) + moment_order / 2 * sp.log(PSI)", "Theorem 6.3 with psi^(+q/2)"),
    Mutant("S4", "bounds/symbolic.py", "LogAddExp(sp.log(flip), -n * mu_norm**4 / (C_F * d))",
           "LogAddExp(sp.log(flip), -n * mu_norm**2 / (C_F * d))", "Frei with ||mu||^2 for ||mu||^4"),
    Mutant("S5", "bounds/symbolic.py", "\"LogAddExp\": lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),",
           "\"LogAddExp\": lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b) / 2),",
           "the mpmath form of log-add-exp halving one term (float64 form right)"),
    Mutant("S6", "bounds/symbolic.py", "sp.log(C_sg) - c_sg * PSI / proxy",
           "sp.log(C_sg) - c_sg * PSI * proxy", "Theorem 6.2 multiplying by the variance proxy"),
    # bounds/thresholds.py, bounds/boundaries.py: solved thresholds and signal boundaries.
    Mutant("H1", "bounds/thresholds.py", "above.append(increasing == (s.relation in (\">=\", \">\")))",
           "above.append(increasing != (s.relation in (\">=\", \">\")))",
           "solve_threshold: the side on which the condition holds inverted"),
    Mutant("H2", "bounds/thresholds.py", "expression = sp.Max(*roots) if above[0] else sp.Min(*roots)",
           "expression = sp.Min(*roots) if above[0] else sp.Max(*roots)",
           "a conjunction of conditions switching at the smallest root"),
    Mutant("H3", "bounds/thresholds.py", "candidate = max(1, math.ceil(threshold.value))",
           "candidate = max(1, math.floor(threshold.value) + 1)",
           "smallest dimension one too large at an integer threshold"),
    # (the signal boundaries moved from bounds/thresholds.py to bounds/boundaries.py)
    Mutant("H4", "bounds/boundaries.py",
           "kappa = values[\"mu_sigma_mu\"] / values[\"mu_norm\"] ** 2",
           "kappa = values[\"mu_sigma_mu\"] / values[\"mu_norm\"]",
           "kappa = mu'Sigma mu / ||mu|| instead of / ||mu||^2"),
    # bounds/limit_direction.py: the certificate of §2.2.
    Mutant("L1", "bounds/limit_direction.py",
           "violations = int(np.count_nonzero(np.sign(a)[None, :] * y[:, None] * H <= 0))",
           "violations = int(np.count_nonzero(np.sign(a)[None, :] * y[:, None] * H < 0))",
           "pattern check accepting pre-activations exactly 0"),
    Mutant("L2", "bounds/limit_direction.py",
           "residual = max(infeasibility, max(1.0 - min_margin, 0.0), slackness)",
           "residual = max(infeasibility, slackness)", "KKT residual without the margin check"),
    Mutant("L3", "bounds/limit_direction.py",
           "ok = not violations and residual <= tolerance and gap <= tolerance",
           "ok = not violations and residual <= tolerance", "certificate ignoring the duality gap"),
    Mutant("L4", "bounds/limit_direction.py",
           "return np.where(np.sign(a)[None, :] == y[:, None], 1.0, float(gamma))",
           "return np.where(np.sign(a)[None, :] == y[:, None], float(gamma), 1.0)",
           "activation factors c_ij swapped"),
    Mutant("L5", "bounds/limit_direction.py",
           "infeasibility = float(np.max(np.maximum(-lam, 0.0))) / scale",
           "infeasibility = float(np.max(np.maximum(lam, 0.0))) * 0.0 / scale",
           "dual feasibility never checked"),
    # theorybench/stats.py: the Clopper-Pearson interval of §7.
    Mutant("P1", "theorybench/stats.py", "lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2.0))",
           "lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha))",
           "lower end at alpha instead of alpha/2 (one-sided level)"),
    Mutant("P2", "theorybench/stats.py", "upper = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - alpha / 2.0))",
           "upper = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - alpha / 4.0))",
           "upper end at 1 - alpha/4 (too wide: coverage still holds)"),
    Mutant("P3", "theorybench/stats.py", "upper = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1.0 - alpha / 2.0))",
           "upper = 1.0 if k == n else float(betaincinv(k + 1, n - k + 1, 1.0 - alpha / 2.0))",
           "upper end with Beta(k+1, n-k+1) (the Bayesian uniform-prior interval)"),
    Mutant("P4", "theorybench/stats.py", "lower = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, alpha / 2.0))",
           "lower = 0.0 if k == 0 else float(betaincinv(k, n - k, alpha / 2.0))",
           "lower end with Beta(k, n-k)"),
]


def _copy_tree(destination: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        target = destination / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


# The statements whose float64 forms are regenerated after a mutant edits them.
GENERATED_FROM = "bounds/symbolic.py"

# The unmutated code: the killers must pass on it, or every "kill" would be the suite's own failure.
BASELINE = Mutant("baseline", "bounds/__init__.py", "", "", "no edit")


def run_mutant(mutant: Mutant, *, timeout: float = 1800.0) -> tuple[str, str, float]:
    """``(status, killer, seconds)``: status ``killed``, ``survived``, ``stale`` or ``timeout``;
    killer the first failing test (empty when none)."""
    source = (ROOT / mutant.path).read_text()
    if mutant is not BASELINE and source.count(mutant.old) != 1:
        return "stale", "", 0.0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f"mutant_{mutant.key}_") as directory:
        work = Path(directory)
        _copy_tree(work)
        if mutant is not BASELINE:
            (work / mutant.path).write_text(source.replace(mutant.old, mutant.new))
        # The copy comes first on the path, before the editable install of the real package.
        env = {**os.environ, "PYTHONPATH": str(work), "PYTHONDONTWRITEBYTECODE": "1"}
        if mutant.path == GENERATED_FROM:
            # The float64 forms are generated from the sympy statements: a slip in a statement
            # ships through `python -m bounds.generate`, as a person editing it would run it (a
            # stale bounds/_generated.py would only be caught by tests/test_generated.py).
            generated = subprocess.run([sys.executable, "-m", "bounds.generate"], cwd=work, env=env,
                                       capture_output=True, text=True, timeout=timeout)
            if generated.returncode != 0:
                return "killed", "python -m bounds.generate failed", time.perf_counter() - start
        command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                   "-m", "not slow", *KILLERS]
        try:
            completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                       timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout", "", time.perf_counter() - start
    seconds = time.perf_counter() - start
    if completed.returncode == 0:
        return "survived", "", seconds
    failed = re.search(r"^FAILED (\S+)", completed.stdout, re.M)
    if completed.returncode not in (1,) or failed is None:
        # Not a test failure (collection error, crash): the mutant broke the code outright.
        return "killed", f"pytest exit {completed.returncode} (import or collection)", seconds
    return "killed", failed.group(1), seconds


def score(results: dict[str, str]) -> tuple[int, int]:
    """(killed, counted): equivalent and stale mutants are not counted."""
    counted = [m for m in MUTANTS if m.equivalent is None and results.get(m.key) in
               ("killed", "survived", "timeout")]
    return sum(results[m.key] == "killed" for m in counted), len(counted)


def main(arguments: list[str]) -> int:
    keys = [a for a in arguments if a != "--no-baseline"]
    chosen = [m for m in MUTANTS if not keys or m.key in keys]
    if "--no-baseline" not in arguments:  # for parallel runs after one baseline
        status, killer, seconds = run_mutant(BASELINE)
        print(f"baseline (no edit): {'killers pass' if status == 'survived' else 'FAILED ' + killer}"
              f" ({seconds:.0f} s)", flush=True)
        if status != "survived":
            return 1
    results = {}
    print("| mutant | file | slip | result | first killing test | s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for mutant in chosen:
        status, killer, seconds = run_mutant(mutant)
        results[mutant.key] = status
        slip = mutant.slip.replace("|", "\\|")  # a table cell
        print(f"| {mutant.key} | `{mutant.path}` | {slip} | {status} | "
              f"{('`' + killer + '`') if killer else ''} | {seconds:.0f} |", flush=True)
    killed, counted = score(results)
    print(f"\nscore: {killed}/{counted} non-equivalent mutants killed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
