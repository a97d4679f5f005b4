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
    "copy_device",
    "needs_reconfiguration",
    "norm_ip",
    "norm_mac",
    "validate_device",
]


JsonDict = dict[str, Any]

_NORMED_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_NORM_FORM = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")
_MAC_SEPARATORS = re.compile(r"[-:.]")
_MAC_DIGITS = re.compile(r"[0-9A-Fa-f]{12}")
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
    if _NORM_FORM.fullmatch(value):  # what every request of a known phone carries
        return value
    digits = _MAC_SEPARATORS.sub("", value)
    if not _MAC_DIGITS.fullmatch(digits):
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
    return copy_device(device)  # type: ignore[no-any-return]


def needs_reconfiguration(old: JsonDict, new: JsonDict) -> bool:
    """True when a key the plugin's output depends on changed."""
    return any(old.get(k) != new.get(k) for k in RECONFIGURE_KEYS)


_INDEXED = ("mac", "ip", "sn", "uuid", "plugin", "config")
"""The fields :meth:`DeviceManager.find` looks up through an index instead of a scan."""


def copy_device(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, tuples, scalars), faster than
    ``copy.deepcopy``: devices, configs and the contexts renders record."""
    kind = type(value)
    if kind is dict:
        return {k: copy_device(v) for k, v in value.items()}
    if kind is list:
        return [copy_device(v) for v in value]
    if kind is tuple:
        return tuple(copy_device(v) for v in value)
    if kind in (str, int, float, bool, bytes) or value is None:
        return value
    return copy.deepcopy(value)


class DeviceManager:
    """Devices by id; thread-safe; look-ups return copies.

    Indexes by the fields of :data:`_INDEXED` spare :meth:`find` a scan of every device; a
    value that cannot be hashed is kept aside and always compared, so a look-up matches
    exactly what a scan would, in insertion order.
    """

    def __init__(self) -> None:
        self._devices: dict[str, JsonDict] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._order: dict[str, int] = {}
        self._index: dict[str, dict[Any, dict[str, None]]] = {k: {} for k in _INDEXED}
        self._unhashable: dict[str, dict[str, None]] = {k: {} for k in _INDEXED}

    def _add_index(self, device_id: str, device: JsonDict) -> None:
        for key in _INDEXED:
            value = device.get(key)
            try:
                self._index[key].setdefault(value, {})[device_id] = None
            except TypeError:
                self._unhashable[key][device_id] = None

    def _drop_index(self, device_id: str, device: JsonDict) -> None:
        for key in _INDEXED:
            self._unhashable[key].pop(device_id, None)
            try:
                ids = self._index[key].get(device.get(key))
            except TypeError:
                continue
            if ids is not None:
                ids.pop(device_id, None)
                if not ids:
                    del self._index[key][device.get(key)]

    def insert(self, device: JsonDict) -> str:
        """Store a validated device; returns its id."""
        with self._lock:
            device_id = device.get("id") or uuid.uuid4().hex
            if device_id in self._devices:
                raise DeviceError(f"device {device_id!r} already exists")
            device["id"] = device_id
            stored = copy_device(device)
            self._devices[device_id] = stored
            self._order[device_id] = next(self._ids)
            self._add_index(device_id, stored)
            return str(device_id)

    def update(self, device: JsonDict) -> None:
        """Replace the stored device with the same id."""
        with self._lock:
            device_id = device.get("id")
            old = self._devices.get(device_id) if isinstance(device_id, str) else None
            if old is None:
                raise UnknownDevice(f"no device {device_id!r}")
            stored = copy_device(device)
            self._drop_index(str(device_id), old)
            self._devices[str(device_id)] = stored
            self._add_index(str(device_id), stored)

    def delete(self, device_id: str) -> JsonDict:
        """Remove a device; returns it."""
        with self._lock:
            try:
                device = self._devices.pop(device_id)
            except KeyError:
                raise UnknownDevice(f"no device {device_id!r}") from None
            del self._order[device_id]
            self._drop_index(device_id, device)
            return device

    def get(self, device_id: str) -> JsonDict:
        """A copy of a device (UnknownDevice when absent)."""
        with self._lock:
            try:
                return copy_device(self._devices[device_id])  # type: ignore[no-any-return]
            except KeyError:
                raise UnknownDevice(f"no device {device_id!r}") from None

    def _candidates(self, key: str, values: list[Any]) -> list[str] | None:
        """Ids that may have *key* equal to one of *values* (None: scan them all)."""
        found: dict[str, None] = {}
        for value in values:
            try:
                found.update(self._index[key].get(value, {}))
            except TypeError:
                return None
        found.update(self._unhashable[key])
        return sorted(found, key=self._order.__getitem__)

    def find(self, **fields: Any) -> list[JsonDict]:
        """Copies of devices whose fields equal *fields*, in insertion order."""
        with self._lock:
            ids: Any = None
            for key in _INDEXED:
                if key in fields:
                    ids = self._candidates(key, [fields[key]])
                    if ids is not None:
                        break
            devices = self._devices
            chosen = devices.values() if ids is None else [devices[i] for i in ids]
            return [copy_device(d) for d in chosen if all(d.get(k) == v for k, v in fields.items())]

    def find_in(self, key: str, values: list[Any]) -> list[JsonDict]:
        """Copies of devices whose *key* equals one of *values*, in insertion order."""
        with self._lock:
            ids = self._candidates(key, values) if key in _INDEXED else None
            devices = self._devices
            chosen = devices.values() if ids is None else [devices[i] for i in ids]
            return [copy_device(d) for d in chosen if any(d.get(key) == v for v in values)]

    def all(self) -> list[JsonDict]:
        """Copies of every device."""
        return self.find()

    def clear(self) -> None:
        """Forget every device."""
        with self._lock:
            self._devices.clear()
            self._order.clear()
            for key in _INDEXED:
                self._index[key].clear()
                self._unhashable[key].clear()
