"""pytest entry point of pytest-provd: options, hooks and fixtures (wiring only).

The work lives elsewhere: :mod:`pytest_provd.tree.model` (plugin trees and builds),
:mod:`pytest_provd.checks` (static rules), :mod:`pytest_provd.suite` (the generated suite),
:mod:`pytest_provd.tiers` (what the suite checks, one module per tier),
:mod:`pytest_provd.provd` (the provd server), :mod:`emulators` (phones and DHCP).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pytest

from pytest_provd import hookspecs
from pytest_provd.fixtures.phones import (
    dhcp_server,
    make_phone,
    provd_dhcp_server,
    provd_make_phone,
)
from pytest_provd.fixtures.provd import provd, provd_client, provd_factory, provd_server
from pytest_provd.options import BACKENDS, read_options
from pytest_provd.problems import SourceError
from pytest_provd.report.diffs import DiffSummary
from pytest_provd.report.html import HtmlReport
from pytest_provd.report.reporter import ProvdReporter, third_party_warnings_ignored
from pytest_provd.rootdir import correct_rootdir
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import TIERS, iter_collectors
from pytest_provd.tiers import (
    configure,
    dhcp,
    diff,
    evidence,
    firmware,
    golden,
    hostile,
    load,
    matrix,
    provision,
    static,
)
from pytest_provd.tiers._run import freeze_once

IniType = Literal["string", "args", "bool"] | None
FIXTURES = (
    provd,
    provd_client,
    provd_factory,
    provd_server,
    provd_dhcp_server,
    provd_make_phone,
    dhcp_server,
    make_phone,
)

TIER_PLUGINS = (static, load, hostile, firmware, configure, matrix, provision, golden, diff, dhcp)
"""The tier modules, registered as plugins; their items come in this order."""


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Add the ``pytest_provd_*`` hooks."""
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    """Undo pytest taking a ``--provd-* VALUE`` word for a test path when it chose the
    rootdir and ini file (see :mod:`pytest_provd.rootdir`)."""
    correct_rootdir(early_config, args)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``provd`` option group; every option has a ``provd_*`` ini twin."""
    group = parser.getgroup("provd", "provd plugin testing (pytest-provd)")

    def add(name: str, help: str, *, ini_type: IniType = None, **kwargs: Any) -> None:
        dest = "provd_" + name.replace("-", "_")
        group.addoption(f"--provd-{name}", dest=dest, help=help, **kwargs)
        parser.addini(dest, help=help + f" (ini twin of --provd-{name})", type=ini_type)

    add(
        "plugins-dir",
        "directory holding plugin families (*/build.py); default: a plugins/ dir found under "
        "the rootdir or the current directory",
        metavar="DIR",
    )
    add(
        "plugin",
        "plugin to test: a plugin id (wazo-snom-10.1.215.13), a glob (wazo-snom-*) or 'all'; "
        "repeatable. With no test paths, only the generated suite is collected",
        action="append",
        default=[],
        metavar="ID",
        ini_type="args",
    )
    add(
        "base-ref",
        "git ref to compare against for the version-bump rule (e.g. origin/master)",
        metavar="REF",
    )
    add(
        "backend",
        f"provd to test against: {', '.join(BACKENDS)} (default: embedded)",
        metavar="NAME",
    )
    add(
        "url",
        "REST URL of a running provd for --provd-backend url (e.g. "
        "http://127.0.0.1:8666/provd); not on loopback only with --provd-allow-remote",
        metavar="URL",
    )
    add("token", "auth token (X-Auth-Token) for --provd-backend url", metavar="TOKEN")
    add(
        "allow-remote",
        "let --provd-backend url drive a provd that is not on a loopback address (a test VM "
        "on the LAN): the run installs plugins and creates and deletes configs and devices "
        "there, and says so in a warning",
        action="store_true",
        default=False,
        ini_type="bool",
    )
    add(
        "http-url",
        "provisioning HTTP URL of the --provd-backend url provd (default: its host, port 8667)",
        metavar="URL",
    )
    add(
        "tftp-port",
        "TFTP port of the --provd-backend url provd (default: 69)",
        metavar="PORT",
    )
    add(
        "firmware-dir",
        "cache of real firmware files (checked against pkgs.db size and sha1); "
        "default: synthetic firmware",
        metavar="DIR",
    )
    add(
        "changed",
        "select only targets whose built output differs from --provd-base-ref",
        action="store_true",
        default=False,
        ini_type="bool",
    )
    add("baseline", "known failures file: fail only on failures not listed", metavar="FILE")
    add("write-baseline", "write today's failures to FILE (for --provd-baseline)", metavar="FILE")
    add("golden-dir", "golden files directory (default: tests/golden)", metavar="DIR")
    add(
        "update-golden",
        "rewrite golden files from what the plugins generate now",
        action="store_true",
        default=False,
        ini_type="bool",
    )
    add(
        "diff",
        "with --provd-base-ref: per model of each changed target, which generated files the "
        "change adds, removes or changes, with unified diffs (<model>::diff items); 'report' "
        "(the default) only reports, 'fail' fails on any change",
        nargs="?",
        const="report",
        default=None,
        metavar="report|fail",
    )
    add(
        "report",
        "write a static HTML report of the run (target x model matrix, problems, fetches, "
        "firmware, rendered files, diffs) into DIR at the end of the session",
        metavar="DIR",
    )
    add(
        "check-urls",
        "download each pkgs.db URL (bounded, time-limited) and compare size and sha1",
        action="store_true",
        default=False,
        ini_type="bool",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register markers and resolve options (usage errors surface here)."""
    config.addinivalue_line("markers", "provd: an item of the generated provd plugin suite")
    for marker, text in TIERS.items():
        config.addinivalue_line("markers", f"{marker}: {text}")
    # pluggy calls the last registered first: register in reverse to plan in TIER_PLUGINS order.
    for tier in reversed(TIER_PLUGINS):
        if not config.pluginmanager.is_registered(tier):
            config.pluginmanager.register(tier, f"provd-tier-{tier.__name__.rpartition('.')[2]}")
    session = ProvdSession(config, read_options(config))
    config.stash[session_key] = session
    session.select()
    try:
        reporter = ProvdReporter(session)
    except SourceError as exc:
        raise pytest.UsageError(f"--provd-baseline: {exc}") from exc
    config.pluginmanager.register(reporter, "provd-reporter")
    if not config.pluginmanager.is_registered(evidence):
        config.pluginmanager.register(evidence, "provd-evidence")
    options = session.options
    if options.diff is not None:
        targets = [t.plugin_id for t in session.targets]
        summary = DiffSummary(str(options.base_ref), targets)
        config.pluginmanager.register(summary, "provd-diff-summary")
    if options.report_dir is not None:
        config.pluginmanager.register(HtmlReport(session, options.report_dir), "provd-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this run's scratch directory (plugins' shutdown warnings are not the user's)."""
    session = config.stash.get(session_key, None)
    if session is not None:
        with third_party_warnings_ignored():
            session.close()


def pytest_report_header(config: pytest.Config) -> list[str]:
    """One line: backend, plugins dir, targets, base ref."""
    session = config.stash.get(session_key, None)
    if session is None or (not session.targets and session.plugins_dir is None):
        return []
    names = [t.plugin_id for t in session.targets]
    shown = ", ".join(names[:4]) + (f", ... ({len(names)} in all)" if len(names) > 4 else "")
    lines = [
        f"provd: backend {session.options.backend}, plugins dir {session.plugins_dir}, "
        f"targets: {shown or 'none'}, base ref: {session.options.base_ref or 'none'}"
    ]
    if session.options.changed:
        lines.append(
            f"provd: --provd-changed kept {len(names)} changed target(s), "
            f"left out {len(session.unchanged)} unchanged"
        )
    return lines


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``--provd-plugin`` and no test paths, collect only the generated suite."""
    session = config.stash.get(session_key, None)
    if session is not None and session.generated_suite_only:
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the generated suite, before -m/-k deselection sees the items."""
    before = len(items)
    with third_party_warnings_ignored():
        for collector in iter_collectors(session):
            items.extend(session.genitems(collector))
    if len(items) > before:
        # The suite's items and the facts their planning read live as long as the run:
        # out of the collector's sight, full collections stop walking them (0.1 s a run).
        freeze_once("collected")
