"""The ``--provd-*`` options (and their ``provd_*`` ini twins), read and validated once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_provd.net import is_loopback_url

BACKENDS = ("embedded", "real", "url")
DIFF_MODES = ("report", "fail")


@dataclass
class ProvdOptions:
    """The ``--provd-*`` options (or their ``provd_*`` ini twins), validated."""

    plugins_dir: Path | None = None
    plugins: list[str] = field(default_factory=list)
    base_ref: str | None = None
    backend: str = "embedded"
    url: str | None = None
    token: str | None = None
    http_url: str | None = None
    tftp_port: int | None = None
    firmware_dir: Path | None = None
    allow_remote: bool = False
    """``--provd-allow-remote``: the url backend may drive a provd that is not on loopback."""
    changed: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    golden_dir: Path = Path("tests/golden")
    update_golden: bool = False
    check_urls: bool = False
    diff: str | None = None
    """``--provd-diff``: None, ``report`` or ``fail``."""
    report_dir: Path | None = None


def _get(config: pytest.Config, name: str) -> object:
    """The command-line value of ``--provd-<name>``, else the ini value ``provd_<name>``."""
    value = config.getoption(f"provd_{name}")
    if value in (None, [], False):
        value = config.getini(f"provd_{name}")
    return value


def _check_real_backend() -> None:
    """A usage error when the ``real`` backend cannot run in this process: a CI job that
    asked for real provd must not go green without it."""
    from pytest_provd import compat  # lazy: the compat namespace is the server stack's

    missing = compat.real_missing()
    if missing:
        raise pytest.UsageError(
            f"--provd-backend real: cannot import {', '.join(missing)}; {compat.REAL_INSTALL_HINT}"
        )
    if compat.mode() == "compat":
        raise pytest.UsageError(
            "--provd-backend real: this process imported pytest-provd's own wazo_provd "
            "already (an earlier embedded run in the same interpreter); run it in a "
            "process of its own"
        )


def remote_warning(url: str) -> str:
    """What a run does to the provd at *url* (said when ``--provd-allow-remote`` lets it)."""
    return (
        f"--provd-allow-remote: this run changes the provd at {url}: it installs each "
        "selected plugin there (one already installed is refused, never replaced) from a "
        "plugin server on this machine, pointing its plugin_server there during the install "
        "and back after; it creates one config (a child of 'base') and one device per "
        "emulated phone (MAC: the vendor's OUI and 3 bytes derived from plugin id and "
        "model); at the end it deletes those devices (by MAC) and configs (by id) and "
        "uninstalls the plugins it installed. Other devices, configs and plugins are left "
        "alone."
    )


def read_options(config: pytest.Config) -> ProvdOptions:
    """Validate the options; a bad value is a :class:`pytest.UsageError` naming valid ones."""
    opts = ProvdOptions()
    plugins_dir = _get(config, "plugins_dir")
    if plugins_dir:
        path = Path(str(plugins_dir))
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if not path.is_dir():
            raise pytest.UsageError(f"--provd-plugins-dir: {path} is not a directory")
        opts.plugins_dir = path.resolve()
    raw_plugins = _get(config, "plugin") or []
    assert isinstance(raw_plugins, list)
    opts.plugins = [p for item in raw_plugins for p in str(item).replace(",", " ").split()]
    base_ref = _get(config, "base_ref")
    opts.base_ref = str(base_ref) if base_ref else None
    backend = str(_get(config, "backend") or "embedded")
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"--provd-backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}"
        )
    opts.backend = backend
    if backend == "real":
        _check_real_backend()
    url = _get(config, "url")
    opts.url = str(url) if url else None
    token = _get(config, "token")
    opts.token = str(token) if token else None
    http_url = _get(config, "http_url")
    opts.http_url = str(http_url) if http_url else None
    tftp_port = _get(config, "tftp_port")
    if tftp_port:
        try:
            opts.tftp_port = int(str(tftp_port))
        except ValueError:
            raise pytest.UsageError(f"--provd-tftp-port: {tftp_port!r} is not a port") from None
        if not 0 < opts.tftp_port < 65536:
            raise pytest.UsageError(f"--provd-tftp-port: {tftp_port} is not a port")
    opts.allow_remote = bool(_get(config, "allow_remote"))
    if backend == "url":
        if not opts.url:
            raise pytest.UsageError("--provd-backend url needs --provd-url http://HOST:PORT/provd")
        for flag, address in (("url", opts.url), ("http-url", opts.http_url)):
            if address is not None and not address.startswith(("http://", "https://")):
                raise pytest.UsageError(f"--provd-{flag} {address}: not an http(s) URL")
        remote = [
            (flag, address)
            for flag, address in (("url", opts.url), ("http-url", opts.http_url))
            if address is not None and not is_loopback_url(address)
        ]
        if remote and not opts.allow_remote:
            flag, address = remote[0]
            raise pytest.UsageError(
                f"--provd-{flag} {address}: not a loopback address; the run installs plugins "
                "and creates and deletes configs and devices on that provd, so it needs "
                "--provd-allow-remote (ini: provd_allow_remote = true), or publish the "
                "provd's ports on 127.0.0.1 / tunnel with ssh -L"
            )
        if remote:
            config.issue_config_time_warning(
                pytest.PytestWarning(remote_warning(opts.url)), stacklevel=2
            )
    elif opts.url or opts.http_url or opts.tftp_port:
        raise pytest.UsageError(
            "--provd-url, --provd-http-url and --provd-tftp-port need --provd-backend url"
        )
    firmware_dir = _get(config, "firmware_dir")
    if firmware_dir:
        opts.firmware_dir = Path(str(firmware_dir)).resolve()
        if not opts.firmware_dir.is_dir():
            raise pytest.UsageError(f"--provd-firmware-dir: {opts.firmware_dir} is not a directory")
    opts.changed = bool(_get(config, "changed"))
    if opts.changed and not opts.base_ref:
        raise pytest.UsageError("--provd-changed needs --provd-base-ref REF")
    for name in ("baseline", "write_baseline"):
        value = _get(config, name)
        if value:
            setattr(opts, name, Path(str(value)).resolve())
    if opts.baseline is not None and not opts.baseline.is_file():
        raise pytest.UsageError(f"--provd-baseline: {opts.baseline} does not exist")
    golden = _get(config, "golden_dir")
    if golden:
        opts.golden_dir = Path(str(golden))
    if not opts.golden_dir.is_absolute():
        opts.golden_dir = config.rootpath / opts.golden_dir
    opts.update_golden = bool(_get(config, "update_golden"))
    opts.check_urls = bool(_get(config, "check_urls"))
    diff = _get(config, "diff")
    if diff:
        opts.diff = str(diff).strip().lower()
        if opts.diff not in DIFF_MODES:
            raise pytest.UsageError(
                f"--provd-diff: unknown mode {diff!r}; use --provd-diff (report), "
                "--provd-diff=report or --provd-diff=fail"
            )
        if not opts.base_ref:
            raise pytest.UsageError("--provd-diff needs --provd-base-ref REF")
    report_dir = _get(config, "report")
    if report_dir:
        path = Path(str(report_dir))
        opts.report_dir = path if path.is_absolute() else config.invocation_params.dir / path
        if opts.report_dir.exists() and not opts.report_dir.is_dir():
            raise pytest.UsageError(f"--provd-report: {opts.report_dir} is not a directory")
    return opts
