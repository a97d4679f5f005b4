"""provd's data model, in memory: configs with inheritance, devices, and their validation.

Configs form a graph through ``parent_ids``; a config's *raw config* is its ancestors' raw
configs merged depth-first in ``parent_ids`` order (later parents win), then its own, with
nested dicts merged key by key -- as provd computes it.  Devices carry what identification
found (mac, ip, vendor, model, version, sn, uuid) plus ``plugin``, ``config`` and
``configured``.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import uuid
from typing import Any

from pytest_provd.problems import ProvdHarnessError

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
DEVICE_KEYS = {
    "id",
    "mac",
    "ip",
    "sn",
    "uuid",
    "vendor",
    "model",
    "version",
    "plugin",
    "config",
    "configured",
    "added",
    "description",
    "options",
    "remote_state_sip_username",
    "tenant_uuid",
    "is_new",
}


class InvalidResource(ProvdHarnessError):
    """A config or device that provd would refuse (HTTP 400)."""


class UnknownResource(ProvdHarnessError):
    """An id that does not exist (HTTP 404)."""


def norm_mac(value: str) -> str:
    """``00:04:13:ab:cd:ef`` from any usual spelling; InvalidResource otherwise."""
    digits = re.sub(r"[^0-9A-Fa-f]", "", value)
    if len(digits) != 12 or len(re.sub(r"[0-9A-Fa-f:\-.]", "", value)) != 0:
        raise InvalidResource(f"invalid MAC address {value!r}")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def deep_update(base: dict[str, Any], other: dict[str, Any]) -> None:
    """Merge *other* into *base*, recursing into dicts present in both."""
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


class ConfigStore:
    """Configs by id."""

    def __init__(self) -> None:
        self.configs: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()

    def validate(self, config: Any) -> dict[str, Any]:
        """A checked copy of *config*; InvalidResource says what is wrong."""
        if not isinstance(config, dict):
            raise InvalidResource("config must be a JSON object")
        if not isinstance(config.get("parent_ids", None), list) or not all(
            isinstance(p, str) for p in config["parent_ids"]
        ):
            raise InvalidResource('config needs "parent_ids": a list of config ids')
        if not isinstance(config.get("raw_config", None), dict):
            raise InvalidResource('config needs "raw_config": an object')
        if "id" in config and not isinstance(config["id"], str):
            raise InvalidResource('"id" must be a string')
        lines = config["raw_config"].get("sip_lines", {})
        if not isinstance(lines, dict) or not all(isinstance(v, dict) for v in lines.values()):
            raise InvalidResource('"sip_lines" must map line numbers to objects')
        for parent in config["parent_ids"]:
            if parent not in self.configs:
                raise InvalidResource(f"unknown parent config {parent!r}")
        return copy.deepcopy(config)

    def add(self, config: Any) -> str:
        """Insert a config; returns its id (generated when absent)."""
        with self._lock:
            checked = self.validate(config)
            config_id = checked.get("id") or uuid.uuid4().hex
            if config_id in self.configs:
                raise InvalidResource(f"config {config_id!r} already exists")
            checked["id"] = config_id
            checked.setdefault("deletable", True)
            self.configs[config_id] = checked
            return str(config_id)

    def update(self, config_id: str, config: Any) -> None:
        """Replace a config (its id stays)."""
        with self._lock:
            self.get(config_id)
            checked = self.validate(config)
            checked["id"] = config_id
            if config_id in self._ancestors(checked["parent_ids"]):
                raise InvalidResource(f"config {config_id!r} would be its own ancestor")
            checked.setdefault("deletable", True)
            self.configs[config_id] = checked

    def _ancestors(self, parent_ids: list[str]) -> set[str]:
        seen: set[str] = set()
        stack = list(parent_ids)
        while stack:
            current = stack.pop()
            if current in seen or current not in self.configs:
                continue
            seen.add(current)
            stack.extend(self.configs[current]["parent_ids"])
        return seen

    def get(self, config_id: str) -> dict[str, Any]:
        """A config by id (UnknownResource when absent)."""
        try:
            return self.configs[config_id]
        except KeyError:
            raise UnknownResource(f"no config {config_id!r}") from None

    def delete(self, config_id: str) -> None:
        """Remove a config that no other config inherits from."""
        with self._lock:
            config = self.get(config_id)
            if not config.get("deletable", True):
                raise InvalidResource(f"config {config_id!r} is not deletable")
            children = [c for c, v in self.configs.items() if config_id in v["parent_ids"]]
            if children:
                raise InvalidResource(f"config {config_id!r} is a parent of {children}")
            del self.configs[config_id]

    def raw(self, config_id: str) -> dict[str, Any]:
        """The flattened raw config of *config_id*."""
        self.get(config_id)
        result: dict[str, Any] = {}
        visited = {config_id}

        def visit(current: str) -> None:
            config = self.configs.get(current)
            if config is None:
                return
            for parent in config["parent_ids"]:
                if parent not in visited:
                    visited.add(parent)
                    visit(parent)
            deep_update(result, config["raw_config"])

        visit(config_id)
        return result

    def autocreate(self) -> str | None:
        """A new config made from the ``autocreate`` role config, as for a new device."""
        with self._lock:
            templates = [c for c in self.configs.values() if c.get("role") == "autocreate"]
            if not templates:
                return None
            template = copy.deepcopy(templates[0])
            template.pop("id", None)
            template.pop("role", None)
            template["transient"] = True
            return self.add(template)


class DeviceStore:
    """Devices by id, with look-ups by identification keys."""

    def __init__(self) -> None:
        self.devices: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    def validate(self, device: Any) -> dict[str, Any]:
        """A checked, normalised copy of *device*."""
        if not isinstance(device, dict):
            raise InvalidResource("device must be a JSON object")
        unknown = set(device) - DEVICE_KEYS
        if unknown:
            raise InvalidResource(f"unknown device field(s): {', '.join(sorted(unknown))}")
        checked = copy.deepcopy(device)
        for key in ("mac", "ip", "sn", "uuid", "vendor", "model", "version", "plugin", "config"):
            if key in checked and not isinstance(checked[key], str):
                raise InvalidResource(f'device "{key}" must be a string')
        if "mac" in checked:
            checked["mac"] = norm_mac(checked["mac"])
        if "configured" in checked and not isinstance(checked["configured"], bool):
            raise InvalidResource('device "configured" must be a boolean')
        return checked

    def add(self, device: Any) -> str:
        """Insert a device; returns its id."""
        with self._lock:
            checked = self.validate(device)
            if "mac" in checked and self.find(mac=checked["mac"]):
                raise InvalidResource(f"a device with MAC {checked['mac']} already exists")
            device_id = checked.get("id") or f"{next(self._ids):032x}"
            checked["id"] = device_id
            checked.setdefault("configured", False)
            checked.setdefault("added", "manual")
            self.devices[device_id] = checked
            return str(device_id)

    def get(self, device_id: str) -> dict[str, Any]:
        """A device by id (UnknownResource when absent)."""
        try:
            return self.devices[device_id]
        except KeyError:
            raise UnknownResource(f"no device {device_id!r}") from None

    def replace(self, device_id: str, device: Any) -> dict[str, Any]:
        """Replace a device's fields (its id stays); returns the old version."""
        with self._lock:
            old = self.get(device_id)
            checked = self.validate(device)
            checked["id"] = device_id
            checked.setdefault("configured", False)
            self.devices[device_id] = checked
            return old

    def delete(self, device_id: str) -> dict[str, Any]:
        """Remove a device; returns it."""
        with self._lock:
            return self.devices.pop(self.get(device_id)["id"])

    def find(self, **keys: str) -> list[dict[str, Any]]:
        """Devices whose fields equal all *keys*."""
        return [d for d in self.devices.values() if all(d.get(k) == v for k, v in keys.items())]

    def retrieve(self, dev_info: dict[str, Any]) -> dict[str, Any] | None:
        """The device a request comes from: by MAC, then serial, then UUID, then IP."""
        for key in ("mac", "sn", "uuid", "ip"):
            value = dev_info.get(key)
            if value:
                found = self.find(**{key: value})
                if len(found) == 1 or (found and key != "ip"):
                    return found[0]
        return None
