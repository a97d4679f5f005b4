"""The ``firmware`` item (every pkgs.db package installs through the plugin's own install
service; packages whose install needs the vendor's real files, as ``unsign``, ``unrar`` and
``7z`` steps do, are named and left out unless ``--provd-firmware-dir`` has them) and, with
``--provd-check-urls``, ``firmware-urls`` (each pkgs.db URL downloads, bounded, with the size
and sha1 pkgs.db says)."""

from __future__ import annotations

import hashlib

import pytest

from pytest_provd import pkgsdb, tree
from pytest_provd.facts import record_facts, record_note
from pytest_provd.problems import Problem, SourceError
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan
from pytest_provd.tiers._run import TargetRun, problem_of, target_run


def check_firmware(run: TargetRun) -> list[Problem]:
    """Every pkgs.db package installs through the plugin's own install service."""
    problems = run.load()
    if problems:
        return problems
    # Kept lazy: the server stack is not needed to start pytest.
    from pytest_provd.firmware.synthetic import SyntheticFirmwareLimit
    from pytest_provd.provd.plugins.manager import PluginError

    firmware = run.plugin.firmware
    if firmware is None:
        return []
    found: list[Problem] = []
    limited: list[str] = []  # packages only the vendor's real files can install
    for pkg_id in sorted(firmware.installable()):
        try:
            firmware.install(pkg_id)
            record_facts(firmware=1)
        except (PluginError, SourceError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, SourceError) else exc
            if isinstance(cause, SyntheticFirmwareLimit):
                limited.append(f"{pkg_id} ({cause.command})")
            elif isinstance(cause, SourceError):
                path = (
                    run.target.source_dir / "pkgs" / "pkgs.db"
                    if run.target.source_dir
                    else cause.path
                )
                found.append(Problem(path, cause.message, cause.line, f"pkg_{pkg_id}"))
            else:
                found.append(problem_of(exc, run.target, run.plugin.path))
    if limited:
        where = (
            "they are not in --provd-firmware-dir"
            if run.session.options.firmware_dir is not None
            else "pass --provd-firmware-dir with the vendor's files"
        )
        note = (
            f"not installed: {', '.join(limited)}: synthetic firmware cannot feed these "
            f"install steps; {where}"
        )
        if not found:
            raise pytest.skip.Exception(note, _use_item_location=True)
        record_note(note)
    return found


def check_firmware_urls(
    target: tree.Target, timeout: float = 30.0, max_total: int = 2 * 1024**3
) -> list[Problem]:
    """Download each pkgs.db URL (bounded) and compare its size and sha1 with pkgs.db."""
    # Kept lazy: urllib.request (ssl, certificates) is only needed with --provd-check-urls.
    import urllib.request

    if target.source_dir is None or not (target.source_dir / "pkgs" / "pkgs.db").is_file():
        return []
    path = target.source_dir / "pkgs" / "pkgs.db"
    db = pkgsdb.load(path)
    found: list[Problem] = []
    budget = max_total
    for entry in db.files.values():
        if not entry.url or entry.size_int is None:
            continue
        section = f"file_{entry.name}"
        digest = hashlib.sha1()
        size = 0
        try:
            with urllib.request.urlopen(entry.url, timeout=timeout) as resp:
                while chunk := resp.read(1 << 16):
                    size += len(chunk)
                    digest.update(chunk)
                    if size > entry.size_int or size > budget:
                        break
        except OSError as exc:
            found.append(Problem(path, f"{entry.url}: download failed: {exc}", entry.line, section))
            continue
        budget -= size
        if size != entry.size_int:
            found.append(
                Problem(
                    path,
                    f"{entry.url}: {size} bytes, pkgs.db says {entry.size}",
                    entry.line,
                    section,
                )
            )
        elif digest.hexdigest() != entry.sha1sum:
            found.append(
                Problem(
                    path,
                    f"{entry.url}: sha1 {digest.hexdigest()}, pkgs.db says {entry.sha1sum}",
                    entry.line,
                    section,
                    fix="update sha1sum in pkgs.db",
                )
            )
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``firmware``, and ``firmware-urls`` with ``--provd-check-urls``."""
    run = target_run(session, target)
    plan.add(ItemSpec("firmware", "provd_firmware", lambda: check_firmware(run)))
    if session.options.check_urls:
        plan.add(ItemSpec("firmware-urls", "provd_firmware", lambda: check_firmware_urls(target)))
