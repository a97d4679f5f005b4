"""Load, configure and serve every model of built plugins: a compatibility survey.

For each plugin: load it, run ``configure_common``, then for every model of its
``capabilities`` configure a device with :func:`sample_raw_config` and fetch back every file
the configuration wrote (found by comparing ``var/tftpboot`` before and after) through the
plugin's own HTTP and TFTP services.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd.provd.plugins.manager import (
    HttpRequestInfo,
    PluginError,
    PluginManager,
    TftpRequestInfo,
)
from pytest_provd.provd.plugins.rawconfig import sample_common_raw_config, sample_raw_config

logger = logging.getLogger(__name__)
_CLIENT_IP = "127.0.0.10"


@dataclass
class ModelResult:
    """Outcome for one ``vendor, model, version`` capability."""

    key: str
    configured: bool = False
    files: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class PluginResult:
    """Outcome for one plugin."""

    plugin_id: str
    loaded: bool = False
    common_ok: bool = False
    load_error: str | None = None
    models: list[ModelResult] = field(default_factory=list)

    @property
    def rendered(self) -> bool:
        """Loaded, and every model configured and served what it wrote."""
        return self.loaded and all(m.error is None for m in self.models)


def snapshot_files(root: Path) -> dict[str, bytes]:
    """Every regular file under *root* (``{relative posix path: bytes}``); {} without *root*."""
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def _mac(index: int) -> str:
    return ":".join(f"{b:02x}" for b in (0x00, 0x0B, 0x82, 0x10, index // 256, index % 256))


def device_for(key: str, index: int) -> dict[str, Any]:
    """A device dict for capability *key* (``"Vendor, Model, Version"``)."""
    vendor, model, version = (part.strip() for part in [*key.split(","), "", ""][:3])
    device: dict[str, Any] = {
        "id": f"dev{index:04d}",
        "mac": _mac(index),
        "ip": _CLIENT_IP,
        "vendor": vendor,
        "model": model,
        "config": f"cfg{index:04d}",
        "configured": False,
        "added": "auto",
        "options": {},
        "uuid": f"00000000-0000-4000-8000-{index:012d}",
    }
    if version and version != "*":
        device["version"] = version
    return device


def _candidates(name: str) -> list[str]:
    # A plugin may serve a sub-directory of var/tftpboot (Grandstream/, Panasonic/...).
    parts = name.split("/")
    return ["/".join(parts[i:]) for i in range(len(parts))]


def _fetch_one(plugin: Any, name: str, device: dict[str, Any]) -> bytes | None:
    if plugin.obj.http_service is not None:
        reply = plugin.serve_http(HttpRequestInfo("GET", "/" + name, {}, {}, _CLIENT_IP), device)
        if reply.status == 200:
            return bytes(reply.body)
    if plugin.obj.tftp_service is not None:
        try:
            return bytes(plugin.serve_tftp(TftpRequestInfo(name, _CLIENT_IP, {}), device))
        except FileNotFoundError:
            return None
    return None


def fetch_served(plugin: Any, name: str, device: dict[str, Any]) -> bytes | None:
    """What *plugin* serves *device* for the written file *name* (HTTP, TFTP), else None."""
    for candidate in _candidates(name):
        data = _fetch_one(plugin, candidate, device)
        if data is not None:
            return data
    # Softphone style (Jitsi): POST /<vendor>?uuid=<file>.
    if plugin.obj.http_service is not None and "uuid" in device:
        path = "/" + device["vendor"].lower()
        req = HttpRequestInfo("POST", path, {"uuid": [name]}, {}, _CLIENT_IP)
        reply = plugin.serve_http(req, device)
        if reply.status == 200:
            return bytes(reply.body)
    return None


def survey_plugin(manager: PluginManager, plugin_id: str, counter: Iterable[int]) -> PluginResult:
    """Survey one installed plugin of *manager*."""
    result = PluginResult(plugin_id)
    try:
        plugin = manager.load(plugin_id)
    except PluginError as e:
        result.load_error = str(e)
        return result
    result.loaded = True
    tftpboot = plugin.path / "var" / "tftpboot"
    indexes = iter(counter)
    try:
        try:
            plugin.configure_common(sample_common_raw_config())
            result.common_ok = True
        except PluginError as e:
            result.models.append(ModelResult("<configure_common>", error=str(e)))
        for key in sorted(plugin.info.get("capabilities", {})):
            model = ModelResult(key)
            result.models.append(model)
            device = device_for(key, next(indexes))
            before = snapshot_files(tftpboot)
            try:
                plugin.configure(device, sample_raw_config())
            except PluginError as e:
                model.error = f"configure: {e}"
                continue
            model.configured = True
            after = snapshot_files(tftpboot)
            model.files = sorted(n for n, data in after.items() if before.get(n) != data)
            if not model.files:
                model.error = "configure wrote no file"
                continue
            for name in model.files:
                got = fetch_served(plugin, name, device)
                if got is None:
                    model.error = f"{name}: not served over HTTP or TFTP"
                    break
                if got != after[name]:
                    model.error = f"{name}: served bytes differ from the written file"
                    break
                model.served.append(name)
            try:
                plugin.deconfigure(device)
            except PluginError as e:
                model.error = model.error or f"deconfigure: {e}"
    finally:
        manager.unload(plugin_id)
    return result


def survey(built: dict[str, Path], work_dir: Path) -> list[PluginResult]:
    """Copy each built plugin dir into *work_dir* and survey it."""
    plugins_dir = work_dir / "plugins"
    plugins_dir.mkdir(parents=True, exist_ok=True)
    for plugin_id, path in built.items():
        dest = plugins_dir / plugin_id
        if not dest.exists():
            shutil.copytree(path, dest, symlinks=True)
    manager = PluginManager(plugins_dir, gen_cfg={"proxies": {}})
    counter = itertools.count(1)
    return [survey_plugin(manager, plugin_id, counter) for plugin_id in built]


def summary(results: list[PluginResult]) -> dict[str, int]:
    """Counts for a report."""
    models = [m for r in results for m in r.models if not m.key.startswith("<")]
    return {
        "plugins": len(results),
        "loaded": sum(r.loaded for r in results),
        "rendered": sum(r.rendered for r in results),
        "models": len(models),
        "models_ok": sum(m.error is None for m in models),
    }
