"""Devices and the request pipeline: identify, retrieve or create, update, route.

Every DHCP transaction, HTTP and TFTP request goes through provd's default pipeline:

1. *extract* -- each loaded plugin's extractor reads the request; their answers are combined
   by vote (per key, the value most plugins agree on), then the standard facts of the request
   (client IP; MAC for DHCP) override them.
2. *retrieve* -- the device with that MAC, else serial number, else UUID, else the one device
   at that IP not contradicting the MAC/vendor/model, else a new device (``added: auto``).
3. *update* -- other devices lose this IP (unless NAT is on), missing keys are added,
   ``ip`` and ``version`` are refreshed, a device without plugin gets the best plugin by the
   associators' support levels (at least PROBABLE, ties to the greatest id) and a device
   without config gets a transient copy of the ``autocreate`` config.  A changed device is
   saved and, when that matters, reconfigured.
4. *route* -- the request goes to the device's plugin service.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import itertools
import logging
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_provd.problems import ProvdHarnessError
from pytest_provd.provd.plugins.manager import (
    HttpReply,
    HttpRequestInfo,
    LoadedPlugin,
    PluginError,
    TftpRequestInfo,
)

if TYPE_CHECKING:
    from pytest_provd.provd.domain.app import ProvdApp

logger = logging.getLogger(__name__)

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
MIN_SUPPORT = 300  # DeviceSupport.PROBABLE


class DeviceError(ProvdHarnessError):
    """A device provd would refuse (HTTP 400)."""


class UnknownDevice(ProvdHarnessError, KeyError):
    """No device with that id (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown device"


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


# --- the pipeline -------------------------------------------------------------------------


def vote(answers: list[JsonDict]) -> JsonDict:
    """Per key, the value most answers agree on (first seen wins a tie)."""
    ballots: dict[str, Counter[Any]] = {}
    for answer in answers:
        for key, value in answer.items():
            try:
                ballots.setdefault(key, Counter())[value] += 1
            except TypeError:  # an unhashable value (a plugin bug) gets no vote
                continue
    return {key: counter.most_common(1)[0][0] for key, counter in ballots.items()}


@dataclass
class RequestRecord:
    """One request seen by the pipeline, for reports and failure messages."""

    proto: str
    path: str
    client_ip: str
    dev_info: JsonDict = field(default_factory=dict)
    device_id: str | None = None
    plugin: str | None = None
    status: int | None = None
    error: str | None = None
    at: float = field(default_factory=time.time)

    def as_dict(self) -> JsonDict:
        """The record as plain data."""
        return dict(self.__dict__)


class Pipeline:
    """provd's default request processing, run under the application lock."""

    def __init__(self, app: ProvdApp, *, max_log: int = 10_000) -> None:
        self.app = app
        self.log: list[JsonDict] = []
        self._max_log = max_log

    def _record(self, record: RequestRecord) -> None:
        self.log.append(record.as_dict())
        if len(self.log) > self._max_log:
            del self.log[: len(self.log) - self._max_log]

    # 1. extraction

    def extract(
        self, call: Callable[[LoadedPlugin], JsonDict | None], standard: JsonDict
    ) -> JsonDict:
        """Combine every plugin's answer by vote, then the request's own facts on top."""
        answers = []
        for plugin in list(self.app.plugins.loaded.values()):
            try:
                found = call(plugin)
            except PluginError as exc:
                logger.warning("extractor of %s failed: %s", plugin.id, exc)
                continue
            if found:
                answers.append(found)
        info = vote(answers)
        info.update(standard)
        if isinstance(info.get("mac"), str):
            try:
                info["mac"] = norm_mac(info["mac"])
            except DeviceError:
                del info["mac"]
        return info

    # 2. retrieval

    def retrieve(self, info: JsonDict) -> JsonDict | None:
        """The device *info* designates, created when unknown (None if it cannot be)."""
        devices = self.app.devices
        for key in ("mac", "sn", "uuid"):
            if key in info:
                found = devices.find(**{key: info[key]})
                if found:
                    return found[0]
        if "ip" in info:
            candidates = devices.find(ip=info["ip"])
            for key in ("mac", "vendor", "model"):
                if key in info:
                    candidates = [d for d in candidates if key not in d or d.get(key) == info[key]]
            if len(candidates) == 1:
                return candidates[0]
        new = dict(info)
        new["added"] = "auto"
        try:
            self.app.dev_insert(new)
        except ProvdHarnessError as exc:
            logger.info("no device created for %s: %s", info, exc)
            return None
        return new

    # 3. update

    def update(self, device: JsonDict, info: JsonDict) -> None:
        """Apply provd's default updaters, then save (and reconfigure) if anything changed."""
        app = self.app
        before = copy.deepcopy(device)
        if not app.nat and "ip" in info:
            for other in app.devices.find(ip=info["ip"]):
                if other["id"] != device["id"]:
                    del other["ip"]
                    app.dev_update(other)
        for key, value in info.items():
            device.setdefault(key, value)
        for key in ("ip", "version"):
            if key in info:
                device[key] = info[key]
        if "plugin" not in device:
            plugin_id = app.plugins.associate(info, MIN_SUPPORT)
            if plugin_id:
                device["plugin"] = plugin_id
        if "config" not in device:
            config_id = app.configs.create_autocreated()
            if config_id is not None:
                device["config"] = config_id
        if device != before:
            app.dev_update(device)

    # 4. the three entry points

    def _process(self, info: JsonDict, record: RequestRecord) -> tuple[JsonDict | None, str | None]:
        record.dev_info = info
        device = self.retrieve(info)
        if device is None:
            return None, None
        self.update(device, info)
        record.device_id = device["id"]
        record.plugin = device.get("plugin")
        return self.app.devices.get(device["id"]), device.get("plugin")

    def dhcp(self, ip: str, mac: str, options: dict[int, str]) -> JsonDict | None:
        """A DHCP commit: update (or create) the device; nothing is routed."""
        record = RequestRecord("dhcp", "", ip)
        dhcp = {"ip": ip, "mac": mac, "options": options}
        with self.app.lock:
            info = self.extract(lambda p: p.identify_dhcp(dhcp), {"ip": ip, "mac": mac})
            device, _ = self._process(info, record)
        self._record(record)
        return device

    def http(self, req: HttpRequestInfo) -> HttpReply:
        """A provisioning HTTP request: identify, then the device plugin's HTTP service."""
        record = RequestRecord("http", req.path, req.client_ip)
        if self.app.use_provisioning_key:
            # provd's url_key strategy: "/<key>/rest" for a tenant's key, else nothing
            key, _, rest = req.path.lstrip("/").partition("/")
            if self.app.tenant_of_key(key) is None:
                record.status, record.error = 404, "no tenant has this provisioning key"
                self._record(record)
                return HttpReply(404, {"Content-Type": "text/plain"}, b"Nowhere to route.\n")
            req = dataclasses.replace(req, path="/" + rest)
        try:
            with self.app.lock:
                info = self.extract(lambda p: p.identify_http(req), {"ip": req.client_ip})
                device, plugin_id = self._process(info, record)
                plugin = self.app.plugins.loaded.get(plugin_id or "")
                if plugin is None:
                    reply = HttpReply(404, {"Content-Type": "text/plain"}, b"Nowhere to route.\n")
                else:
                    reply = plugin.serve_http(req, device)
        except Exception as exc:  # a plugin bug must not kill the server: 500, logged
            logger.exception("HTTP %s %s failed", req.method, req.path)
            record.error = f"{type(exc).__name__}: {exc}"
            reply = HttpReply(500, {"Content-Type": "text/plain"}, b"Internal processing error\n")
        record.status = reply.status
        self._record(record)
        return reply

    def tftp(self, req: TftpRequestInfo) -> bytes:
        """A TFTP read: identify, then the device plugin's TFTP service (FileNotFoundError)."""
        record = RequestRecord("tftp", req.filename, req.client_ip)
        try:
            with self.app.lock:
                info = self.extract(lambda p: p.identify_tftp(req), {"ip": req.client_ip})
                device, plugin_id = self._process(info, record)
                plugin = self.app.plugins.loaded.get(plugin_id or "")
                if plugin is None:
                    raise FileNotFoundError("Nowhere to route this request")
                data = plugin.serve_tftp(req, device)
        except FileNotFoundError as exc:
            record.status, record.error = 404, str(exc)
            self._record(record)
            raise
        except Exception as exc:
            logger.exception("TFTP %s failed", req.filename)
            record.status, record.error = 500, f"{type(exc).__name__}: {exc}"
            self._record(record)
            raise FileNotFoundError("Internal processing error") from exc
        record.status = 200
        self._record(record)
        return data
