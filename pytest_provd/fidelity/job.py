"""What one side renders for a target (:class:`Job`) and what it rendered (:class:`SideResult`).

Both travel as JSON files between the parent and the worker processes (file contents in
base64), so each side can run in its own interpreter.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd.capabilities import covers, split_capability_key
from pytest_provd.fidelity.matrix import RenderConfig

SIDES = ("real", "embedded")


@dataclass
class DeviceJob:
    """One device to insert: rendered with the config labelled *label*."""

    label: str
    model: str
    device: dict[str, Any]


@dataclass
class Job:
    """One target on one side: install *plugin_id* from *package_dir*, insert the configs,
    insert the devices one by one."""

    plugin_id: str
    package_dir: str
    state_dir: str
    base_raw_config: dict[str, Any]
    configs: list[dict[str, Any]]
    devices: list[DeviceJob]

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> Job:
        data = json.loads(path.read_text())
        data["devices"] = [DeviceJob(**d) for d in data["devices"]]
        return cls(**data)


@dataclass
class Render:
    """What inserting one device wrote under ``var/tftpboot`` (path -> bytes)."""

    label: str
    model: str
    mac: str
    configured: bool
    files: dict[str, bytes] = field(default_factory=dict)
    error: str | None = None


@dataclass
class SideResult:
    """One side's renders of one target; *error* when the target could not be run at all."""

    side: str
    started: float = 0.0
    ended: float = 0.0
    error: str | None = None
    common: dict[str, bytes] = field(default_factory=dict)
    renders: list[Render] = field(default_factory=list)
    outside: dict[str, bytes] = field(default_factory=dict)
    """Files the renders wrote in the plugin directory outside ``var/tftpboot``."""

    def dump(self, path: Path) -> None:
        def enc(files: dict[str, bytes]) -> dict[str, str]:
            return {k: base64.b64encode(v).decode("ascii") for k, v in files.items()}

        data = asdict(self)
        data["common"] = enc(self.common)
        data["outside"] = enc(self.outside)
        for out, render in zip(data["renders"], self.renders, strict=True):
            out["files"] = enc(render.files)
        path.write_text(json.dumps(data, sort_keys=True))

    @classmethod
    def load(cls, path: Path) -> SideResult:
        data = json.loads(path.read_text())

        def dec(files: dict[str, str]) -> dict[str, bytes]:
            return {k: base64.b64decode(v) for k, v in files.items()}

        renders = [Render(**{**r, "files": dec(r["files"])}) for r in data.pop("renders")]
        common, outside = dec(data.pop("common")), dec(data.pop("outside"))
        return cls(**data, common=common, renders=renders, outside=outside)


def capability_key(capabilities: dict[str, Any], model: str) -> str | None:
    """The capability key naming *model*, else the first whose model stands for it."""
    parsed = {str(key): split_capability_key(str(key)) for key in capabilities}
    for key, parts in parsed.items():
        if parts is not None and parts.model == model:
            return key
    for key, parts in parsed.items():
        if parts is not None and covers(parts.model, model):
            return key
    return None


def _mac(index: int) -> str:
    return ":".join(
        f"{b:02x}" for b in (0x00, 0x0B, 0x82, index >> 16 & 255, index >> 8 & 255, index & 255)
    )


def device_for(
    plugin_id: str,
    model: str,
    capabilities: dict[str, Any],
    index: int,
    config: RenderConfig,
    config_ref: str,
) -> DeviceJob:
    """Device number *index* (its id, MAC and IP come from it) of *model*, rendered with
    *config* (the config document *config_ref*)."""
    vendor = next(
        (p.vendor for p in map(split_capability_key, map(str, capabilities)) if p is not None),
        "Unknown",
    )
    key = split_capability_key(capability_key(capabilities, model) or "")
    device: dict[str, Any] = {
        "id": f"fid{index:06d}",
        "mac": _mac(index),
        "ip": f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}",
        "vendor": key.vendor if key is not None else vendor,
        "model": model,
        "plugin": plugin_id,
        "config": config_ref,
        "added": "manual",
    }
    if key is not None and key.version != "*":
        device["version"] = key.version
    return DeviceJob(config.label, model, device)


def devices_for(
    plugin_id: str, models: list[str], capabilities: dict[str, Any], configs: list[RenderConfig]
) -> list[DeviceJob]:
    """One device per config and model, with stable ids and MACs (the same on both sides)."""
    return [
        device_for(plugin_id, model, capabilities, c * 1000 + m + 1, config, config_id(c))
        for c, config in enumerate(configs)
        for m, model in enumerate(models)
    ]


def config_id(index: int) -> str:
    """The id of the *index*-th render config on both sides."""
    return f"fidelity{index:03d}"


def config_docs(configs: list[RenderConfig]) -> list[dict[str, Any]]:
    """The config documents inserted on both sides, below provd's ``base`` config."""
    return [
        {
            "id": config_id(i),
            "parent_ids": ["base"],
            "deletable": True,
            "raw_config": c.raw_config,
        }
        for i, c in enumerate(configs)
    ]
