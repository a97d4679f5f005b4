"""The embedded side: our provisioning application (:class:`ProvdApp`) renders a job.

The same calls as the real side, on our application: default configs, the plugin installed
from a plugin server on loopback, then the job's configs and devices.  Plugins load against
our compat ``wazo_provd`` even where a real one is installed (:func:`force_compat`).
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from pytest_provd import compat
from pytest_provd.fidelity._snapshot import read_all, stamp, written
from pytest_provd.fidelity.job import Job, Render, SideResult


def force_compat() -> None:
    """Make ``import wazo_provd`` give our stand-in in this process, real one installed or not.

    Call before anything imports ``wazo_provd``.
    """
    compat.activate("embedded")


def render(job: Job) -> SideResult:
    """Run *job* on the embedded provd's application."""
    force_compat()
    # After force_compat(): the server stack imports wazo_provd.
    from pytest_provd.backends.base import plugin_server
    from pytest_provd.provd.domain.app import ProvdApp
    from pytest_provd.provd.domain.configs import default_configs

    result = SideResult("embedded", started=time.time())
    app = ProvdApp(Path(job.state_dir) / "plugins", dict(job.base_raw_config))
    app.plugins.plugins_dir.mkdir(parents=True, exist_ok=True)
    try:
        app.configs.load(default_configs(str(job.base_raw_config["ip"])))
        with plugin_server(Path(job.package_dir)) as url:
            app.set_param("plugin_server", url)
            app.pg_update()
            app.pg_install(job.plugin_id)
        plugin_dir = app.plugin(job.plugin_id).path
        tftpboot = plugin_dir / "var" / "tftpboot"
        result.common = read_all(tftpboot)
        installed = stamp(plugin_dir)
        for doc in job.configs:
            app.cfg_insert(dict(doc))
        for dev in job.devices:
            before = stamp(tftpboot)
            device = dict(dev.device)
            app.dev_insert(device)
            configured = bool(app.devices.get(str(device["id"])).get("configured"))
            error = (
                None if configured else app.config_errors.get(str(device["id"]), "not configured")
            )
            result.renders.append(
                Render(
                    dev.label,
                    dev.model,
                    str(device["mac"]),
                    configured,
                    written(tftpboot, before),
                    error,
                )
            )
        result.outside = written(plugin_dir, installed, outside_tftpboot=True)
    except Exception as exc:  # reported as the side's error, as the real side does
        result.error = "".join(traceback.format_exception(exc)).strip()
    finally:
        app.close()
    result.ended = time.time()
    return result
