"""Verdicts the generated suite must get right, on sample families of our own
(``tests/data/verdicts``): push plugins, plugins serving through their own resource, provd's
base.tpl fallback, SCCP models, firmware the harness cannot feed, and the tree's dhcpd
configuration judged apart from the plugins."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

VERDICTS = Path(__file__).parent / "data" / "verdicts"
PROVISION = "(provision and not fetched)"
"""``-k`` for the ``provision`` items only (``fetched-wellformed`` shares their marker)."""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty plugins tree in the pytester directory (families are copied in)."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    (pytester.path / "plugins").mkdir()
    return pytester.path


def copy(root: Path, family: str, *, dhcp: bool = False) -> Path:
    """Copy a sample family (and the samples' dhcp/ directory) into the tree; its copy."""
    target = root / "plugins" / family
    shutil.copytree(VERDICTS / "plugins" / family, target)
    if dhcp:
        shutil.copytree(VERDICTS / "dhcp", root / "dhcp")
    return target


def run(pytester: pytest.Pytester, plugin: str, *args: str) -> pytest.RunResult:
    # A subprocess: these runs load plugins and start servers (see tests/conftest.py).
    return pytester.runpytest_subprocess("--provd-plugin", plugin, "-p", "no:randomly", *args)


def _can_listen_on_port_80() -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", 80))
        except OSError:
            return False
    return True


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


# -- push plugins: nothing written at configure, settings sent at synchronize


def test_push_plugin_is_judged_on_what_it_pushes(pytester: pytest.Pytester, tree: Path) -> None:
    if not _can_listen_on_port_80():
        pytest.skip("the emulated base's web interface listens on port 80 (root needed)")
    copy(tree, "wazo_push")
    result = run(pytester, "wazo-gigaset-push-c470", "-k", PROVISION + " or configure", "-rA")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        ["C470 IP: configure wrote no file, as a push plugin does: wazo-gigaset-push-c470 sends*"]
    )


def test_push_plugin_that_cannot_push_fails_provision(
    pytester: pytest.Pytester, tree: Path
) -> None:
    if not _can_listen_on_port_80():
        pytest.skip("the emulated base's web interface listens on port 80 (root needed)")
    family = copy(tree, "wazo_push")
    # Python 3's urllib refuses str POST data: the push fails at its first request.
    edit(family / "common" / "common.py", "urlencode(fields).encode('ascii')", "urlencode(fields)")
    result = run(pytester, "wazo-gigaset-push-c470", "-k", PROVISION)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*C470 IP: wazo-gigaset-push-c470 pushes its settings at synchronize, and "
            "synchronizing the device failed: *plugins/wazo_push/common/common.py:*TypeError*"
        ]
    )


def test_template_plugin_writing_no_file_still_fails_configure(
    pytester: pytest.Pytester, tree: Path
) -> None:
    family = copy(tree, "wazo_fallback")
    edit(
        family / "common" / "common.py",
        "        filename = self._filename(device)\n",
        "        return  # writes nothing, and pushes nothing either\n",
    )
    result = run(pytester, "wazo-acme-fallback-1.0", "-k", "F3 and configure")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*configure wrote no file for F3"])


# -- files served through the plugin's own HTTP resource


def test_file_served_by_the_plugins_own_resource(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_resource")
    result = run(pytester, "wazo-*", "-k", "configure and not hostile")
    result.assert_outcomes(passed=2)


def test_resource_refusing_the_file_is_named(pytester: pytest.Pytester, tree: Path) -> None:
    family = copy(tree, "wazo_resource")
    # As a Python 2 era resource does: text instead of bytes, which twisted answers with a 500.
    edit(family / "common" / "common.py", "'rb') as fobj", "encoding='utf-8') as fobj")
    result = run(pytester, "wazo-acme-softphone", "-k", "configure")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*was written but is served neither over HTTP nor TFTP: POST /provisioning?uuid=* "
            "answered 500 '500 - Request did not return bytes'"
        ]
    )


def test_softphone_boots_with_the_url_typed_in(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_resource")
    result = run(pytester, "wazo-jitsi-resource", "-k", PROVISION, "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["Jitsi: the provisioning URL is typed in on this phone: http*"])


# -- per-model templates and provd's fallback to base.tpl


def test_missing_model_template_fails_where_base_tpl_renders_otherwise(
    pytester: pytest.Pytester, tree: Path
) -> None:
    copy(tree, "wazo_fallback")
    result = run(pytester, "wazo-acme-fallback-1.0", "-k", "models", "-rA")
    # F1.tpl renders as base.tpl does; the family ships no F3.tpl; F2.tpl adds a key.
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "PASSED wazo-acme-fallback-1.0::models[[]F1[]]",
            "PASSED wazo-acme-fallback-1.0::models[[]F3[]]",
            "FAILED wazo-acme-fallback-1.0::models[[]F2[]]*",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "  plugins/wazo_fallback/common/templates/F2.tpl: wazo-acme-fallback-1.0 leaves this "
            "template out, so provd configures 'F2' with base.tpl instead, which renders "
            'differently (line 7 of the output: \'<key n="1" action="directory"/>\' with it, '
            "'' with base.tpl)*"
        ]
    )


def test_capability_version_differing_is_said_once(pytester: pytest.Pytester, tree: Path) -> None:
    family = copy(tree, "wazo_fallback")
    edit(family / "v1" / "plugin-info", '"Acme, F4, 1.0"', '"Acme, F4, 0.9"')
    result = run(pytester, "wazo-acme-fallback-1.0", "-k", "(models and F4) or consistency", "-rA")
    # One cause: firmware-consistency names every place of the version; models[F4] passes.
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  plugins/wazo_fallback/v1/entry.py:*: VERSION is 1.0 but capability 'Acme, F4, 0.9'*",
            "PASSED wazo-acme-fallback-1.0::models[[]F4[]]",
        ],
        consecutive=False,
    )


# -- SCCP models


def test_sccp_model_misnamed_in_plugin_info(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_sccp")
    collected = run(pytester, "wazo-acme-sccp-1.0", "--collect-only", "-q")
    assert "wazo-acme-sccp-1.0::models[S10]" not in collected.stdout.str()
    result = run(pytester, "wazo-acme-sccp-1.0", "-k", "models or configure")
    # One cause (S10G in MODELS, S10 in plugin-info), said once; S10G is SCCP like its family.
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  plugins/wazo_sccp/v1/entry.py:6: model 'S10G' in MODELS has no capability in "
            "plugins/wazo_sccp/v1/plugin-info, and capability 'Acme, S10, 1.0' "
            "(plugins/wazo_sccp/v1/plugin-info:6) names 'S10', which is not in MODELS*"
        ]
    )


# -- firmware the harness cannot synthesize


def test_firmware_only_real_files_can_install_is_a_skip(
    pytester: pytest.Pytester, tree: Path
) -> None:
    copy(tree, "wazo_firmware")
    result = run(pytester, "wazo-acme-firmware-1.0", "-m", "provd_firmware", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED * not installed: w1-locale (unsign): synthetic firmware cannot feed these "
            "install steps; pass --provd-firmware-dir with the vendor's files"
        ]
    )


def test_firmware_other_packages_still_checked(pytester: pytest.Pytester, tree: Path) -> None:
    family = copy(tree, "wazo_firmware")
    edit(family / "v1" / "pkgs" / "pkgs.db", "b-c: cp *.bin firmware/", "b-c: cp *.bin ../../x/")
    result = run(pytester, "wazo-acme-firmware-1.0", "-m", "provd_firmware", "-rA")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*pkgs.db:10 [[]pkg_w1-fw[]]: [[]install_acme-fw[]] path '../../x/' leaves the "
            "install sandbox",
            "not installed: w1-locale (unsign): synthetic firmware cannot feed*",
        ]
    )


# -- the tree's dhcpd configuration, judged on its own


def test_dhcp_items_and_redirected_phones(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_redirect", dhcp=True)
    result = run(pytester, "wazo-digium-redirect-2.0", "-k", PROVISION + " or dhcp", "-rA")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "  dhcp/dhcpd_update/redirect.conf: no class gives digium D60 a provisioning URL: "
            "none matches what it sends (vendor class 'digium_D60_2_0') and no MAC-prefix "
            "subclass covers 00:0f:d3 for it*",
            "D45: the dhcpd configuration points this phone at http://127.0.0.1:*/Elsewhere by "
            "MAC prefix only (*), where wazo-digium-redirect-2.0 serves none of its files; it "
            "serves them at http://127.0.0.1:*/Digium/: booted as a redirected*",
            "D60: the dhcpd configuration gives this phone no provisioning URL (no class for "
            "vendor class 'digium_D60_1_0', MAC 00:0f:d3); booted as a redirected or manually "
            "configured phone would, with http://127.0.0.1:*/Digium/*",
            "PASSED wazo-digium-redirect-2.0::D40::provision",
            "PASSED wazo-digium-redirect-2.0::D45::provision",
            "PASSED wazo-digium-redirect-2.0::D60::provision",
            "PASSED dhcp::digium::D40",
            "PASSED dhcp::digium::D45",
            "FAILED dhcp::digium::D60 - *",
        ],
        consecutive=False,
    )
    assert "D40: the dhcpd configuration" not in result.stdout.str()


def test_dhcp_class_written_for_the_model_but_missing_it_is_a_skip(
    pytester: pytest.Pytester, tree: Path
) -> None:
    copy(tree, "wazo_redirect", dhcp=True)
    conf = tree / "dhcp" / "dhcpd_update" / "redirect.conf"
    conf.write_text(
        conf.read_text()
        + 'class "RedirectD60" {\n'
        + '    match if option vendor-class-identifier = "Digium D60";\n'
        + '    option tftp-server-name = "http://provd/Digium";\n}\n'
    )
    result = run(pytester, "wazo-digium-redirect-2.0", "-m", "provd_dhcp", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            'SKIPPED * class "RedirectD60" (*redirect.conf:*) is written for D60 but does not '
            "match what the emulated phone sends ('digium_D60_2_0'): which option 60 a real "
            "D60 sends is in doubt*"
        ]
    )


def test_no_dhcp_items_without_a_dhcp_directory(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_redirect")
    result = run(pytester, "wazo-digium-redirect-2.0", "--collect-only", "-q")
    assert "dhcp::" not in result.stdout.str()
    assert "wazo-digium-redirect-2.0::D60::provision" in result.stdout.str()


# -- a wildcard plugin (null, zero): no model, so no phone; said as such, not "no emulator"


def test_wildcard_plugin_has_no_phone_to_boot(pytester: pytest.Pytester, tree: Path) -> None:
    copy(tree, "wazo_wildcard")
    result = run(pytester, "wazo-acme-catchall", "-rs", "-k", PROVISION)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*wazo-acme-catchall declares no phone model (capability '*, *, *'): *no phone to boot*"]
    )
    result.stdout.no_fnmatch_line("*no phone emulator*")


# -- a model without a capability whose files carry no line (a DECT base): not judged on lines


def test_model_without_capability_and_without_lines_is_not_judged_on_lines() -> None:
    from types import SimpleNamespace

    from pytest_provd.tiers._run import TargetRun

    def run(key: str | None) -> TargetRun:
        return SimpleNamespace(capability_key=lambda model: key)  # type: ignore[return-value]

    base = b"static.auto_provision.server.url = http://provd/\n"
    users = ["alice1001", "bob1002"]
    assert TargetRun.takes_no_line(run(None), "W90B", base, users)
    # A capability says how many lines it takes: judged, as are files carrying some line.
    assert not TargetRun.takes_no_line(run("Yealink, W90B, 1"), "W90B", base, users)
    assert not TargetRun.takes_no_line(run(None), "W90B", base + b"user = alice1001\n", users)
