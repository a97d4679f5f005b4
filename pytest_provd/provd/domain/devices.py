"""Devices as provd keeps them: validation, normalisation, and the thread-safe collection.

A device is ``{"id", "mac", "ip", "vendor", "model", "version", "plugin", "config", ...}``;
like provd, the REST API refuses a MAC or IP that is not already normalised.  Which changes
make a device's files stale is :data:`RECONFIGURE_KEYS`.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
import threading
import uuid
from typing import Any

from pytest_provd.provd.domain.errors import DeviceError, UnknownDevice

__all__ = [
    "RECONFIGURE_KEYS",
    "DeviceError",
    "DeviceManager",
    "UnknownDevice",
    "needs_reconfiguration",
    "norm_ip",
    "norm_mac",
    "validate_device",
]


JsonDict = dict[str, Any]

_NORMED_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
RECONFIGURE_KEYS = ("plugin", "config", "mac", "uuid", "vendor", "model", "version", "options")
_STR_FIELDS = (
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
    "description",
    "tenant_uuid",
    "remote_state_sip_username",
    "added",
)


def norm_mac(value: str) -> str:
    """``00:04:13:ab:cd:ef`` from the usual spellings (DeviceError otherwise)."""
    digits = re.sub(r"[-:.]", "", value)
    if not re.fullmatch(r"[0-9A-Fa-f]{12}", digits):
        raise DeviceError(f"invalid MAC address {value!r}")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


def norm_ip(value: str) -> str:
    """A dotted-quad IPv4 address (DeviceError otherwise)."""
    try:
        return str(ipaddress.IPv4Address(value))
    except (ipaddress.AddressValueError, ValueError):
        raise DeviceError(f"invalid IP address {value!r}") from None


def validate_device(device: Any) -> JsonDict:
    """A checked deep copy of *device*; like provd, MAC and IP must already be normalised."""
    if not isinstance(device, dict):
        raise DeviceError(f"device must be an object, not {type(device).__name__}")
    for key in _STR_FIELDS:
        if device.get(key) is not None and not isinstance(device[key], str):
            raise DeviceError(f'device "{key}" must be a string, not {type(device[key]).__name__}')
    if device.get("mac") and not _NORMED_MAC.match(device["mac"]):
        raise DeviceError(f"Non-normalized MAC address {device['mac']}")
    if device.get("ip") and norm_ip(device["ip"]) != device["ip"]:
        raise DeviceError(f"Non-normalized IP address {device['ip']}")
    for flag in ("configured", "is_new"):
        if flag in device and not isinstance(device[flag], bool):
            raise DeviceError(f'device "{flag}" must be a boolean')
    if "options" in device and not isinstance(device["options"], dict | type(None)):
        raise DeviceError('device "options" must be an object')
    return copy.deepcopy(device)


def needs_reconfiguration(old: JsonDict, new: JsonDict) -> bool:
    """True when a key the plugin's output depends on changed."""
    return any(old.get(k) != new.get(k) for k in RECONFIGURE_KEYS)


class DeviceManager:
    """Devices by id; thread-safe; look-ups return copies."""

    def __init__(self) -> None:
        self._devices: dict[str, JsonDict] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)

    def insert(self, device: JsonDict) -> str:
        """Store a validated device; returns its id."""
        with self._lock:
            device_id = device.get("id") or uuid.uuid4().hex
            if device_id in self._devices:
                raise DeviceError(f"device {device_id!r} already exists")
            device["id"] = device_id
            self._devices[device_id] = copy.deepcopy(device)
            return str(device_id)

    def update(self, device: JsonDict) -> None:
        """Replace the stored device with the same id."""
        with self._lock:
            if device.get("id") not in self._devices:
                raise UnknownDevice(f"no device {device.get('id')!r}")
            self._devices[device["id"]] = copy.deepcopy(device)

    def delete(self, device_id: str) -> JsonDict:
        """Remove a device; returns it."""
        with self._lock:
            try:
                return self._devices.pop(device_id)
            except KeyError:
                raise UnknownDevice(f"no device {device_id!r}") from None

    def get(self, device_id: str) -> JsonDict:
        """A copy of a device (UnknownDevice when absent)."""
        with self._lock:
            try:
                return copy.deepcopy(self._devices[device_id])
            except KeyError:
                raise UnknownDevice(f"no device {device_id!r}") from None

    def find(self, **fields: Any) -> list[JsonDict]:
        """Copies of devices whose fields equal *fields*."""
        with self._lock:
            return [
                copy.deepcopy(d)
                for d in self._devices.values()
                if all(d.get(k) == v for k, v in fields.items())
            ]

    def all(self) -> list[JsonDict]:
        """Copies of every device."""
        return self.find()

    def clear(self) -> None:
        """Forget every device."""
        with self._lock:
            self._devices.clear()
