"""``--provd-backend url|real``: the same generated suite and phones against another provd."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from pytest_provd import compat
from pytest_provd.backends import BackendError, UrlBackend
from pytest_provd.client import ProvdClient
from pytest_provd.net import is_loopback_url
from tests.inner import INNER_INI

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
TARGET = "wazo-snom-10.1.215.13"


@pytest.fixture
def samples(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    return SAMPLES


def url_args(provd: object) -> list[str]:
    from pytest_provd.provd import EmbeddedProvd

    assert isinstance(provd, EmbeddedProvd)
    return [
        "--provd-backend",
        "url",
        "--provd-url",
        provd.rest_url,
        "--provd-http-url",
        provd.http_url,
        "--provd-tftp-port",
        str(provd.tftp_address[1]),
    ]


def test_url_backend_boots_the_phones_on_the_attached_provd_and_cleans_up(
    pytester: pytest.Pytester, samples: Path, provd_factory: object
) -> None:
    attached = provd_factory()  # type: ignore[operator]
    client = ProvdClient(attached.rest_url)
    client.set_plugin_server("http://127.0.0.1:9/the-users-own/")
    before_configs = {c["id"] for c in client.configs()}
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(samples),
        "--provd-plugin",
        TARGET,
        "-m",
        "provd_provision",
        *url_args(attached),
    )
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines([f"{TARGET}: 6 passed | 3 phones provisioned, 3 firmware*"])
    # Every phone went through the attached provd's own pipeline...
    routed = [entry for entry in attached.pipeline.log if entry.get("plugin") == TARGET]
    assert routed, attached.pipeline.log[:5]
    # ...and the run removed what it created and restored the user's plugin server.
    assert client.devices() == []
    assert {c["id"] for c in client.configs()} == before_configs
    assert client.installed_plugins() == {}
    assert client.get_param("plugin_server") == "http://127.0.0.1:9/the-users-own/"


def test_url_backend_never_replaces_a_plugin_it_did_not_install(
    pytester: pytest.Pytester, samples: Path, provd_factory: object, tmp_path: Path
) -> None:
    from pytest_provd import tree

    attached = provd_factory()  # type: ignore[operator]
    built = tree.build(tree.discover(samples).targets[TARGET], tmp_path)
    attached.install_plugin_dir(built)
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(samples),
        "--provd-plugin",
        TARGET,
        "-m",
        "provd_provision",
        *url_args(attached),
    )
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines(
        [f"*{TARGET} is already installed on the provd at *never replaces a plugin*"]
    )
    assert TARGET in ProvdClient(attached.rest_url).installed_plugins()


def test_url_backend_unreachable_provd_fails_the_phone_items(
    pytester: pytest.Pytester, samples: Path
) -> None:
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(samples),
        "--provd-plugin",
        TARGET,
        "-m",
        "provd_provision",
        "--provd-backend",
        "url",
        "--provd-url",
        "http://127.0.0.1:9/provd",
    )
    result.assert_outcomes(failed=6)
    result.stdout.fnmatch_lines(["*provd at http://127.0.0.1:9/provd: *"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--provd-backend", "url"], "*--provd-backend url needs --provd-url*"),
        (
            ["--provd-backend", "url", "--provd-url", "http://192.0.2.5:8666/provd"],
            "*--provd-url http://192.0.2.5:8666/provd: not a loopback address; the run installs "
            "plugins and creates and deletes configs and devices on that provd, so it needs "
            "--provd-allow-remote (ini: provd_allow_remote = true)*",
        ),
        (
            [
                "--provd-backend",
                "url",
                "--provd-url",
                "http://127.0.0.1:8666/provd",
                "--provd-http-url",
                "http://192.0.2.5:8667/",
            ],
            "*--provd-http-url http://192.0.2.5:8667/: not a loopback address*",
        ),
        (
            ["--provd-backend", "url", "--provd-url", "ftp://127.0.0.1/provd"],
            "*--provd-url ftp://127.0.0.1/provd: not an http(s) URL*",
        ),
        (["--provd-url", "http://127.0.0.1:8666/provd"], "*need --provd-backend url*"),
        (
            [
                "--provd-backend",
                "url",
                "--provd-url",
                "http://127.0.0.1:1/provd",
                "--provd-tftp-port",
                "99999",
            ],
            "*--provd-tftp-port: 99999 is not a port*",
        ),
    ],
)
def test_backend_option_mistakes_are_usage_errors(
    pytester: pytest.Pytester, samples: Path, args: list[str], message: str
) -> None:
    result = pytester.runpytest(
        "--provd-plugins-dir", str(samples), "--provd-plugin", TARGET, *args
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


@pytest.mark.skipif(compat.real_installed(), reason="a real wazo_provd is installed here")
def test_real_backend_without_wazo_provd_is_a_usage_error_saying_what_to_install(
    pytester: pytest.Pytester, samples: Path
) -> None:
    # A CI job that asked for real provd must not go green without it: no item runs.
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir", str(samples), "--provd-plugin", TARGET, "--provd-backend", "real"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*--provd-backend real: cannot import wazo_provd*; install wazo-provd and its "
            "dependencies in this environment*pip install -r test-requirements.txt*"
        ]
    )
    assert "passed" not in result.stdout.str() and "skipped" not in result.stdout.str()


def test_real_backend_missing_names_each_module_it_cannot_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "xivo_fetchfw" else real_find_spec(name, *a),
    )
    monkeypatch.delitem(sys.modules, "xivo_fetchfw", raising=False)
    missing = compat.real_missing()
    assert "xivo_fetchfw" in missing
    assert ("wazo_provd" in missing) is not compat.real_installed()


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8666/provd", True),
        ("http://localhost:8666/provd", True),
        ("http://[::1]:8666/provd", True),
        ("http://127.9.9.9/", True),
        ("http://192.0.2.2:8666/provd", False),
        ("http://provd.example.com/provd", False),
        ("ftp://127.0.0.1/", False),
        ("127.0.0.1:8666", False),
    ],
)
def test_loopback_rule(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_url_backend_class_refuses_a_remote_host_unless_allowed() -> None:
    with pytest.raises(BackendError, match="only loopback provds unless --provd-allow-remote"):
        UrlBackend("http://192.0.2.2:8666/provd")
    # Nothing is contacted before start().
    backend = UrlBackend("http://192.0.2.2:8666/provd", allow_remote=True)
    assert backend.endpoints.http_url == "http://192.0.2.2:8667/"
    assert backend.endpoints.tftp_address == ("192.0.2.2", 69)


@pytest.mark.parametrize("how", ["option", "ini"])
def test_allow_remote_accepts_a_lan_provd_and_says_what_the_run_does_there(
    pytester: pytest.Pytester, samples: Path, how: str
) -> None:
    # --collect-only: options are read and the warning given, no item runs, nothing is
    # contacted (the backend starts with the first phone item).
    if how == "ini":
        pytester.makeini(INNER_INI + "provd_allow_remote = true\n")
        opt_in = []
    else:
        opt_in = ["--provd-allow-remote"]
    url = "http://192.0.2.10:8666/provd"  # TEST-NET-1: documentation only, never routed
    result = pytester.runpytest(
        "--provd-plugins-dir",
        str(samples),
        "--provd-plugin",
        TARGET,
        "--provd-backend",
        "url",
        "--provd-url",
        url,
        *opt_in,
        "--collect-only",
        "-q",
        # The inner ini turns warnings into errors; this one must be shown.
        "-W",
        "default::pytest.PytestWarning",
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            f"*--provd-allow-remote: this run changes the provd at {url}: it installs each "
            "selected plugin there*",
        ]
    )
    text = " ".join(result.stdout.str().split())
    assert "deletes those devices (by MAC) and configs (by id)" in text
