"""The plugin-tree model: discovery, builds (with the rsync shim), packaging."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.problems import SourceError

BUILD_PY = """
from subprocess import check_call

@target('1.0', 'acme-phone-1.0')
def build_1_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '*.btpl', 'common/', path])
    with open(path + '/templates/M1.tpl', 'wb') as f:
        check_call(['sed', 's/#MODEL#/M1/', 'common/templates/model.tpl.btpl'], stdout=f)
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1_0/', path])

@target('2.0', 'acme-phone-2.0', std_dirs=False)
def build_2_0(path):
    import os
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '*.btpl', 'common/', path])
    with open(path + '/templates/M1.tpl', 'wb') as f:
        check_call(['sed', 's/#MODEL#/M1/', 'common/templates/model.tpl.btpl'], stdout=f)
    os.makedirs(os.path.join(path, 'var', 'tftpboot'))
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v2_0/', path])
"""


# A minimal but real provd plugin: loads in provd, configures a device from a template.
ENTRY_PY = """
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.util import format_mac

MODELS = ['M1']
VERSION = '{version}'


class AcmeAssociator(BasePgAssociator):
    def _do_associate(self, vendor, model, version):
        if vendor == 'Acme':
            return DeviceSupport.EXACT if model in MODELS else DeviceSupport.PROBABLE
        return DeviceSupport.IMPROBABLE


class AcmePlugin(StandardPlugin):
    IS_PLUGIN = True
    pg_associator = AcmeAssociator()

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl_helper = TemplatePluginHelper(plugin_dir)
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)

    def _path(self, device):
        return self._tftpboot_dir + '/' + format_mac(device['mac'], separator='') + '.xml'

    def configure(self, device, raw_config):
        tpl = self._tpl_helper.get_dev_template(None, device)
        self._tpl_helper.dump(tpl, raw_config, self._path(device))

    def deconfigure(self, device):
        import os
        os.remove(self._path(device))
"""

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<settings model="#MODEL#">
{%- for n, line in sip_lines.items() %}
  <line n="{{ n }}" user="{{ line.username|e }}" name="{{ line.display_name|e }}"
        password="{{ line.password|e }}" registrar="{{ line.registrar_ip }}"/>
{%- endfor %}
</settings>
"""


def make_family(root: Path, name: str = "acme_phone", build_py: str = BUILD_PY) -> Path:
    fam = root / name
    (fam / "common" / "templates").mkdir(parents=True)
    (fam / "common" / "common.py").write_text("X = 1\n")
    (fam / "common" / "templates" / "model.tpl.btpl").write_text(TEMPLATE)
    (fam / "common" / ".hidden").write_text("never copied\n")
    for version in ("1.0", "2.0"):
        vdir = fam / f"v{version.replace('.', '_')}"
        vdir.mkdir()
        caps = {"lines": 2, "function_keys": 0, "type": "deskphone", "protocol": "sip"}
        info = {"version": version, "description": "d", "capabilities": {}}
        info["capabilities"] = {f"Acme, M1, {version}": caps}
        (vdir / "plugin-info").write_text(json.dumps(info, indent=4))
        (vdir / "entry.py").write_text(ENTRY_PY.replace("{version}", version))
    (fam / "build.py").write_text(build_py)
    return fam


@pytest.fixture(params=["rsync", "shim"])
def build_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    if request.param == "rsync" and not shutil.which("rsync"):
        pytest.skip("real rsync not installed")
    if request.param == "shim":
        monkeypatch.setenv("PYTEST_PROVD_RSYNC_SHIM", "1")
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    return request.param


def test_discover_reads_targets_lines_and_source_dirs(tmp_path: Path) -> None:
    make_family(tmp_path)
    found = tree.discover(tmp_path)
    assert list(found.targets) == ["acme-phone-1.0", "acme-phone-2.0"]
    first = found.targets["acme-phone-1.0"]
    assert first.target_id == "1.0"
    assert first.build_py_line == 4
    assert first.source_dir == tmp_path / "acme_phone" / "v1_0"
    assert found.families["acme_phone"].layout == "current"
    assert found.targets["acme-phone-2.0"].std_dirs is False


def test_legacy_layout_family_name(tmp_path: Path) -> None:
    make_family(tmp_path, "acme-phone")
    assert tree.discover(tmp_path).families["acme-phone"].layout == "legacy"


def test_build_py_errors_name_file_and_line(tmp_path: Path) -> None:
    make_family(tmp_path, build_py="x = 1\n\nraise RuntimeError('boom')\n")
    found = tree.discover(tmp_path)
    assert not found.targets
    (problem,) = found.errors
    assert problem.line == 3
    assert "RuntimeError: boom" in problem.message
    assert str(problem.path).endswith("build.py")


def test_syntax_error_in_build_py(tmp_path: Path) -> None:
    make_family(tmp_path, build_py="def broken(:\n")
    (problem,) = tree.discover(tmp_path).errors
    assert problem.line == 1 and "does not compile" in problem.message


def test_duplicate_target_is_an_error(tmp_path: Path) -> None:
    dup = BUILD_PY.replace("@target('2.0', 'acme-phone-2.0'", "@target('1.0', 'acme-phone-x'")
    make_family(tmp_path, build_py=dup)
    (problem,) = tree.discover(tmp_path).errors
    assert "redefined" in problem.message and problem.line == 11


def test_select_globs_all_and_did_you_mean(tmp_path: Path) -> None:
    make_family(tmp_path)
    found = tree.discover(tmp_path)
    assert [t.plugin_id for t in found.select(["acme-phone-2*"])] == ["acme-phone-2.0"]
    assert len(found.select(["all"])) == 2
    with pytest.raises(tree.UnknownTargetError, match=r"did you mean acme-phone-1\.0\?"):
        found.select(["acme-phone-1.01"])


def test_build_copies_common_and_version_and_std_dirs(tmp_path: Path, build_env: str) -> None:
    make_family(tmp_path / "plugins")
    target = tree.discover(tmp_path / "plugins").targets["acme-phone-1.0"]
    out = tree.build(target, tmp_path / "out")
    assert out == tmp_path / "out" / "acme-phone-1.0"
    assert '<settings model="M1">' in (out / "templates" / "M1.tpl").read_text()
    assert not (out / "templates" / "model.tpl.btpl").exists()
    assert not (out / ".hidden").exists()
    assert "VERSION = '1.0'" in (out / "entry.py").read_text()
    for std in tree.STD_DIRS:
        assert (out / std).is_dir()
    other = tree.build(tree.discover(tmp_path / "plugins").targets["acme-phone-2.0"], tmp_path)
    assert (other / "var" / "tftpboot").is_dir() and not (other / "var" / "cache").exists()


def test_build_cache_reused_and_invalidated(tmp_path: Path, build_env: str) -> None:
    fam = make_family(tmp_path / "plugins")
    target = tree.discover(tmp_path / "plugins").targets["acme-phone-1.0"]
    first = tree.build_cached(target)
    assert tree.build_cached(target) == first
    (fam / "common" / "common.py").write_text("X = 2\n")
    second = tree.build_cached(target)
    assert second != first
    assert (second / "common.py").read_text() == "X = 2\n"


def test_build_failure_names_build_py_line_and_output(tmp_path: Path, build_env: str) -> None:
    bad = BUILD_PY.replace("'v1_0/'", "'v9_9/'")
    make_family(tmp_path / "plugins", build_py=bad)
    target = tree.discover(tmp_path / "plugins").targets["acme-phone-1.0"]
    with pytest.raises(tree.BuildError) as info:
        tree.build(target, tmp_path / "out")
    assert info.value.line == 4
    assert "v9_9" in str(info.value)


def test_package_and_plugins_db(tmp_path: Path, build_env: str) -> None:
    make_family(tmp_path / "plugins")
    found = tree.discover(tmp_path / "plugins")
    server = tree.make_plugin_server(found.select(["all"]), tmp_path / "server")
    db = json.loads((server / "plugins.db").read_text())
    assert set(db) == {"acme-phone-1.0", "acme-phone-2.0"}
    entry = db["acme-phone-1.0"]
    pkg = server / entry["filename"]
    assert entry["filename"] == "acme-phone-1.0-1.0.tar.bz2"
    assert entry["dsize"] == pkg.stat().st_size
    import hashlib

    assert entry["sha1sum"] == hashlib.sha1(pkg.read_bytes()).hexdigest()
    with tarfile.open(pkg) as tar:
        assert {n.split("/")[0] for n in tar.getnames()} == {"acme-phone-1.0"}
    # Reproducible: packaging the same build twice gives the same bytes.
    again = tree.package(tree.build(found.targets["acme-phone-1.0"], tmp_path / "b"), tmp_path)
    assert again.read_bytes() == pkg.read_bytes()


def test_plugins_db_keeps_newest_version(tmp_path: Path) -> None:
    for version in ("0.9", "0.10"):
        plugin = tmp_path / "p" / version / "acme"
        plugin.mkdir(parents=True)
        info = {"version": version, "description": "d", "capabilities": {}}
        (plugin / "plugin-info").write_text(json.dumps(info))
        tree.package(plugin, tmp_path / "server")
    db = json.loads(tree.write_plugins_db(tmp_path / "server").read_text())
    assert db["acme"]["version"] == "0.10"


def test_read_plugin_info_bad_json_has_line(tmp_path: Path) -> None:
    (tmp_path / "plugin-info").write_text('{\n  "version": "1",\n  oops\n}')
    with pytest.raises(SourceError, match=r"plugin-info:3: invalid JSON"):
        tree.read_plugin_info(tmp_path)


def test_find_plugins_dir(tmp_path: Path) -> None:
    make_family(tmp_path / "repo" / "plugins")
    assert tree.find_plugins_dir(tmp_path / "repo") == (tmp_path / "repo" / "plugins").resolve()
    assert tree.find_plugins_dir(tmp_path / "elsewhere") is None


def test_rsync_shim_imports_our_package_without_site_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shim puts the directory holding pytest_provd on sys.path, not the package itself."""
    monkeypatch.setenv("PYTEST_PROVD_RSYNC_SHIM", "1")
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    (shim_dir,) = tree.tool_path_prefix()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_text("x\n")
    # -S: no site-packages, so only the path the shim inserts can provide pytest_provd.
    proc = subprocess.run(
        [
            sys.executable,
            "-S",
            str(Path(shim_dir) / "rsync"),
            "-r",
            f"{tmp_path}/src/",
            str(tmp_path / "dst"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "dst" / "f").read_text() == "x\n"


def test_build_all_hashes_a_family_once_and_returns_its_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_provd.tree import batch

    make_family(tmp_path / "plugins")
    targets = list(tree.discover(tmp_path / "plugins").targets.values())
    assert len(targets) == 2
    cache = tmp_path / "cache"
    hashed: list[str] = []

    def counting(family: tree.Family) -> str:
        hashed.append(family.name)
        return tree.family_digest(family)

    monkeypatch.setattr(batch, "family_digest", counting)
    cold = batch.build_all(targets, cache_dir=cache)
    warm = batch.build_all(targets, cache_dir=cache)
    assert hashed == ["acme_phone", "acme_phone"]  # once per call, not once per target
    expected = {t.plugin_id: tree.build_cached(t, cache_dir=cache) for t in targets}
    assert cold == warm == expected
    assert all((path / "plugin-info").is_file() for path in warm.values())
