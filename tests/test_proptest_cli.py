"""`theorybench proptest`: shipped bounds, a user's module, exit statuses, printed counterexamples."""

import re
import textwrap
from pathlib import Path

import pytest

from theorybench.cli import main
from theorybench.config import config_from_toml

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "my_bound.py"

WRONG_MODULE = textwrap.dedent('''
    import math
    from bounds.catalogue import DeclaredBound

    def log_too_small(instance):
        # Wrong on purpose: Phi(-x) <= exp(-x^2) is false (the exponent should be x^2/2).
        x = instance.t / instance.s
        return -x * x

    def gaussian_positive(instance):
        ok = instance.noise == "gaussian" and instance.t > 0 and instance.s > 0
        return ok, "Gaussian noise, t > 0"

    BOUNDS = [DeclaredBound(name="too_small", kind="upper", provenance="EXACT", section="§2.4",
                            quantity="log_error_of_direction", statement="err <= exp(-x^2)",
                            value=log_too_small, applies=gaussian_positive)]
''')


def test_one_shipped_bound_passes(capsys):
    assert main(["proptest", "--bound", "cantelli_upper"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^PASS\s+cantelli_upper :: upper_bounds_exact", out, re.M)
    assert "falsified or failed" in out and " 0 falsified" in out
    assert re.search(r"exercised by [1-9][0-9]* of [0-9]+ examples", out)


def test_the_example_user_module_passes_without_editing_the_package(capsys):
    assert main(["proptest", "--module", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    for name in ("my_chebyshev :: upper_bounds_exact", "my_chebyshev :: mpmath",
                 "my_isotropic_rate :: monotone_in_n", "my_isotropic_rate :: monotone_in_d"):
        assert re.search(rf"^PASS\s+{re.escape(name)}", out, re.M), out
    assert "library ::" not in out  # a user's run tests the user's bounds only


def test_a_wrong_user_bound_exits_1_with_a_toml_counterexample(tmp_path, capsys):
    module = tmp_path / "wrong.py"
    module.write_text(WRONG_MODULE)
    assert main(["proptest", "--module", str(module), "--seed", "3"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^FAIL\s+too_small :: upper_bounds_exact", out, re.M)
    assert "shrunk counterexample, raw values:" in out
    # The printed configuration is valid TOML that `theorybench check` accepts.
    block = out.split("as a configuration (theorybench check accepts it):\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if not line.startswith("          "):
            break
        lines.append(line[10:])
    config = config_from_toml("\n".join(lines))
    assert config.data.noise.family == "gaussian"
    path = tmp_path / "counterexample.toml"
    path.write_text("\n".join(lines))
    capsys.readouterr()
    assert main(["check", str(path)]) == 0


def test_a_dotted_module_name_is_accepted(tmp_path, monkeypatch, capsys):
    (tmp_path / "user_bounds_pkg.py").write_text(EXAMPLE.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["proptest", "--module", "user_bounds_pkg", "--bound", "my_chebyshev"]) == 0


@pytest.mark.parametrize("argv, fragment", [
    (["--bound", "no_such_bound"], "--bound = 'no_such_bound' is not a declared bound"),
    (["--module", "does/not/exist.py"], "no such file"),
    (["--module", "no_such_module_xyz"], "cannot be imported"),
    (["--seed", "-1"], "--seed = -1 is not allowed"),
])
def test_bad_input_exits_2_with_one_paragraph(argv, fragment, capsys):
    assert main(["proptest", *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_a_module_path_that_is_not_a_python_file_exits_2(tmp_path, capsys):
    # A directory, or a file without an import loader, was a bare AttributeError in the message.
    notes = tmp_path / "notes.md"
    notes.write_text("BOUNDS = []\n")
    assert main(["proptest", "--module", str(notes)]) == 2
    # the paragraph is wrapped at 100 columns without breaking the path: compare unwrapped
    assert "is not a Python file (.py)" in " ".join(capsys.readouterr().err.split())
    assert main(["proptest", "--module", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_a_module_without_bounds_exits_2(tmp_path, capsys):
    module = tmp_path / "empty.py"
    module.write_text("X = 1\n")
    assert main(["proptest", "--module", str(module)]) == 2
    assert "must define BOUNDS" in capsys.readouterr().err


def test_a_module_with_an_invalid_declaration_exits_2(tmp_path, capsys):
    module = tmp_path / "invalid.py"
    module.write_text("from bounds.catalogue import DeclaredBound\n"
                      "BOUNDS = [DeclaredBound(name='x', kind='sideways', provenance='EXACT', "
                      "section='§2.4', quantity='log_error_of_direction', statement='', "
                      "value=lambda i: 0.0)]\n")
    assert main(["proptest", "--module", str(module)]) == 2
    assert "kind = 'sideways' is not allowed" in capsys.readouterr().err


_DECLARED = ("from bounds.catalogue import DeclaredBound\n"
             "BOUNDS = [DeclaredBound(name='q', kind='upper', provenance='EXACT', section='§2.4', "
             "quantity='log_error_of_direction', statement='', {})]\n")


@pytest.mark.parametrize("source, fragment", [
    ("def broken(:\n    pass\n", "failed while loading: SyntaxError"),
    ("raise RuntimeError('boom')\n", "failed while loading: RuntimeError: boom"),
    ("BOUNDS = [1]\n", "BOUNDS contains 1, which is not a bounds.catalogue.DeclaredBound"),
    # A list or a string where a mapping or a tuple is expected was read element by element.
    (_DECLARED.format("value=lambda i: 0.0, monotone=['signal']"), "monotone = ['signal'] must be a mapping"),
    (_DECLARED.format("value=lambda i: 0.0, symmetries='rotation'"), "must be a tuple of names"),
    # Contract violations that only show when the bound is called: bad input, not a falsification.
    (_DECLARED.format("value=lambda i: 0.0, applies=lambda i: True"),
     "applies(instance) must return (holds, reason), a pair; it returned True"),
    (_DECLARED.format("value=lambda i: 'zero'"), "value(instance) must return a number, it returned 'zero'"),
    (_DECLARED.format("value=lambda i: None"), "must return a number, it returned None"),
])
def test_a_module_that_breaks_the_contract_exits_2(source, fragment, tmp_path, capsys):
    module = tmp_path / "broken_bounds.py"
    module.write_text(source)
    assert main(["proptest", "--module", str(module)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the paragraph is wrapped at 100 columns
    assert fragment in err and "Traceback" not in err


def test_an_unknown_profile_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["proptest", "--profile", "slow"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_the_full_quick_run_passes_on_the_shipped_bounds(capsys):
    # The acceptance run (all shipped bounds and the library properties, quick profile).
    assert main(["proptest"]) == 0


_NEVER = ("from bounds.catalogue import DeclaredBound\n"
          "BOUNDS = [DeclaredBound(name='never', kind='upper', provenance='EXACT', "
          "section='§2.4', quantity='log_error_of_direction', statement='', "
          "value=lambda i: 0.0, applies=lambda i: (False, 'never'))]\n")


def test_a_bound_that_never_applies_is_vacuous_and_fails(tmp_path, capsys):
    # A property that no instance exercised tested nothing: that is a failure, not a pass.
    module = tmp_path / "never.py"
    module.write_text(_NEVER)
    assert main(["proptest", "--module", str(module)]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^VACUOUS\s+never :: upper_bounds_exact.*exercised by 0 of", out, re.M)
    assert "nothing was tested" in out and "2 vacuous (0 allowed)" in out


def test_a_user_module_may_allow_vacuous_properties(tmp_path, capsys):
    module = tmp_path / "never_allowed.py"
    module.write_text(_NEVER + "ALLOW_VACUOUS = True\n")
    assert main(["proptest", "--module", str(module)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^VACUOUS \(allowed\)\s*never :: upper_bounds_exact", out, re.M)
    assert "2 vacuous (2 allowed)" in out


def test_allow_vacuous_must_be_a_boolean(tmp_path, capsys):
    module = tmp_path / "never_bad.py"
    module.write_text(_NEVER + "ALLOW_VACUOUS = 'yes'\n")
    assert main(["proptest", "--module", str(module)]) == 2
    err = " ".join(capsys.readouterr().err.split())  # the paragraph is wrapped at 100 columns
    assert "ALLOW_VACUOUS = 'yes' must be True or False" in err


RAISING_MODULE = textwrap.dedent('''
    from bounds.catalogue import DeclaredBound

    def helper_that_fails(instance):
        return {}["missing key"]

    def log_value(instance):
        return helper_that_fails(instance)

    BOUNDS = [DeclaredBound(name="raises", kind="upper", provenance="EXACT", section="§2.4",
                            quantity="log_error_of_direction", statement="err <= 1",
                            value=log_value)]
''')


def test_an_exception_inside_a_user_bound_is_a_contract_error_with_its_traceback(tmp_path, capsys):
    module = tmp_path / "raising.py"
    module.write_text(RAISING_MODULE)
    assert main(["proptest", "--module", str(module)]) == 2
    captured = capsys.readouterr()
    assert "FAIL" not in captured.out  # not reported as a falsification
    err = captured.err
    assert "bound 'raises': value(instance) raised KeyError" in " ".join(err.split())
    # The traceback is the user's code: their file, their functions, the failing line.
    assert "Traceback (most recent call last)" in err
    assert str(module) in err and "in helper_that_fails" in err and "in log_value" in err
    assert 'return {}["missing key"]' in err
    assert "theorybench/proptest" not in err  # none of the runner's own frames


def test_an_exception_inside_a_shipped_bound_is_a_falsification():
    # A shipped bound that raises on a valid instance is wrong; it is reported with its instance.
    from dataclasses import replace

    from theorybench import proptest

    def broken(instance):
        raise ZeroDivisionError("planted")

    bound = replace(proptest.select_bound(proptest.shipped_bounds(), "cantelli_upper")[0],
                    value=broken)
    prop = next(p for p in proptest.bound_properties(bound) if p.name == "finite")
    outcome = proptest.run_property(prop, profile="quick", seed=0)
    assert outcome.status == "falsified" and outcome.failed
    assert "ZeroDivisionError: planted" in outcome.counterexample.detail


def test_the_command_line_offers_exactly_the_runner_profiles():
    from theorybench import proptest
    from theorybench.commands import proptest as command

    assert set(command.PROFILE_NAMES) == set(proptest.PROFILES)
