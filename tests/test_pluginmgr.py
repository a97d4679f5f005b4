"""PluginManager on small synthetic plugins: loading, serving, installing."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_provd.firmware import FIRMWARE_DIR_CFG
from pytest_provd.provd.plugins.manager import (
    HttpRequestInfo,
    PluginConfigError,
    PluginInstallError,
    PluginLoadError,
    PluginManager,
    TftpRequestInfo,
)
from pytest_provd.provd.plugins.rawconfig import (
    apply_defaults,
    sample_common_raw_config,
    sample_raw_config,
)

COMMON = """
import os
from wazo_provd import plugins, tzinform
from wazo_provd.devices.config import RawConfigError
from wazo_provd.devices.ident import RequestType
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport
from wazo_provd.plugins import FetchfwPluginHelper, StandardPlugin, TemplatePluginHelper
from wazo_provd.servers.http import HTTPNoListingFileService
from wazo_provd.servers.tftp.service import TFTPFileService
from wazo_provd.util import format_mac, norm_mac
from twisted.internet import defer


class Extractor:
    def extract(self, request, request_type):
        if request_type == RequestType.HTTP:
            ua = request.getHeader(b'User-Agent') or b''
            if not ua.startswith(b'Acme'):
                return defer.succeed(None)
            return defer.succeed({'vendor': 'Acme', 'model': ua.split(b'/')[1].decode()})
        if request_type == RequestType.TFTP:
            name = request['packet']['filename'].decode()
            return defer.succeed({'vendor': 'Acme'} if name.startswith('acme') else None)
        opt = request['options'].get(60)
        return defer.succeed({'vendor': 'Acme', 'model': opt} if opt else None)


class Assoc(BasePgAssociator):
    def _do_associate(self, vendor, model, version):
        if vendor != 'Acme':
            return DeviceSupport.IMPROBABLE
        return DeviceSupport.EXACT if model == 'A1' else DeviceSupport.PROBABLE


class BaseAcmePlugin(StandardPlugin):
    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tpl = TemplatePluginHelper(plugin_dir)
        self.services = FetchfwPluginHelper(plugin_dir).services()
        self.http_service = HTTPNoListingFileService(self._tftpboot_dir)
        self.tftp_service = TFTPFileService(self._tftpboot_dir)
        self.seen_spec = spec_cfg

    http_dev_info_extractor = Extractor()
    tftp_dev_info_extractor = Extractor()
    dhcp_dev_info_extractor = Extractor()
    pg_associator = Assoc()

    def _name(self, device):
        return format_mac(device['mac'], separator='', uppercase=True) + '.cfg'

    def configure_common(self, raw_config):
        tpl = self._tpl.get_template('common.tpl')
        self._tpl.dump(tpl, raw_config, os.path.join(self._tftpboot_dir, 'common.cfg'))

    def configure(self, device, raw_config):
        if 'http_port' not in raw_config:
            raise RawConfigError('only support configuration via HTTP')
        tz = tzinform.get_timezone_info(raw_config['timezone'])
        raw_config['XX_tz'] = tz['utcoffset'].as_hours
        plugins.add_xivo_phonebook_url(raw_config, 'acme')
        tpl = self._tpl.get_dev_template(self._name(device), device)
        self._tpl.dump(tpl, raw_config, os.path.join(self._tftpboot_dir, self._name(device)))

    def deconfigure(self, device):
        os.remove(os.path.join(self._tftpboot_dir, self._name(device)))
"""

ENTRY = """
common = {}
execfile_('common.py', common)


class AcmePlugin(common['BaseAcmePlugin']):
    IS_PLUGIN = True
"""

BASE_TPL = (
    "line1={{ sip_lines['1']['username'] }} auth={{ sip_lines['2']['auth_username'] }}\n"
    "tz={{ XX_tz }} pb={{ XX_xivo_phonebook_url }} srtp={{ sip_srtp_mode }}\n"
)


def write_plugin(root: Path, plugin_id: str, version: str = "1.0") -> Path:
    pdir = root / plugin_id
    for sub in ("templates", "var/tftpboot", "var/templates", "var/cache", "var/installed", "pkgs"):
        (pdir / sub).mkdir(parents=True, exist_ok=True)
    info = {
        "version": version,
        "description": "Acme test plugin",
        "description_fr": "Plugin de test Acme",
        "capabilities": {"Acme, A1, 1.0": {"sip.lines": 2}},
    }
    contents = {
        "plugin-info": json.dumps(info, indent=2),
        "entry.py": ENTRY,
        "common.py": COMMON,
        "templates/base.tpl": BASE_TPL,
        "templates/common.tpl": "server={{ ip }}:{{ http_port }}\n",
    }
    for name, text in contents.items():
        (pdir / name).write_text(text)
    return pdir


DEVICE = {
    "id": "d1",
    "mac": "00:11:22:33:44:55",
    "ip": "127.0.0.5",
    "vendor": "Acme",
    "model": "A1",
    "version": "1.0",
    "config": "c1",
    "configured": False,
}


@pytest.fixture
def manager(tmp_path: Path) -> PluginManager:
    plugins_dir = tmp_path / "plugins"
    write_plugin(plugins_dir, "acme-1.0")
    return PluginManager(
        plugins_dir, gen_cfg={"proxies": {}}, spec_cfg={"acme-1.0": {"username": "u"}}
    )


def test_load_configure_serve(manager: PluginManager) -> None:
    plugin = manager.load("acme-1.0")
    assert manager.loaded == {"acme-1.0": plugin}
    assert type(plugin.obj).__name__ == "AcmePlugin"
    assert plugin.obj.id == "acme-1.0"
    assert plugin.obj.seen_spec == {"username": "u"}
    plugin.configure_common(sample_common_raw_config())
    plugin.configure(dict(DEVICE), sample_raw_config())
    reply = plugin.serve_http(
        HttpRequestInfo("GET", "/001122334455.cfg", {}, {}, "127.0.0.5"), DEVICE
    )
    assert reply.status == 200
    assert reply.headers["Content-Length"] == str(len(reply.body))
    assert reply.body == (
        b"line1=alice1001 auth=bob1002\n"
        b"tz=-5 pb=http://127.0.0.1:9498/0.1/directories/input/default/acme?"
        b"xivo_user_uuid=12345678-1234-5678-9abc-def012345678 srtp=disabled"
    )
    assert plugin.serve_tftp(TftpRequestInfo("/common.cfg", "127.0.0.5", {}), DEVICE) == (
        b"server=127.0.0.1:8667"
    )
    assert plugin.serve_http(HttpRequestInfo("GET", "/", {}, {}, "127.0.0.5"), None).status == 403
    assert plugin.serve_http(HttpRequestInfo("GET", "/x", {}, {}, "127.0.0.5"), None).status == 404
    assert plugin.serve_http(HttpRequestInfo("PUT", "/c", {}, {}, "127.0.0.5"), None).status == 405
    with pytest.raises(FileNotFoundError):
        plugin.serve_tftp(TftpRequestInfo("../plugin-info", "127.0.0.5", {}), DEVICE)
    plugin.deconfigure(DEVICE)
    assert (
        plugin.serve_http(
            HttpRequestInfo("GET", "/001122334455.cfg", {}, {}, "127.0.0.5"), DEVICE
        ).status
        == 404
    )


def test_identify_and_support(manager: PluginManager) -> None:
    plugin = manager.load("acme-1.0")
    req = HttpRequestInfo("GET", "/x.cfg", {"mac": ["1"]}, {"User-Agent": "Acme/A1"}, "127.0.0.5")
    assert plugin.identify_http(req) == {"vendor": "Acme", "model": "A1"}
    other = HttpRequestInfo("GET", "/x.cfg", {}, {"User-Agent": "Other"}, "127.0.0.5")
    assert plugin.identify_http(other) is None
    assert plugin.identify_tftp(TftpRequestInfo("acme.cfg", "127.0.0.5", {})) == {"vendor": "Acme"}
    assert plugin.identify_tftp(TftpRequestInfo("x.cfg", "127.0.0.5", {})) is None
    dhcp = {"ip": "127.0.0.5", "mac": "00:11:22:33:44:55", "options": {60: b"A1"}}
    assert plugin.identify_dhcp(dhcp) == {"vendor": "Acme", "model": "A1"}
    assert plugin.support({"vendor": "Acme", "model": "A1"}) == 600
    assert plugin.support({"vendor": "Acme", "model": "Z"}) == 300
    assert plugin.support({}) == 200
    assert manager.associate({"vendor": "Acme", "model": "Z"}) == "acme-1.0"
    assert manager.associate({"vendor": "Other"}) is None


def test_raw_config_error_is_wrapped(manager: PluginManager) -> None:
    plugin = manager.load("acme-1.0")
    with pytest.raises(PluginConfigError, match="only support configuration via HTTP") as exc:
        plugin.configure(dict(DEVICE), sample_raw_config(http_port=None))
    assert exc.value.path is not None and exc.value.path.endswith("common.py")
    assert exc.value.line is not None
    assert type(exc.value.__cause__).__name__ == "RawConfigError"


def test_configure_does_not_modify_callers_raw_config(manager: PluginManager) -> None:
    plugin = manager.load("acme-1.0")
    raw = sample_raw_config()
    before = json.dumps(raw, sort_keys=True)
    plugin.configure(dict(DEVICE), raw)
    assert json.dumps(raw, sort_keys=True) == before


def test_unload_reload_and_double_load(manager: PluginManager) -> None:
    first = manager.load("acme-1.0")
    with pytest.raises(PluginLoadError, match="already loaded"):
        manager.load("acme-1.0")
    second = manager.reload("acme-1.0")
    assert second is not first and manager.loaded["acme-1.0"] is second
    manager.unload("acme-1.0")
    assert manager.loaded == {}
    with pytest.raises(PluginLoadError, match="not loaded"):
        manager.unload("acme-1.0")


def test_load_error_names_file_and_line(tmp_path: Path) -> None:
    bad_common = COMMON + "\n\nraise ValueError('boom in common')\n"
    write_plugin(tmp_path, "bad-1.0")
    (tmp_path / "bad-1.0" / "common.py").write_text(bad_common)
    manager = PluginManager(tmp_path, gen_cfg={})
    with pytest.raises(PluginLoadError) as exc:
        manager.load("bad-1.0")
    assert exc.value.path == str(tmp_path / "bad-1.0" / "common.py")
    assert exc.value.line == bad_common.count("\n")
    assert "boom in common" in str(exc.value)


def test_syntax_error_in_entry(tmp_path: Path) -> None:
    write_plugin(tmp_path, "syn-1.0")
    (tmp_path / "syn-1.0" / "entry.py").write_text("x = 1\ndef broken(:\n")
    with pytest.raises(PluginLoadError) as exc:
        PluginManager(tmp_path, gen_cfg={}).load("syn-1.0")
    assert exc.value.path is not None and exc.value.path.endswith("entry.py")
    assert exc.value.line == 2


def test_no_plugin_class(tmp_path: Path) -> None:
    write_plugin(tmp_path, "none-1.0")
    (tmp_path / "none-1.0" / "entry.py").write_text(
        "from wazo_provd.plugins import StandardPlugin\nclass Helper(StandardPlugin):\n    pass\n"
    )
    with pytest.raises(PluginLoadError, match="no plugin class"):
        PluginManager(tmp_path, gen_cfg={}).load("none-1.0")


def test_legacy_import_plugin_loads(tmp_path: Path) -> None:
    write_plugin(tmp_path, "old-1.0")
    (tmp_path / "old-1.0" / "entry.py").write_text(
        "try:\n    from wazo_provd_missing import plugins\nexcept ImportError:\n"
        "    from provd import plugins\n"
        "class Old(plugins.StandardPlugin):\n    IS_PLUGIN = True\n"
    )
    plugin = PluginManager(tmp_path, gen_cfg={}).load("old-1.0")
    from wazo_provd.plugins import StandardPlugin

    assert isinstance(plugin.obj, StandardPlugin)


def test_plugin_of_a_second_abstract_plugin_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the real library does to a legacy plugin: its "provd" alias runs abstract_plugin.py
    # again as provd.abstract_plugin, so the plugin's base is a second AbstractPlugin class.
    import abc
    import types

    duplicate = types.ModuleType("provd.abstract_plugin")
    exec("class AbstractPlugin(metaclass=abc.ABCMeta):\n    pass\n", {"abc": abc}, vars(duplicate))
    monkeypatch.setitem(__import__("sys").modules, "provd.abstract_plugin", duplicate)
    write_plugin(tmp_path, "twice-1.0")
    (tmp_path / "twice-1.0" / "entry.py").write_text(
        "from provd.abstract_plugin import AbstractPlugin\n"
        "class Twice(AbstractPlugin):\n"
        "    IS_PLUGIN = True\n"
        "    http_service = tftp_service = dhcp_dev_info_extractor = None\n"
        "    http_dev_info_extractor = tftp_dev_info_extractor = pg_associator = None\n"
        "    services = {}\n"
        "    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):\n"
        "        self.plugin_dir = plugin_dir\n"
        "    def close(self):\n"
        "        pass\n"
    )
    plugin = PluginManager(tmp_path, gen_cfg={}).load("twice-1.0")
    assert type(plugin.obj).__name__ == "Twice"


@pytest.mark.parametrize(
    ("key", "value"), [("plugin_iface_version_min", 1.0), ("plugin_iface_version_max", 0.1)]
)
def test_iface_version(tmp_path: Path, key: str, value: float) -> None:
    pdir = write_plugin(tmp_path, "ifc-1.0")
    info = json.loads((pdir / "plugin-info").read_text())
    info[key] = value
    (pdir / "plugin-info").write_text(json.dumps(info))
    with pytest.raises(PluginLoadError, match="plugin interface"):
        PluginManager(tmp_path, gen_cfg={}).load("ifc-1.0")


def test_bad_plugin_info_names_line(tmp_path: Path) -> None:
    pdir = write_plugin(tmp_path, "info-1.0")
    (pdir / "plugin-info").write_text('{\n  "version": "1.0",\n  oops\n}')
    manager = PluginManager(tmp_path, gen_cfg={})
    with pytest.raises(PluginLoadError) as exc:
        manager.load("info-1.0")
    assert exc.value.line == 3
    with pytest.raises(Exception, match=r"plugin-info:3"):
        manager.installed()


def test_installed_is_localized(manager: PluginManager) -> None:
    from wazo_provd.localization import (
        LocalizationService,
        register_localization_service,
        unregister_localization_service,
    )

    assert manager.installed()["acme-1.0"]["description"] == "Acme test plugin"
    register_localization_service(LocalizationService("fr_CA"))
    try:
        info = manager.installed()["acme-1.0"]
    finally:
        unregister_localization_service()
    assert info["description"] == "Plugin de test Acme"
    assert not any(k.startswith("description_") for k in info)


def test_the_firmware_cache_comes_from_the_managers_gen_cfg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing process-wide: two managers, two caches, and the environment is not read.
    monkeypatch.setenv("PYTEST_PROVD_FIRMWARE_DIR", str(tmp_path / "from-the-environment"))
    stores = []
    for name in ("one", "two"):
        write_plugin(tmp_path / name, "acme-1.0")
        gen_cfg = {"proxies": {}, FIRMWARE_DIR_CFG: str(tmp_path / f"cache-{name}")}
        plugin = PluginManager(tmp_path / name, gen_cfg=gen_cfg).load("acme-1.0")
        stores.append(plugin.services["install"].store)
    assert [s.firmware_dir for s in stores] == [tmp_path / "cache-one", tmp_path / "cache-two"]
    plain = PluginManager(tmp_path / "one", gen_cfg={"proxies": {}}).reload("acme-1.0")
    assert plain.services["install"].store.firmware_dir is None


def test_apply_defaults() -> None:
    raw = apply_defaults(
        {"sip_proxy_ip": "1.2.3.4", "sip_lines": {"1": {"proxy_ip": "p", "username": "u"}}}
    )
    assert raw["sip_registrar_ip"] == "1.2.3.4"
    assert raw["sip_lines"]["1"] == {
        "proxy_ip": "p",
        "registrar_ip": "p",
        "username": "u",
        "auth_username": "u",
    }
    assert raw["funckeys"] == {} and raw["sccp_call_managers"] == {}
    assert sample_raw_config(timezone=None).get("timezone") is None


# --- installing from a plugin server ------------------------------------------------------


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _package_dir(src: Path, plugin_id: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:bz2") as tar:
        tar.add(src / plugin_id, arcname=plugin_id)
    return buf.getvalue()


def _publish(
    server: Path, plugin_id: str, data: bytes, version: str = "1.0", **override: Any
) -> None:
    server.mkdir(parents=True, exist_ok=True)
    filename = f"{plugin_id}.tar.bz2"
    (server / filename).write_bytes(data)
    db_path = server / "plugins.db"
    db = json.loads(db_path.read_text()) if db_path.exists() else {}
    db[plugin_id] = {
        "filename": filename,
        "dsize": len(data),
        "sha1sum": hashlib.sha1(data).hexdigest(),
        "version": version,
        "description": "d",
        "capabilities": {},
        **override,
    }
    db_path.write_text(json.dumps(db, indent=1))


def test_install_upgrade_uninstall(tmp_path: Path) -> None:
    src, server = tmp_path / "src", tmp_path / "server"
    write_plugin(src, "acme-1.0", version="1.0")
    _publish(server, "acme-1.0", _package_dir(src, "acme-1.0"))
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    assert manager.installable(str(server))["acme-1.0"]["version"] == "1.0"
    manager.install_from_server(str(server), "acme-1.0")
    assert manager.installed()["acme-1.0"]["version"] == "1.0"
    assert manager.upgradable(str(server)) == {}
    write_plugin(src, "acme-1.0", version="1.10")
    _publish(server, "acme-1.0", _package_dir(src, "acme-1.0"), version="1.10")
    assert manager.upgradable(str(server)) == {
        "acme-1.0": {"installed": "1.0", "available": "1.10"}
    }
    manager.install_from_server(str(server), "acme-1.0")
    assert manager.installed()["acme-1.0"]["version"] == "1.10"
    manager.load("acme-1.0")
    manager.uninstall("acme-1.0")
    assert manager.installed() == {}
    assert not any(p.name.startswith(".install") for p in (tmp_path / "plugins").iterdir())
    with pytest.raises(PluginInstallError):
        manager.uninstall("acme-1.0")


def _info(
    name: str, kind: bytes = tarfile.REGTYPE, size: int = 0, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.linkname = link
    return info


EVIL = {
    "dotdot": [(_info("acme-1.0/../evil.txt", size=1), b"x")],
    "absolute": [(_info("/tmp/evil.txt", size=1), b"x")],
    "other-top": [(_info("other/plugin-info", size=1), b"x")],
    "symlink-out": [(_info("acme-1.0/link", tarfile.SYMTYPE, link="../../etc/passwd"), None)],
    "symlink-abs": [(_info("acme-1.0/link", tarfile.SYMTYPE, link="/etc/passwd"), None)],
    "hardlink-out": [(_info("acme-1.0/hl", tarfile.LNKTYPE, link="etc/passwd"), None)],
    "device": [(_info("acme-1.0/dev", tarfile.CHRTYPE), None)],
    "fifo": [(_info("acme-1.0/fifo", tarfile.FIFOTYPE), None)],
}


@pytest.mark.parametrize("case", sorted(EVIL))
def test_unsafe_packages_rejected_and_previous_install_kept(tmp_path: Path, case: str) -> None:
    src, server = tmp_path / "src", tmp_path / "server"
    write_plugin(src, "acme-1.0")
    _publish(server, "acme-1.0", _package_dir(src, "acme-1.0"))
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    manager.install_from_server(str(server), "acme-1.0")
    good = (tmp_path / "plugins" / "acme-1.0" / "plugin-info").read_bytes()
    _publish(server, "acme-1.0", _tar(EVIL[case]), version="2.0")
    with pytest.raises(PluginInstallError):
        manager.install_from_server(str(server), "acme-1.0")
    assert (tmp_path / "plugins" / "acme-1.0" / "plugin-info").read_bytes() == good
    assert not (tmp_path / "evil.txt").exists()
    assert sorted(p.name for p in (tmp_path / "plugins").iterdir()) == ["acme-1.0"]


def test_inner_symlink_is_allowed(tmp_path: Path) -> None:
    src, server = tmp_path / "src", tmp_path / "server"
    write_plugin(src, "acme-1.0")
    (src / "acme-1.0" / "templates" / "alias.tpl").symlink_to("base.tpl")
    _publish(server, "acme-1.0", _package_dir(src, "acme-1.0"))
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    manager.install_from_server(str(server), "acme-1.0")
    assert (tmp_path / "plugins" / "acme-1.0" / "templates" / "alias.tpl").is_symlink()


@pytest.mark.parametrize("field", ["sha1sum", "dsize"])
def test_checksum_and_size_mismatch(tmp_path: Path, field: str) -> None:
    src, server = tmp_path / "src", tmp_path / "server"
    write_plugin(src, "acme-1.0")
    data = _package_dir(src, "acme-1.0")
    bad: dict[str, Any] = {"sha1sum": "0" * 40} if field == "sha1sum" else {"dsize": len(data) + 1}
    _publish(server, "acme-1.0", data, **bad)
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    with pytest.raises(PluginInstallError, match="sha1" if field == "sha1sum" else "size"):
        manager.install_from_server(str(server), "acme-1.0")
    assert manager.installed() == {}


def test_plugins_db_errors_name_the_line(tmp_path: Path) -> None:
    server = tmp_path / "server"
    server.mkdir()
    (server / "plugins.db").write_text(
        '{\n "a": {"filename": "../x.tar.bz2", "dsize": 1,'
        ' "sha1sum": "%s", "version": "1", "description": "",'
        ' "capabilities": {}}\n}' % ("0" * 40)
    )
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    with pytest.raises(PluginInstallError) as exc:
        manager.installable(str(server))
    assert exc.value.line == 2 and "bad filename" in str(exc.value)
    with pytest.raises(PluginInstallError, match="no plugin zzz"):
        (server / "plugins.db").write_text("{}")
        manager.install_from_server(str(server), "zzz")


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_install_over_http(tmp_path: Path, http_server: tuple[str, Path]) -> None:
    url, root = http_server
    src = tmp_path / "src"
    write_plugin(src, "acme-1.0")
    _publish(root, "acme-1.0", _package_dir(src, "acme-1.0"))
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    manager.install_from_server(url, "acme-1.0")
    assert manager.load("acme-1.0").info["version"] == "1.0"


def test_non_loopback_server_refused(tmp_path: Path) -> None:
    manager = PluginManager(tmp_path / "plugins", gen_cfg={})
    with pytest.raises(PluginInstallError, match="loopback"):
        manager.installable("http://192.0.2.1/plugins")
