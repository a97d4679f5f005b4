"""The real side: an installed ``wazo_provd``'s provisioning application renders a job.

No REST API (it needs wazo-auth) and no listening server: configs and devices go straight
into ``ProvisioningApplication`` (``cfg_insert``, ``dev_insert``) on the twisted reactor,
and the plugin is installed as provd installs one (``pg_mgr.update`` then ``pg_install``
from a plugin server on loopback).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any

from pytest_provd.backends.base import plugin_server
from pytest_provd.fidelity._snapshot import read_all, stamp, written
from pytest_provd.fidelity.job import Job, Render, SideResult
from pytest_provd.provd.domain.configs import default_configs


class _Errors(logging.Handler):
    """provd logs configure failures (and goes on): keep the last one's text."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text += f": {type(exc).__name__}: {exc}"
        self.last = text


def _app(job: Job) -> Any:
    # Lazy: wazo_provd exists only in the interpreter this side runs in.
    from wazo_provd.app import ProvisioningApplication
    from wazo_provd.devices.config import ConfigCollection
    from wazo_provd.devices.device import DeviceCollection
    from wazo_provd.persist.json_backend import JsonDatabaseFactory

    state = Path(job.state_dir)
    for sub in ("storage/plugins", "cache", "jsondb"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    db = JsonDatabaseFactory().new_database("json", "default", json_db_dir=str(state / "jsondb"))
    config = {
        "general": {
            "base_storage_dir": str(state / "storage"),
            "cache_dir": str(state / "cache"),
            "cache_plugin": False,
            "check_compat_min": True,
            "check_compat_max": True,
            "base_raw_config": dict(job.base_raw_config),
            "http_auth_strategy": None,
        },
        "proxy": {},
        "tenants": {},
        "plugin_config": {},
    }
    app = ProvisioningApplication(
        ConfigCollection(db.collection("configs")),
        DeviceCollection(db.collection("devices")),
        config,
    )
    return app, db


def _render(job: Job, result: SideResult) -> Generator[Any, Any, None]:
    app, db = _app(job)
    errors = _Errors()
    logging.getLogger().addHandler(errors)
    try:
        for cfg in default_configs(str(job.base_raw_config["ip"])):
            yield app.cfg_insert(dict(cfg))
        with plugin_server(Path(job.package_dir)) as url:
            app.pg_mgr.server = url
            yield app.pg_mgr.update()[0]
            yield app.pg_install(job.plugin_id)[0]
        plugin_dir = Path(job.state_dir) / "storage" / "plugins" / job.plugin_id
        tftpboot = plugin_dir / "var" / "tftpboot"
        result.common = read_all(tftpboot)
        installed = stamp(plugin_dir)
        for doc in job.configs:
            yield app.cfg_insert(dict(doc))
        for dev in job.devices:
            before = stamp(tftpboot)
            errors.last = None
            device = dict(dev.device)
            yield app.dev_insert(device)
            stored = yield app.dev_retrieve(device["id"])
            configured = bool(stored and stored.get("configured"))
            result.renders.append(
                Render(
                    dev.label,
                    dev.model,
                    str(device["mac"]),
                    configured,
                    written(tftpboot, before),
                    None if configured else errors.last or "not configured",
                )
            )
        result.outside = written(plugin_dir, installed, outside_tftpboot=True)
    finally:
        logging.getLogger().removeHandler(errors)
        app.close()
        db.close()


def render(job: Job) -> SideResult:
    """Run *job* on the installed wazo_provd (the reactor is started and stopped here)."""
    from twisted.internet import defer, task

    result = SideResult("real", started=time.time())

    def main(_reactor: Any) -> Any:
        d = defer.inlineCallbacks(_render)(job, result)

        def failed(failure: Any) -> None:
            result.error = "".join(traceback.format_exception(failure.value)).strip()

        return d.addErrback(failed)

    try:
        task.react(main)
    except SystemExit:  # react() always ends with sys.exit()
        pass
    result.ended = time.time()
    return result
