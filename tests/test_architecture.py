"""The import structure: no cycles between modules, emulators below the harness, small rooms.

Imports are read from the source (top-level, inside functions and under ``TYPE_CHECKING``
alike), so a cycle hidden in a lazy import is still a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pytest_provd", "emulators")
# The compat namespace is plugin-facing code imported as ``wazo_provd``, not as our modules.
EXCLUDED = ("pytest_provd/compat/_shim",)
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(EXCLUDED):
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ours that importing *name* executes last (None: not ours)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Modules of ours that *module* imports anywhere in its source."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = {module: imports_of(module) for module in MODULES}
    cycles = _cycles(graph)
    detail = [
        " <-> ".join(c)
        + "\n    "
        + "\n    ".join(f"{m} -> {', '.join(sorted(graph[m] & set(c)))}" for m in c)
        for c in cycles
    ]
    assert not cycles, "import cycles:\n" + "\n".join(detail)


# What phones may use of the harness: leaf modules that import nothing of ours.
EMULATOR_MAY_IMPORT = {
    "pytest_provd",
    "pytest_provd.net",
    "pytest_provd.versions",
    "pytest_provd.firmware",
    "pytest_provd.firmware.image",
}


def test_emulators_sit_below_the_harness() -> None:
    wrong = {
        module: sorted(
            t
            for t in imports_of(module)
            if t.startswith("pytest_provd") and t not in EMULATOR_MAY_IMPORT
        )
        for module in MODULES
        if module.startswith("emulators")
    }
    assert not {m: t for m, t in wrong.items() if t}
    for leaf in EMULATOR_MAY_IMPORT:
        ours = {t for t in imports_of(leaf) if t not in ("pytest_provd", "pytest_provd.firmware")}
        assert not ours, f"{leaf} must stay a leaf, imports {ours}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_oversized(module: str) -> None:
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)}: {lines} lines"


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("Layout (one room per concern")
    return readme[start : readme.index("Test data in `tests/data/`", start)]


def test_readme_layout_names_every_room_and_only_existing_ones() -> None:
    section = _layout_section()
    named = set(re.findall(r"`(?:pytest_provd/)?([a-z_]+(?:/|\.py))`", section))
    named -= {f"{package}/" for package in PACKAGES}
    rooms = set()
    for package in PACKAGES:
        for child in (ROOT / package).iterdir():
            if child.name.startswith(("_", ".")) or child.name == "py.typed":
                continue
            if child.is_dir() and (child / "__init__.py").exists():
                rooms.add(f"{child.name}/")
            elif child.suffix == ".py":
                rooms.add(child.name)
    vendors = {name for name in rooms if (ROOT / "emulators" / name).is_file()}
    vendors -= {"phone.py", "registry.py", "factory.py"}
    # Vendor modules are named as a group ("one module per vendor").
    assert sorted(rooms - vendors - named) == [], "rooms the README's layout does not name"
    assert sorted(named - rooms) == [], "names in the README's layout that do not exist"
