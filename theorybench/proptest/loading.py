"""Which bounds a run tests: the shipped catalogue, or the ``BOUNDS`` of a user's module."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from bounds.catalogue import BOUNDS, DeclaredBound
from theorybench.errors import UserInputError


@dataclass(frozen=True)
class UserModule:
    """A user's module: its ``BOUNDS`` and whether it allows vacuous properties.

    ``allow_vacuous`` is the module's ``ALLOW_VACUOUS`` (default False): True lets a property
    that no generated instance exercised pass, for statements whose hypotheses the strategies
    are known not to reach (docs/proptest.md).
    """

    bounds: list[DeclaredBound]
    allow_vacuous: bool = False


def _import(spec: str):
    path = Path(spec)
    try:
        if path.suffix == ".py" or path.exists():
            if path.is_dir():
                raise UserInputError(f"--module = {spec!r} is a directory: give a Python file "
                                     "(.py) or a dotted module name.")
            if not path.is_file():
                raise UserInputError(f"--module = {spec!r}: no such file.")
            name = f"theorybench_user_bounds_{abs(hash(str(path.resolve())))}"
            module_spec = importlib.util.spec_from_file_location(name, path)
            if module_spec is None:  # no import loader for this file type
                raise UserInputError(f"--module = {spec!r} is not a Python file (.py).")
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[name] = module
            module_spec.loader.exec_module(module)
            return module
        return importlib.import_module(spec)
    except UserInputError:
        raise
    except ModuleNotFoundError as error:
        raise UserInputError(f"--module = {spec!r} cannot be imported: {error}.") from None
    except Exception as error:  # the user's module failed while loading
        raise UserInputError(f"--module = {spec!r} failed while loading: {type(error).__name__}: "
                             f"{error}.") from None


def load_bounds_module(spec: str) -> UserModule:
    """The ``BOUNDS`` list (and ``ALLOW_VACUOUS``) of a user module, given as a file path or a
    dotted module name."""
    module = _import(spec)
    bounds = getattr(module, "BOUNDS", None)
    if not isinstance(bounds, (list, tuple)) or not bounds:
        raise UserInputError(f"--module = {spec!r} must define BOUNDS, a non-empty list of "
                             "bounds.catalogue.DeclaredBound.")
    for item in bounds:
        if not isinstance(item, DeclaredBound):
            raise UserInputError(f"--module = {spec!r}: BOUNDS contains {item!r}, which is not a "
                                 "bounds.catalogue.DeclaredBound.")
    names = [b.name for b in bounds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise UserInputError(f"--module = {spec!r}: bound names must be unique; repeated: "
                             f"{', '.join(duplicates)}.")
    allow_vacuous = getattr(module, "ALLOW_VACUOUS", False)
    if not isinstance(allow_vacuous, bool):
        raise UserInputError(f"--module = {spec!r}: ALLOW_VACUOUS = {allow_vacuous!r} must be True "
                             "or False.")
    return UserModule(list(bounds), allow_vacuous)


def select_bound(bounds: list[DeclaredBound], name: str) -> list[DeclaredBound]:
    """The bound called ``name`` (UserInputError listing the available names otherwise)."""
    for bound in bounds:
        if bound.name == name:
            return [bound]
    raise UserInputError(f"--bound = {name!r} is not a declared bound; available: "
                         f"{', '.join(b.name for b in bounds)}.")


def shipped_bounds() -> list[DeclaredBound]:
    return list(BOUNDS)
