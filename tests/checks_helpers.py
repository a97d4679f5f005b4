"""Tiny plugin families written on the fly for the static-check tests (no tests here)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from pytest_provd import tree
from pytest_provd.checks import CheckContext

BUILD_PY = """\
import shutil


def _copy(src, path):
    shutil.copytree(src, path, dirs_exist_ok=True)

{targets}
"""

TARGET = """
@target({tid!r}, {pid!r})
def build_{fn}(path):
    _copy('common', path)
    _copy({src!r}, path)
"""

MODELS = ("A100", "A200", "B300")


def plugin_info(version: str = "1.0.0", fw: str = "2.1.0", models: tuple[str, ...] = MODELS) -> str:
    """A valid plugin-info for *models* on firmware *fw*."""
    caps = {
        f"Acme, {model}, {fw}": {
            "lines": 2,
            "high_availability": True,
            "function_keys": 4,
            "expansion_modules": 0,
            "switchboard": False,
            "type": "deskphone",
            "protocol": "sip",
        }
        for model in models
    }
    data = {"version": version, "description": f"Acme {fw}", "capabilities": caps}
    return json.dumps(data, indent=4) + "\n"


def entry_py(fw: str = "2.1.0", models: tuple[str, ...] = MODELS) -> str:
    """An entry.py declaring *models* and VERSION *fw*."""
    listed = "".join(f"    '{m}',\n" for m in models)
    return (
        "common = {}\n"
        "execfile_('common.py', common)\n\n"
        f"MODELS = [\n{listed}]\n"
        f"VERSION = '{fw}'\n\n\n"
        "class AcmePlugin(common['Base']):\n"
        "    IS_PLUGIN = True\n"
    )


def pkgs_db(fw: str = "2.1.0", models: tuple[str, ...] = MODELS) -> str:
    """A pkgs.db with one firmware package per model."""
    out = []
    for model in models:
        out.append(
            f"[pkg_{model.lower()}-fw]\ndescription: Firmware for {model}\nversion: {fw}\n"
            f"files: {model.lower()}-fw\ninstall: acme-fw\n"
        )
    for model in models:
        out.append(
            f"[file_{model.lower()}-fw]\nurl: http://example.com/{model}-{fw}.bin\n"
            f"size: 4\nsha1sum: a94a8fe5ccb19ba61c4c0873d391e987982fbbd3\n"
        )
    out.append("[install_acme-fw]\na-b: cp $FILE1 firmware/\n")
    return "\n".join(out)


def make_family(
    plugins: Path, versions: tuple[str, ...] = ("2.1.0",), name: str = "wazo_acme"
) -> Path:
    """``plugins/<name>`` with ``common/`` and one target per firmware version."""
    family = plugins / name
    templates = family / "common" / "templates"
    templates.mkdir(parents=True)
    (family / "common" / "common.py").write_text("Base = object\n")
    (templates / "base.tpl").write_text(
        "{% block main %}user={{ sip_lines['1']['username'] }}{% endblock %}\n"
    )
    (templates / "sub").mkdir()
    (templates / "sub" / "extra.tpl").write_text("{% include 'base.tpl' %}\n")
    for model in MODELS:
        (templates / f"{model}.tpl").write_text(
            "{% extends 'base.tpl' %}\n{% block main %}" + model + "{% endblock %}\n"
        )
    targets = []
    for fw in versions:
        src = "v" + fw.replace(".", "_")
        vdir = family / src
        (vdir / "pkgs").mkdir(parents=True)
        (vdir / "entry.py").write_text(entry_py(fw))
        (vdir / "plugin-info").write_text(plugin_info(fw=fw))
        (vdir / "pkgs" / "pkgs.db").write_text(pkgs_db(fw))
        fn = fw.replace(".", "_")
        targets.append(TARGET.format(tid=fw, pid=f"wazo-acme-{fw}", fn=fn, src=src))
    (family / "build.py").write_text(BUILD_PY.format(targets="".join(targets)))
    return family


def context(plugins: Path, plugin_id: str, **kwargs: object) -> CheckContext:
    """A fresh CheckContext for *plugin_id* of the tree under *plugins*."""
    found = tree.discover(plugins)
    assert not found.errors, found.errors
    return CheckContext(found.targets[plugin_id], **kwargs)  # type: ignore[arg-type]


def edit(path: Path, old: str, new: str) -> None:
    """Replace *old* (which must occur) by *new* in *path*."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def dedent(text: str) -> str:
    """textwrap.dedent, re-exported for the tests."""
    return textwrap.dedent(text)
