"""Behaviour of the compat provd modules plugins rely on."""

from __future__ import annotations

import io
import sys
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pytest_provd import compat

compat.activate()

from wazo_provd import phonebook, phoned_users, plugins, synchronize, tzinform, util  # noqa: E402
from wazo_provd.devices.pgasso import BasePgAssociator, DeviceSupport  # noqa: E402
from wazo_provd.servers.tftp.packet import request_packet  # noqa: E402
from wazo_provd.servers.tftp.service import TFTPFileService, TFTPNullService  # noqa: E402
from wazo_provd.services import (  # noqa: E402
    BaseConfigurationService,
    DictConfigurationServiceParameter,
    JsonConfigPersister,
    PersistentConfigurationServiceDecorator,
)


def test_activate_is_idempotent_and_uses_compat() -> None:
    assert compat.activate() == "compat"
    assert compat.activate() == "compat"
    assert compat.using_compat()
    assert sys.path.count(str(compat.SHIM_DIR)) == 1


def test_legacy_name_gives_the_same_modules() -> None:
    import provd.devices.pgasso
    import provd.plugins

    assert provd.plugins is plugins
    assert provd.plugins.StandardPlugin is plugins.StandardPlugin
    assert provd.devices.pgasso.DeviceSupport is DeviceSupport


def _swap_provd_modules(saved: dict[str, Any] | None = None) -> dict[str, Any]:
    """Take every wazo_provd module out of sys.modules (and put *saved* back); the ones taken."""
    taken = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "wazo_provd"}
    for k in taken:
        del sys.modules[k]
    sys.modules.update(saved or {})
    return taken


def test_an_installed_wazo_provd_is_used_only_by_the_real_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "wazo_provd"
    fake.mkdir()
    (fake / "__init__.py").write_text("REAL = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = _swap_provd_modules()
    try:
        # The embedded backend keeps to ours even with another wazo_provd first on the path.
        monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(compat.SHIM_DIR)])
        assert compat.activate("embedded") == "compat"
        import wazo_provd

        assert not getattr(wazo_provd, "REAL", False)
        with pytest.raises(compat.CompatConflict, match="real backend needs a process"):
            compat.activate("real")
        _swap_provd_modules()
        assert compat.activate("real") == "real"
        assert getattr(sys.modules["wazo_provd"], "REAL", False)
        assert not compat.using_compat()
        with pytest.raises(compat.CompatConflict, match="embedded backend loads plugins"):
            compat.activate("embedded")
        assert compat.activate() == "real"
    finally:
        _swap_provd_modules(saved)


@pytest.mark.parametrize(
    ("raw", "normed"),
    [
        ("0011223344AA", "00:11:22:33:44:aa"),
        ("00-11-22-33-44-aa", "00:11:22:33:44:aa"),
        ("00:A:2B:C:d:5e", "00:0a:2b:0c:0d:5e"),
    ],
)
def test_norm_mac(raw: str, normed: str) -> None:
    assert util.norm_mac(raw) == normed
    assert util.is_normed_mac(normed)


@pytest.mark.parametrize("bad", ["", "0011223344", "00:11:22:33:44:zz", "00:11-22:33:44:55", "1"])
def test_norm_mac_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        util.norm_mac(bad)


def test_format_mac_and_uuid() -> None:
    assert util.format_mac("00:11:22:33:44:aa", separator="", uppercase=True) == "0011223344AA"
    assert util.format_mac("00:11:22:33:44:aa", "-") == "00-11-22-33-44-aa"
    assert util.norm_uuid("550E8400-E29B-41D4-A716-446655440000") == (
        "550e8400-e29b-41d4-a716-446655440000"
    )
    assert not util.is_normed_uuid("550E8400-E29B-41D4-A716-446655440000")
    with pytest.raises(ValueError):
        util.norm_uuid("nope")
    assert util.norm_ip("127.0.0.1") == "127.0.0.1"
    with pytest.raises(ValueError):
        util.norm_ip("256.0.0.1")


def test_time_views() -> None:
    assert tzinform.Time(3602).as_hms == [1, 0, 2]
    assert tzinform.Time(-3602).as_hms == [-1, 0, 2]
    assert tzinform.Time(-2).as_hms == [0, 0, -2]
    assert tzinform.Time(-18000).as_hours == -5
    assert tzinform.Time(5400).as_minutes == 90
    assert tzinform.week_start_on_monday(1) == 7
    assert tzinform.week_start_on_monday(2) == 1


def test_paris_rule() -> None:
    info = tzinform.info_from_posix_rule("CET-1CEST,M3.5.0,M10.5.0/3", year=2024)
    assert info["utcoffset"] == tzinform.Time(3600)
    dst = info["dst"]
    assert dst is not None
    # Last Sundays 2024-03-31 and 2024-10-27; weeks counted Monday-first from the 1st's week
    # (March 1st is a Friday, October 1st a Tuesday).
    assert dst["start"]["month"] == 3 and dst["start"]["day"] == "W5.7"
    assert dst["start"]["time"] == tzinform.Time(7200)
    assert dst["end"]["month"] == 10 and dst["end"]["day"] == "W4.7"
    assert dst["end"]["time"] == tzinform.Time(10800)
    assert dst["save"] == tzinform.Time(3600)


def test_rule_with_hour_beyond_midnight_moves_the_day() -> None:
    # Gaza-style "/50": 50 hours after the start of the rule's day.
    info = tzinform.info_from_posix_rule("EET-2EEST,M3.4.4/50,M10.4.4/50", year=2024)
    dst = info["dst"]
    assert dst is not None
    start = datetime(2024, 3, 28) + timedelta(hours=50)
    assert dst["start"]["day"].endswith(f".{start.isoweekday()}")
    assert dst["start"]["time"] == tzinform.Time(2 * 3600)


def test_unknown_timezone() -> None:
    with pytest.raises(tzinform.TimezoneNotFoundError):
        tzinform.get_timezone_info("Moon/Sea_of_Tranquility")
    assert tzinform.get_timezone_info("Asia/Tokyo")["dst"] is None
    db = tzinform.DefaultTimezoneInfoDB("Europe/Paris", tzinform.TextTimezoneInfoDB())
    assert db.get_timezone_info("Moon/Sea")["utcoffset"].as_hours == 1


def test_every_zone_agrees_with_zoneinfo_offsets() -> None:
    """Standard offset and DST save must match zoneinfo's offsets once the rule applies.

    Far in the future, where only the zone's POSIX rule is left (Casablanca, for one, lists
    explicit transitions until 2087).
    """
    checked = 0
    for name in sorted(zoneinfo.available_timezones()):
        try:
            info = tzinform.get_timezone_info(name)
        except tzinform.TimezoneNotFoundError:
            continue
        zone = zoneinfo.ZoneInfo(name)
        year = 2200
        offsets = {
            int(zone.utcoffset(datetime(year, m, 15, 12)).total_seconds()) for m in range(1, 13)
        }
        std = info["utcoffset"].as_seconds
        dst = info["dst"]
        expected = {std} if dst is None else {std, std + dst["save"].as_seconds}
        assert offsets <= expected, name
        checked += 1
    assert checked > 300


def test_phonebook_url() -> None:
    raw: dict[str, Any] = {"X_xivo_phonebook_ip": "192.0.2.1", "X_xivo_user_uuid": "u-1"}
    phonebook.add_xivo_phonebook_url(raw, "snom", entry_point="input", qs_suffix="a=b")
    assert raw["XX_xivo_phonebook_url"] == (
        "http://192.0.2.1:9498/0.1/directories/input/default/snom?xivo_user_uuid=u-1&a=b"
    )
    no_uuid: dict[str, Any] = {"X_xivo_phonebook_ip": "192.0.2.1"}
    plugins.add_xivo_phonebook_url(no_uuid, "snom")
    assert "XX_xivo_phonebook_url" not in no_uuid
    fmt: dict[str, Any] = {
        "X_xivo_phonebook_ip": "h",
        "X_xivo_user_uuid": "u",
        "X_xivo_phonebook_scheme": "https",
        "X_xivo_phonebook_port": 443,
    }
    phonebook.add_xivo_phonebook_url_from_format(fmt, "{scheme}://{hostname}:{port}/{user_uuid}")
    assert fmt["XX_xivo_phonebook_url"] == "https://h:443/u"


def test_phoned_urls() -> None:
    raw: dict[str, Any] = {"X_xivo_phonebook_ip": "h", "X_xivo_user_uuid": "u"}
    phoned_users.add_wazo_phoned_user_service_url(raw, "yealink", "dnd")
    assert raw["XX_wazo_phoned_user_service_dnd_enabled_url"] == (
        "http://h:9498/0.1/yealink/users/u/services/dnd/enable"
    )
    assert raw["XX_wazo_phoned_user_service_dnd_disabled_url"].endswith("/dnd/disable")


def test_pg_associator() -> None:
    class Assoc(BasePgAssociator):
        def _do_associate(self, vendor: str, model: str | None, version: str | None) -> int:
            return DeviceSupport.EXACT if model == "X" else DeviceSupport.IMPROBABLE

    assert Assoc().associate({}) == DeviceSupport.UNKNOWN
    assert Assoc().associate({"vendor": "V", "model": "X"}) == 600
    assert DeviceSupport.PROBABLE < DeviceSupport.INCOMPLETE < DeviceSupport.COMPLETE


def _plugin_dir(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "var" / "templates").mkdir(parents=True)
    (tmp_path / "templates" / "base.tpl").write_text("base {{ name }} <&>\n{{ missing }}|")
    (tmp_path / "templates" / "M1.tpl").write_text("model {{ name }}")
    return tmp_path


def test_templates_behave_like_provd(tmp_path: Path) -> None:
    helper = plugins.TemplatePluginHelper(str(_plugin_dir(tmp_path)))
    tpl = helper.get_dev_template("nope.cfg", {"model": "M2"})
    # No autoescape, undefined renders empty, trailing newline of the file dropped.
    assert helper.render(tpl, {"name": "é<b>"}) == "base é<b> <&>\n|".encode()
    assert helper.render(helper.get_dev_template(None, {"model": "M1"}), {"name": "x"}) == (
        b"model x"
    )
    out = tmp_path / "out.cfg"
    helper.dump(tpl, {"name": "ü"}, str(out), "ISO-8859-1")
    assert out.read_bytes() == "base ü <&>\n|".encode("latin-1")
    assert not (tmp_path / "out.cfg.tmp").exists()


def test_custom_template_overrides_default_without_restart(tmp_path: Path) -> None:
    helper = plugins.TemplatePluginHelper(str(_plugin_dir(tmp_path)))
    assert helper.render(helper.get_template("M1.tpl"), {"name": "a"}) == b"model a"
    (tmp_path / "var" / "templates" / "M1.tpl").write_text("custom {{ name }}")
    assert helper.render(helper.get_template("M1.tpl"), {"name": "a"}) == b"custom a"


class _Response:
    def __init__(self) -> None:
        self.accepted: bytes | None = None
        self.rejected: tuple[bytes, Any] | None = None

    def accept(self, fobj: io.BufferedReader) -> None:
        with fobj:
            self.accepted = fobj.read()

    def reject(self, code: bytes, msg: Any) -> None:
        self.rejected = (code, msg)


@pytest.mark.parametrize(
    ("name", "served"),
    [("/a.cfg", b"A"), ("a.cfg", b"A"), ("sub/../a.cfg", b"A"), ("../secret", None), ("x", None)],
)
def test_tftp_file_service(tmp_path: Path, name: str, served: bytes | None) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.cfg").write_bytes(b"A")
    (tmp_path / "secret").write_bytes(b"S")
    response = _Response()
    TFTPFileService(str(root)).handle_read_request(
        {"address": ("127.0.0.1", 69), "packet": request_packet(name)}, response
    )
    assert response.accepted == served
    assert (response.rejected is None) == (served is not None)


def test_tftp_null_service() -> None:
    response = _Response()
    TFTPNullService(errmsg="no").handle_read_request(
        {"address": ("127.0.0.1", 1), "packet": request_packet("x")}, response
    )
    assert response.rejected == (b"\x00\x01", "no")


def test_synchronize_needs_a_sync_service() -> None:
    from pytest_provd.provd.plugins.twisted_bridge import resolve

    synchronize.unregister_sync_service()
    with pytest.raises(synchronize.SynchronizeException):
        resolve(synchronize.standard_sip_synchronize({"ip": "127.0.0.1"}))
    recorder = synchronize.RecordingSyncService()
    synchronize.register_sync_service(recorder)
    try:
        resolve(synchronize.standard_sip_synchronize({"ip": "127.0.0.9"}, event="check-sync"))
        resolve(synchronize.standard_sip_synchronize({"remote_state_sip_username": "abc"}))
        # Auto-provisioning peers are shared: notify by IP instead.
        resolve(
            synchronize.standard_sip_synchronize(
                {"remote_state_sip_username": "ap12345678", "ip": "127.0.0.8"}
            )
        )
        with pytest.raises(synchronize.SynchronizeException):
            resolve(synchronize.standard_sip_synchronize({}))
    finally:
        synchronize.unregister_sync_service()
    assert [n.get("uri") or n.get("endpoint") for n in recorder.notifications] == [
        "sip:anonymous@127.0.0.9",
        "abc",
        "sip:anonymous@127.0.0.8",
    ]


def test_persistent_configure_service(tmp_path: Path) -> None:
    store: dict[str, Any] = {}
    service = BaseConfigurationService(
        {"username": DictConfigurationServiceParameter(store, "username", "User")}
    )
    path = tmp_path / "config.json"
    persistent = PersistentConfigurationServiceDecorator(service, JsonConfigPersister(str(path)))
    persistent.set("username", "bob")
    assert path.read_text() == '{"username": "bob"}'
    store.clear()
    PersistentConfigurationServiceDecorator(service, JsonConfigPersister(str(path)))
    assert store == {"username": "bob"}
    assert persistent.description == [("username", "User")]


def test_fetchfw_helper_is_offline() -> None:
    downloaders = plugins.FetchfwPluginHelper.new_downloaders({"http": "x"})
    assert set(downloaders) == {"auth", "default"}
    downloaders["auth"].add_password(None, "http://127.0.0.1/", "u", "p")
    with pytest.raises(OSError, match="disabled"):
        downloaders["default"].download("http://example.invalid/fw.bin")
