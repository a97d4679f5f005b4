"""The public fixtures: typed, documented, and the renamed ones still answer to their old names."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from pytest_provd.fixtures import phones
from pytest_provd.fixtures import provd as provd_fixtures
from pytest_provd.provd import EmbeddedProvd

PUBLIC = {
    "provd": provd_fixtures.provd,
    "provd_server": provd_fixtures.provd_server,
    "provd_client": provd_fixtures.provd_client,
    "provd_factory": provd_fixtures.provd_factory,
    "provd_dhcp_server": phones.provd_dhcp_server,
    "provd_make_phone": phones.provd_make_phone,
    "dhcp_server": phones.dhcp_server,
    "make_phone": phones.make_phone,
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_every_public_fixture_is_typed_and_documented(name: str) -> None:
    function = PUBLIC[name].__wrapped__  # type: ignore[attr-defined]
    annotations = function.__annotations__
    assert "Any" not in str(annotations.get("return", "Any")), f"{name} returns {annotations}"
    assert all("Any" not in str(v) for v in annotations.values()), annotations
    assert len(inspect.getdoc(function) or "") > 40, f"{name} needs a docstring"


INNER = """
import pytest

from emulators.dhcp import DhcpServer
from emulators.phone import Phone
from pytest_provd.fixtures import PhoneFactory


def test_new_names(provd_dhcp_server, provd_make_phone):
    assert isinstance(provd_dhcp_server, DhcpServer)
    assert isinstance(provd_make_phone, PhoneFactory)
    phone = provd_make_phone("snom", "D785")
    assert isinstance(phone, Phone) and phone.mac.startswith("00:04:13")


def test_old_names(dhcp_server, make_phone, provd_dhcp_server, provd_make_phone):
    assert dhcp_server is provd_dhcp_server and make_phone is provd_make_phone
"""


def test_the_old_fixture_names_warn_and_give_the_same_objects(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-W", "default::pytest.PytestDeprecationWarning"
    )
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*PytestDeprecationWarning: the 'dhcp_server' fixture is deprecated*"
            "use 'provd_dhcp_server' (same object)",
            "*PytestDeprecationWarning: the 'make_phone' fixture is deprecated*"
            "use 'provd_make_phone' (same object)",
        ]
    )


def test_the_old_fixture_names_fail_under_warnings_as_errors(pytester: pytest.Pytester) -> None:
    # The inner runs treat warnings as errors: a suite still on the old names learns it.
    pytester.makepyfile(test_inner="def test_old(make_phone):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*use 'provd_make_phone'*"])


def test_fixtures_listing_documents_the_provd_fixtures(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--fixtures")
    out = result.stdout.str()
    for name in ("provd", "provd_server", "provd_client", "provd_factory"):
        assert f"{name} -- " in out or f"{name} [session scope] -- " in out, name
    for name in ("provd_dhcp_server", "provd_make_phone"):
        assert f"{name} -- " in out, name
    assert "Deprecated name of ``provd_make_phone``" in out


def test_the_provd_fixture_builds_with_the_run_session(
    provd: EmbeddedProvd, request: pytest.FixtureRequest
) -> None:
    from pytest_provd import tree
    from pytest_provd.session import session_key

    session = request.config.stash[session_key]
    assert provd.targets == session.targets == []  # no --provd-plugin in this run
    assert provd.builder == session.build
    samples = Path(__file__).parent / "data" / "current" / "plugins"
    built = provd.build(tree.discover(samples).targets["wazo-snom-10.1.215.13"])
    assert (built / "plugin-info").is_file()
    assert built == session.build(tree.discover(samples).targets["wazo-snom-10.1.215.13"])


def test_the_firmware_dir_travels_in_gen_cfg_and_reset_restores_it(
    provd: EmbeddedProvd, tmp_path: Path
) -> None:
    from pytest_provd.firmware import FIRMWARE_DIR_CFG

    assert FIRMWARE_DIR_CFG not in provd.app.gen_cfg
    provd.set_firmware_dir(tmp_path)
    assert provd.app.plugins.gen_cfg[FIRMWARE_DIR_CFG] == str(tmp_path.resolve())
    assert provd.app.gen_cfg["proxies"] is provd.app.proxies
    provd.reset()
    assert FIRMWARE_DIR_CFG not in provd.app.gen_cfg
