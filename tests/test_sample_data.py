"""Sanity of the sample plugin families under tests/data/{current,legacy}/plugins.

Self-contained on purpose: only the standard library and jinja2, nothing from pytest_provd,
so that a broken harness module cannot hide a broken sample (and the other way round).
See tests/data/README.md for what the samples contain.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

DATA = Path(__file__).parent / "data"
LAYOUTS = ("current", "legacy")
EXPECTED_PLUGINS = {
    "current": {
        "wazo-snom-10.1.200.1",
        "wazo-snom-10.1.215.13",
        "wazo-cisco-spa-7.5.5",
        "wazo-cisco-spa-7.6.2",
        "wazo-aastra-4.3.0",
        "wazo-aastra-6.4.0-SP2",
    },
    "legacy": {
        "wazo-snom-8.7.3.25",
        "wazo-snom-8.7.3.25.5",
        "wazo-cisco-spa-7.5.4",
        "wazo-cisco-spa-7.5.5",
        "wazo-aastra-3.3.1-SP4",
        "wazo-aastra-4.2.0",
    },
}


# --- synthetic firmware (the recipe of tests/data/README.md) ------------------------------


def synthetic_blob(name: str, version: str, size: int) -> bytes:
    """*size* bytes: the line ``pytest-provd synthetic firmware: <name> version <version>``
    repeated, the last repetition cut short."""
    line = f"pytest-provd synthetic firmware: {name} version {version}\n".encode()
    return (line * (size // len(line) + 1))[:size]


def synthetic_zip(members: dict[str, dict[str, Any]]) -> bytes:
    """A reproducible zip (stored, 1980-01-01 timestamps, mode 0644) of synthetic blobs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            member = members[name]
            zf.writestr(info, synthetic_blob(name, member["version"], member["size"]))
    return buf.getvalue()


def synthetic_file(name: str, entry: dict[str, Any]) -> bytes:
    if "members" in entry:
        return synthetic_zip(entry["members"])
    return synthetic_blob(name, entry["version"], entry["size"])


# --- reading the trees without the harness -------------------------------------------------


def families(layout: str) -> list[Path]:
    root = DATA / layout / "plugins"
    return sorted(p for p in root.iterdir() if (p / "build.py").is_file())


def read_targets(family: Path) -> list[tuple[str, str, str, list[str]]]:
    """(target id, plugin id, function name, string constants of the function) per @target."""
    source = (family / "build.py").read_text(encoding="utf-8")
    declared: list[tuple[str, str, str]] = []

    def target(
        target_id: str, plugin_id: str, std_dirs: bool = True
    ) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
        def register(fun: Callable[[str], None]) -> Callable[[str], None]:
            declared.append((target_id, plugin_id, fun.__name__))
            return fun

        return register

    exec(compile(source, str(family / "build.py"), "exec"), {"target": target})
    strings: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            strings[node.name] = [
                sub.value
                for sub in ast.walk(node)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            ]
    return [(tid, pid, name, strings.get(name, [])) for tid, pid, name in declared]


def version_dir_of(family: Path, strings: list[str]) -> Path:
    """The version directory a target rsyncs: a referenced subdirectory holding entry.py."""
    found = [
        family / s.rstrip("/")
        for s in strings
        if s.endswith("/") and s.rstrip("/") != "common" and (family / s.rstrip("/")).is_dir()
    ]
    found = [p for p in found if (p / "entry.py").is_file()]
    assert len(found) == 1, f"{family.name}: expected one version dir, got {found}"
    return found[0]


def entry_values(entry_py: Path) -> dict[str, Any]:
    """Module-level assignments of entry.py, evaluated without builtins (statically known
    expressions only: literals, names bound earlier, comprehensions, '+')."""
    env: dict[str, Any] = {"__builtins__": {}}
    for node in ast.parse(entry_py.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        name = node.targets[0]
        if not isinstance(name, ast.Name) or not name.id.isupper():
            continue
        code = compile(ast.Expression(node.value), str(entry_py), "eval")
        env[name.id] = eval(code, env)  # our own test data, evaluated without builtins
    env.pop("__builtins__")
    return env


def entry_model_versions(entry_py: Path) -> dict[str, str]:
    values = entry_values(entry_py)
    for name in ("MODEL_VERSIONS", "MODEL_VERSION"):
        if name in values:
            return dict(values[name])
    return {model: values["VERSION"] for model in values["MODELS"]}


def all_targets() -> list[tuple[str, Path, str, str, Path]]:
    rows = []
    for layout in LAYOUTS:
        for family in families(layout):
            for tid, pid, _, strings in read_targets(family):
                rows.append((layout, family, tid, pid, version_dir_of(family, strings)))
    return rows


TARGETS = all_targets()
TARGET_IDS = [row[3] for row in TARGETS]


def parse_pkgs_db(path: Path) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[(\w+[-\w.]*)\]", line)
        if header:
            assert header.group(1) not in sections, f"{path}: duplicate [{header.group(1)}]"
            current = sections.setdefault(header.group(1), {})
            continue
        assert current is not None, f"{path}: option outside a section: {raw!r}"
        key, sep, value = line.partition(":")
        assert sep, f"{path}: not 'key: value': {raw!r}"
        current[key.strip()] = value.strip()
    return sections


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plugin_ids(layout: str) -> None:
    ids = {pid for lay, _, _, pid, _ in TARGETS if lay == layout}
    assert ids == EXPECTED_PLUGINS[layout]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layout_names(layout: str) -> None:
    for family in families(layout):
        if layout == "legacy":
            assert "-" in family.name
        else:
            assert family.name.isidentifier()
        assert (family / "common" / "common.py").is_file()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_build_py_compiles(layout: str) -> None:
    for family in families(layout):
        compile((family / "build.py").read_text(encoding="utf-8"), str(family), "exec")


@pytest.mark.parametrize(("layout", "family", "tid", "pid", "vdir"), TARGETS, ids=TARGET_IDS)
def test_target_version_dir(layout: str, family: Path, tid: str, pid: str, vdir: Path) -> None:
    assert pid.endswith("-" + tid)
    expected = tid if layout == "legacy" else "v" + re.sub(r"[.-]", "_", tid)
    assert vdir.name == expected
    for name in ("entry.py", "plugin-info", "pkgs/pkgs.db"):
        assert (vdir / name).is_file(), f"{vdir / name} is missing"


@pytest.mark.parametrize(("layout", "family", "tid", "pid", "vdir"), TARGETS, ids=TARGET_IDS)
def test_plugin_info_matches_entry(
    layout: str, family: Path, tid: str, pid: str, vdir: Path
) -> None:
    info = json.loads((vdir / "plugin-info").read_text(encoding="utf-8"))
    assert {"version", "description", "capabilities"} <= set(info)
    assert re.fullmatch(r"\d+(\.\d+)+", info["version"])
    model_versions = entry_model_versions(vdir / "entry.py")
    caps = {}
    for key in info["capabilities"]:
        vendor, model, version = (part.strip() for part in key.split(","))
        caps[model] = version
        assert vendor in {"Snom", "Cisco", "Aastra"}
    assert caps == model_versions
    # the target id names the firmware: 10.1.215.13, 7.5.5, 6.4.0-SP2 for 6.4.0.2550
    release_match = re.match(r"[\d.]+\d", tid)
    assert release_match is not None
    release = release_match.group(0)
    assert all(v == release or v.startswith(release + ".") for v in caps.values())


@pytest.mark.parametrize(("layout", "family", "tid", "pid", "vdir"), TARGETS, ids=TARGET_IDS)
def test_pkgs_db(layout: str, family: Path, tid: str, pid: str, vdir: Path) -> None:
    sections = parse_pkgs_db(vdir / "pkgs" / "pkgs.db")
    manifest = json.loads((DATA / layout / "synthetic-firmware.json").read_text())["files"]
    versions = set(entry_model_versions(vdir / "entry.py").values())
    pkgs = {k[4:]: v for k, v in sections.items() if k.startswith("pkg_")}
    files = {k[5:]: v for k, v in sections.items() if k.startswith("file_")}
    installs = {k[8:]: v for k, v in sections.items() if k.startswith("install_")}
    assert pkgs and files and installs
    used_files, used_installs = set(), set()
    for name, pkg in pkgs.items():
        assert pkg["version"] in versions, f"pkg_{name}"
        used_files.update(pkg["files"].split())
        used_installs.add(pkg["install"].split()[0])
    assert used_files == set(files)
    assert used_installs == set(installs)
    for name, f in files.items():
        assert f["url"].startswith("http://firmware.example.invalid/"), f"file_{name}"
        local = f.get("filename") or f["url"].rsplit("/", 1)[1]
        entry = manifest[local]
        assert int(f["size"]) == entry["size"] and f["sha1sum"] == entry["sha1"], f"file_{name}"
    for name, steps in installs.items():
        for step, command in steps.items():
            assert re.fullmatch(r"[a-z]-[a-z]", step), f"install_{name}: {step}"
            assert command.split()[0] in {"cp", "unzip", "include"}, f"install_{name}: {command}"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_synthetic_firmware_manifest(layout: str) -> None:
    manifest = json.loads((DATA / layout / "synthetic-firmware.json").read_text())["files"]
    for name, entry in manifest.items():
        blob = synthetic_file(name, entry)
        assert len(blob) == entry["size"], name
        assert hashlib.sha1(blob).hexdigest() == entry["sha1"], name
        assert entry["url"].rsplit("/", 1)[1] == name


@pytest.mark.parametrize("layout", LAYOUTS)
def test_templates_parse(layout: str) -> None:
    env = jinja2.Environment()
    found = 0
    for path in sorted((DATA / layout / "plugins").rglob("*")):
        if path.suffix in (".tpl", ".btpl"):
            env.parse(path.read_text(encoding="utf-8"), name=path.name, filename=str(path))
            found += 1
    assert found >= 10


@pytest.mark.parametrize("layout", LAYOUTS)
def test_per_model_templates(layout: str) -> None:
    """Snom and Aastra keep <model>.tpl in common/templates, Cisco SPA in the version dir."""
    for lay, family, _, _, vdir in TARGETS:
        if lay != layout:
            continue
        for model in entry_model_versions(vdir / "entry.py"):
            candidates = [
                family / "common" / "templates" / f"{model}.tpl",
                vdir / "templates" / f"{model}.tpl",
            ]
            assert any(p.is_file() for p in candidates), f"{vdir.name}: no {model}.tpl"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_clean_room(layout: str) -> None:
    """Our own code and data: no upstream copyright or licence headers, no real firmware URLs."""
    for path in sorted((DATA / layout / "plugins").rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for marker in ("SPDX-License-Identifier", "Wazo Authors", "GNU General Public"):
            assert marker not in text, f"{path}: {marker}"
        assert "downloads.snom.com" not in text and "mitel.com" not in text, path


@pytest.mark.parametrize("layout", LAYOUTS)
def test_plugin_imports(layout: str) -> None:
    """Plugin code imports provd through its public names only (legacy: provd fallback)."""
    allowed = {
        "wazo_provd",
        "wazo_provd.devices.config",
        "wazo_provd.devices.pgasso",
        "wazo_provd.plugins",
        "wazo_provd.servers.http",
        "wazo_provd.servers.tftp.service",
        "wazo_provd.util",
        "twisted.internet",
        "__future__",
        "logging",
        "os",
        "os.path",
        "re",
        "xml.sax.saxutils",
    }
    for path in sorted((DATA / layout / "plugins").glob("*/common/common.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module)
            elif isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
        if layout == "legacy":
            modules = {re.sub(r"^provd\b", "wazo_provd", m) for m in modules}
        assert modules <= allowed, f"{path}: {sorted(modules - allowed)}"
