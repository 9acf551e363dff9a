"""bounds._generated: the committed float64 module equals a fresh generation from bounds.symbolic,
computes what sympy.lambdify computes, and keeps sympy out of ``import bounds``."""

import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from bounds import generate, symbolic

# Symbols that are not positive by definition (docs/theory.md §3: correlations and step statistics).
SIGNED = {"min_corr", "step_min", "step_one_min"}


def random_values(rng: np.random.Generator, names) -> dict[str, float]:
    """Log-uniform magnitudes over 1e-3..1e3 (both signs for the signed symbols), n >= 2 so that
    log n > 0 as the typical-case statements assume."""
    values = {name: float(10 ** rng.uniform(-3, 3)) for name in names}
    for name in SIGNED & set(values):
        values[name] *= rng.choice([-1.0, 1.0])
    if "n" in values:
        values["n"] = float(rng.integers(2, 10**4))
    for name in {"flip", "delta"} & set(values):
        values[name] = float(rng.uniform(0, 0.5))
    return values


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_committed_module_is_a_fresh_generation():
    # The committed file is what `python -m bounds.generate` writes from the sympy definitions now:
    # a formula changed in bounds/symbolic.py without regenerating fails here.
    assert generate.TARGET.read_text(encoding="utf-8") == generate.source(), \
        "bounds/_generated.py is out of date: run `python -m bounds.generate`"


def test_generate_check_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "_generated.py"
    stale.write_text("CONSTANT_NAMES = ()\nSTATEMENTS = {}\n")
    monkeypatch.setattr(generate, "TARGET", stale)
    assert generate.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize("name", sorted(symbolic.STATEMENTS))
def test_generated_functions_equal_lambdify_on_random_inputs(name):
    # Exact equality, no tolerance: the generated code is printed by SciPyPrinter, the printer
    # lambdify uses for modules ["scipy", "numpy"], from the same expression, so both perform the
    # same float64 operations in the same order; any difference is a printing difference (a bug).
    s = symbolic.statement(name)
    names, generated = s._functions("numpy")
    lambdified_names, lambdified = s._lambdified("numpy")
    assert names == lambdified_names == tuple(x.name for x in s.symbols)
    rng = np.random.default_rng(sum(map(ord, name)))
    with np.errstate(all="ignore"):
        for _ in range(200):
            arguments = list(map(np.float64, random_values(rng, names).values()))
            for f, g in zip(generated, lambdified):
                assert same_float(float(f(*arguments)), float(g(*arguments))), (name, arguments)


@pytest.mark.parametrize("name", sorted(n for n, s in symbolic.STATEMENTS.items()
                                        if s.constant_name is not None))
def test_generated_critical_constant_equals_lambdified_solution(name):
    # Exact equality, as above: the same expression (sympy.solve's root) printed by the same printer.
    expression = symbolic.critical_constant_expression(name)
    args = symbolic._sorted_symbols(expression)
    reference = sp.lambdify(args, expression, modules=["scipy", "numpy"])
    rng = np.random.default_rng(sum(map(ord, name)))
    all_names = symbolic.statement(name).symbol_names
    with np.errstate(all="ignore"):
        for _ in range(200):
            values = random_values(rng, all_names)
            got = symbolic.critical_constant(name, values)
            expected = float(reference(*(np.float64(values[a.name]) for a in args)))
            assert same_float(got, expected), (name, values)


def test_registered_statements_match_their_definitions():
    definitions = symbolic._definitions()["STATEMENTS"]
    assert list(symbolic.STATEMENTS) == list(definitions)
    assert symbolic.CONSTANT_NAMES == tuple(c.name for c in symbolic.CONSTANT_SYMBOLS)
    for name, s in symbolic.STATEMENTS.items():
        d = definitions[name]
        assert (s.description, s.provenance, s.section, s.relation) == \
               (d.description, d.provenance, d.section, d.relation)
        assert s.constant_name == (None if d.constant is None else d.constant.name)
        assert s.latex() == d.latex()
        assert s.expr is d.expr and s.lhs is d.lhs and s.atoms is d.atoms


def test_import_bounds_does_not_import_sympy():
    # The point of the generated module (issue 14, start-up): sympy costs about a second to import.
    code = ("import sys, bounds; bounds.statement('psi').evaluate({'n': 10.0, 'mu_norm': 2.0, "
            "'mu_sigma_mu': 4.0, 'tr_sigma2': 100.0}); assert 'sympy' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_check_runs_without_sympy(tmp_path):
    # `theorybench check` evaluates every theorem, its LaTeX, critical constants and the signal
    # boundaries on the generated module: sympy (a second of imports, and sympy.solve at run time
    # before) is never imported.
    code = ("import sys; from theorybench.cli import main; status = main(['check', '--draws', '0', "
            "'--json']); assert status == 0, status; assert 'sympy' not in sys.modules, 'sympy'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert '"latex"' in done.stdout


def test_sympy_names_are_still_module_attributes():
    assert isinstance(symbolic.n, sp.Symbol) and symbolic.n.name == "n"
    assert symbolic.PSI == symbolic.statement("psi").expr
    with pytest.raises(AttributeError):
        symbolic.no_such_name
