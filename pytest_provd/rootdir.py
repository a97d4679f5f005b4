"""The rootdir and ini file pytest would choose if it knew our options when it chooses them.

pytest picks the rootdir and the ini file in ``Config.parse()`` from the positional arguments
before it loads entry-point plugins such as this one: the value word of ``--provd-baseline
/abs/known.json`` is then read as a test path, and a path outside the repository moves the
rootdir (node ids, the golden dir, the ini options) to where that file lives.  Every option
taking a separate value word is exposed (``--provd-plugins-dir``, ``--provd-firmware-dir``,
``--provd-write-baseline``, ...); the ``--option=VALUE`` form never is.

:func:`correct_rootdir` runs in ``pytest_load_initial_conftests``, before conftests load: it
parses the arguments again, now that every entry-point plugin's options are known, asks
pytest's own ``determine_setup`` with the true positional arguments and, when the answer
differs, puts it in place: rootpath, inipath, ini values, the ini's ``addopts`` and
``pythonpath``, the default confcutdir.  These are pytest internals (7.4 to 9); when one is
missing, a :class:`pytest.UsageError` asks for the ``--option=VALUE`` form instead.
"""

from __future__ import annotations

import copy
import inspect
import itertools
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from _pytest.config import findpaths

ADVICE = (
    "pytest-provd could not correct the rootdir that pytest chose before it knew the "
    "--provd-* options ({why}); write path options as --provd-baseline=PATH (with '=')"
)


class _Unsupported(Exception):
    """This pytest lacks an internal the correction needs."""


def correct_rootdir(config: pytest.Config, args: list[str]) -> bool:
    """Fix rootpath/inipath/ini values when option values were taken for test paths.

    *args* is the argument list pytest parses next (ini addopts first); it is updated in
    place when the ini file changes.  True when something was corrected.
    """
    try:
        return _correct(config, args)
    except (_Unsupported, AttributeError, TypeError, KeyError, ImportError) as exc:
        raise pytest.UsageError(ADVICE.format(why=f"{type(exc).__name__}: {exc}")) from exc


def _correct(config: pytest.Config, args: list[str]) -> bool:
    # What pytest's first parse saw: PYTEST_ADDOPTS, then the command line (no ini addopts).
    first = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")), *config.invocation_params.args]
    if not _separate_values(first):
        return False  # nothing of ours can have been taken for a test path
    raw: Any = config  # pytest internals: typed loosely, checked where it matters
    parser = raw._parser
    try:
        ns, unknown = parser.parse_known_and_unknown_args(first, namespace=copy.copy(config.option))
    except pytest.UsageError:
        return False  # pytest says what is wrong with the command line itself, later
    # What pytest ends up taking as test paths: the positionals and unknown non-options.
    positional = [*ns.file_or_dir, *(a for a in unknown if not str(a).startswith("-"))]
    found = _determine(findpaths.determine_setup, ns, positional, config)
    rootpath, inipath, inicfg = found[0], found[1], found[2]
    if rootpath == config.rootpath and inipath == config.inipath:
        return False
    old_addopts = [str(a) for a in config.getini("addopts")]
    old_pythonpath = [str(p) for p in config.getini("pythonpath")]
    confcutdir_was_ours = getattr(ns, "confcutdir", None) is None
    had_confcutdir = config.known_args_namespace.confcutdir is not None
    _set_ini(config, rootpath, inipath, inicfg, found[3] if len(found) > 3 else None)
    new_addopts = [str(a) for a in config.getini("addopts")]
    if new_addopts != old_addopts:
        if args[: len(old_addopts)] != old_addopts:
            raise _Unsupported("the ini addopts are not where pytest put them")
        args[:] = [*new_addopts, *args[len(old_addopts) :]]
        config.pluginmanager.consider_preparse(new_addopts, exclude_only=False)
    config.known_args_namespace = parser.parse_known_args(args, namespace=copy.copy(config.option))
    overrides = getattr(findpaths, "parse_override_ini", None)
    if overrides is not None and "_inicfg" in vars(config):
        # pytest 9 merges -o values into the ini values, those of addopts included.
        raw._inicfg.update(overrides(config.known_args_namespace.override_ini))
        raw._inicache.clear()
    if confcutdir_was_ours and config.known_args_namespace.confcutdir is None:
        if inipath is not None:
            config.known_args_namespace.confcutdir = str(inipath.parent)
        elif had_confcutdir:
            config.known_args_namespace.confcutdir = str(rootpath)
    _swap_pythonpath(config, old_pythonpath)
    for check in ("_checkversion", "_validate_plugins"):
        method = getattr(config, check, None)
        if callable(method):
            method()
    return True


def _separate_values(args: Sequence[str]) -> list[str]:
    """Words following a ``--provd-*`` option without ``=`` (values, or maybe test paths)."""
    return [
        str(value)
        for option, value in itertools.pairwise(args)
        if str(option).startswith("--provd-")
        and "=" not in str(option)
        and not str(value).startswith("-")
    ]


def _determine(
    determine_setup: Callable[..., Sequence[Any]],
    ns: Any,
    positional: list[str],
    config: pytest.Config,
) -> Sequence[Any]:
    """``determine_setup`` called the way this pytest's ``Config.parse`` calls it."""
    params = inspect.signature(determine_setup).parameters
    rootdir = ns.rootdir or None
    if "invocation_dir" in params:  # pytest 8 and 9
        kwargs: dict[str, Any] = {
            "inifile": ns.inifilename,
            "args": positional,
            "rootdir_cmd_arg": rootdir,
            "invocation_dir": config.invocation_params.dir,
        }
        if "override_ini" in params:
            kwargs["override_ini"] = ns.override_ini
        return determine_setup(**kwargs)
    if "config" in params:  # pytest 7
        return determine_setup(ns.inifilename, positional, rootdir_cmd_arg=rootdir, config=config)
    raise _Unsupported(f"determine_setup{inspect.signature(determine_setup)}")


def _set_ini(
    config: pytest.Config,
    rootpath: Path,
    inipath: Path | None,
    inicfg: Any,
    ignored: Sequence[str] | None,
) -> None:
    for name in ("_rootpath", "_inipath", "_inicache"):
        if name not in vars(config):
            raise _Unsupported(f"Config.{name}")
    raw: Any = config  # pytest internals: typed loosely, checked above
    raw._rootpath = rootpath
    raw._inipath = inipath
    if "_inicfg" in vars(config):  # pytest 9
        raw._inicfg = inicfg
    elif "inicfg" in vars(config):  # pytest 7 and 8
        raw.inicfg = inicfg
    else:
        raise _Unsupported("Config.inicfg")
    if ignored is not None and "_ignored_config_files" in vars(config):
        raw._ignored_config_files = ignored
    raw._inicache.clear()
    raw._parser.extra_info["rootdir"] = str(rootpath)
    raw._parser.extra_info["inifile"] = str(inipath)


def _swap_pythonpath(config: pytest.Config, old: list[str]) -> None:
    """pytest 9 put the first ini's ``pythonpath`` on sys.path already; put the new one's."""
    if not callable(getattr(config, "_configure_python_path", None)):
        return  # pytest 7 and 8 add it in their own pytest_load_initial_conftests, after us
    for path in old:
        if path in sys.path:
            sys.path.remove(path)
    for path in reversed([str(p) for p in config.getini("pythonpath")]):
        sys.path.insert(0, path)
