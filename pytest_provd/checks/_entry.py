"""Static reading of ``entry.py``: which models and firmware versions a plugin declares.

Nothing is executed.  Module-level assignments are evaluated with a tiny interpreter that
knows literals, names bound earlier, ``+`` on strings and lists, f-strings, comprehensions
over known values, ``sorted``/``list``/``tuple``/``dict`` and ``.keys()``.  Anything else
makes the name *unresolvable*, and the checks say so instead of guessing.  This is the one
reader of entry.py's models: the checks and the generated suite's per-model items both go
through it (:func:`pytest_provd.checks.entry_models`).

The declarations found in the real plugins repository are, by name:

* ``MODELS``: list/tuple/set of names, list of tuples (model first) or dict (keys);
* ``MODEL_VERSION``, ``MODEL_VERSIONS``, ``MODELS_VERSIONS``: ``{model: version}``;
* ``MODEL_INFO``: ``{model: {"version": ..., ...}}``;
* ``MODEL``: one model name; ``VERSION``: a version or a list of accepted versions.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_LIST_NAMES = ("MODELS",)
MODEL_MAP_NAMES = ("MODEL_VERSIONS", "MODELS_VERSIONS", "MODEL_VERSION", "MODEL_INFO")
INTERESTING = (*MODEL_LIST_NAMES, *MODEL_MAP_NAMES, "MODEL", "VERSION")


class Unresolvable(Exception):
    """An expression the static evaluator does not follow."""

    def __init__(self, node: ast.AST, why: str) -> None:
        super().__init__(why)
        self.line: int | None = getattr(node, "lineno", None)
        self.why = why


@dataclass
class EntryInfo:
    """What ``entry.py`` declares, with the line of each declaration."""

    path: Path
    syntax_error: tuple[str, int | None] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    unresolved: dict[str, Unresolvable] = field(default_factory=dict)
    models: list[str] | None = None
    models_name: str | None = None
    model_versions: dict[str, str] = field(default_factory=dict)
    versions: list[str] = field(default_factory=list)
    version_name: str | None = None
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)

    def version_for(self, model: str) -> list[str]:
        """The firmware versions entry.py accepts for *model* ([] when it does not say)."""
        if model in self.model_versions:
            return [self.model_versions[model]]
        return list(self.versions)

    def declares_models(self) -> bool:
        """True when entry.py names its models (statically or not)."""
        return self.models is not None or any(
            name in self.unresolved for name in (*MODEL_LIST_NAMES, *MODEL_MAP_NAMES, "MODEL")
        )


def read_entry(path: Path) -> EntryInfo:
    """Parse *path* and extract models and versions; never raises on bad content."""
    info = EntryInfo(path)
    try:
        source = path.read_text(encoding="utf-8")
        module = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        info.syntax_error = (exc.msg, exc.lineno)
        return info
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        info.syntax_error = (str(exc), None)
        return info
    env: dict[str, Any] = {}
    for node in module.body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            continue
        try:
            result = _eval(value, env)
        except Unresolvable as exc:
            for name in names:
                env.pop(name, None)
                info.unresolved[name] = exc
                info.lines[name] = node.lineno
            continue
        for name in names:
            env[name] = result
            info.unresolved.pop(name, None)
            info.lines[name] = node.lineno
    info.values = {name: env[name] for name in INTERESTING if name in env}
    _interpret(info)
    return info


def _interpret(info: EntryInfo) -> None:
    values = info.values
    for name in MODEL_MAP_NAMES:
        if name not in values:
            continue
        mapping = values[name]
        if not isinstance(mapping, dict):
            info.problems.append((name, info.lines.get(name), "is not a dict of model: version"))
            continue
        for model, version in mapping.items():
            if isinstance(version, dict):
                version = version.get("version")
            if isinstance(version, str):
                info.model_versions[str(model)] = version
        if info.models is None:
            info.models = [str(m) for m in mapping]
            info.models_name = name
    if "MODELS" in values:
        models = _model_names(values["MODELS"])
        if models is None:
            info.problems.append(
                ("MODELS", info.lines.get("MODELS"), "is not a list, tuple, set or dict of names")
            )
        else:
            info.models = models
            info.models_name = "MODELS"
    if info.models is None and isinstance(values.get("MODEL"), str):
        info.models = [values["MODEL"]]
        info.models_name = "MODEL"
    version = values.get("VERSION")
    if isinstance(version, str):
        info.versions = [version]
        info.version_name = "VERSION"
    elif isinstance(version, list | tuple) and all(isinstance(v, str) for v in version):
        info.versions = [str(v) for v in version]
        info.version_name = "VERSION"
    elif version is not None:
        info.problems.append(("VERSION", info.lines.get("VERSION"), "is not a string"))


def _model_names(value: Any) -> list[str] | None:
    if isinstance(value, dict):
        value = list(value)
    if not isinstance(value, list | tuple | set | frozenset):
        return None
    out = []
    for item in value:
        if isinstance(item, tuple | list) and item and isinstance(item[0], str):
            out.append(item[0])
        elif isinstance(item, str):
            out.append(item)
        else:
            return None
    return sorted(out) if isinstance(value, set | frozenset) else out


_CALLS: dict[str, Callable[[Any], Any]] = {
    "sorted": sorted,
    "list": list,
    "tuple": tuple,
    "set": set,
    "dict": dict,
}


def _eval(node: ast.expr, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        items = [_eval(elt, env) for elt in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(items)
        if isinstance(node, ast.Set):
            return set(items)
        return items
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise Unresolvable(node, "uses ** unpacking")
            out[_eval(key, env)] = _eval(value, env)
        return out
    if isinstance(node, ast.Name):
        if node.id in env:
            return env[node.id]
        raise Unresolvable(node, f"uses {node.id!r}, which is not a literal assigned earlier")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _eval(node.left, env), _eval(node.right, env)
        if type(left) is type(right) and isinstance(left, str | list | tuple):
            return left + right
        raise Unresolvable(node, "adds values of different types")
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion != -1:
                    raise Unresolvable(node, "uses an f-string format spec")
                parts.append(str(_eval(part.value, env)))
            else:
                parts.append(str(_eval(part, env)))
        return "".join(parts)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return _comprehension(node, env)
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _CALLS and len(node.args) == 1:
            return _CALLS[func.id](_eval(node.args[0], env))
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("keys", "values", "items")
            and not node.args
        ):
            obj = _eval(func.value, env)
            if isinstance(obj, dict):
                return list(getattr(obj, func.attr)())
    raise Unresolvable(node, f"is computed ({ast.unparse(node)[:60]})")


def _comprehension(
    node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp, env: dict[str, Any]
) -> Any:
    if len(node.generators) != 1 or node.generators[0].is_async:
        raise Unresolvable(node, "is a comprehension with several loops")
    gen = node.generators[0]
    iterable = _eval(gen.iter, env)
    if isinstance(iterable, dict):
        iterable = list(iterable)
    if not isinstance(iterable, list | tuple | set):
        raise Unresolvable(node, "loops over something that is not a literal sequence")
    results: list[Any] = []
    for item in iterable:
        local = dict(env)
        _bind(gen.target, item, local, node)
        if not all(_eval(cond, local) for cond in gen.ifs):
            continue
        if isinstance(node, ast.DictComp):
            results.append((_eval(node.key, local), _eval(node.value, local)))
        else:
            results.append(_eval(node.elt, local))
    if isinstance(node, ast.DictComp):
        return dict(results)
    if isinstance(node, ast.SetComp):
        return set(results)
    return results


def _bind(target: ast.expr, value: Any, env: dict[str, Any], node: ast.AST) -> None:
    if isinstance(target, ast.Name):
        env[target.id] = value
    elif isinstance(target, ast.Tuple) and isinstance(value, tuple | list):
        if len(target.elts) != len(value):
            raise Unresolvable(node, "unpacks a tuple of the wrong length")
        for sub, item in zip(target.elts, value, strict=True):
            _bind(sub, item, env, node)
    else:
        raise Unresolvable(node, "binds a loop target it cannot follow")
