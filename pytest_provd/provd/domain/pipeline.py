"""The request pipeline: identify, retrieve or create, update, route.

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

import dataclasses
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_provd.problems import ProvdHarnessError
from pytest_provd.provd.domain.configs import ConfigManager
from pytest_provd.provd.domain.devices import DeviceError, DeviceManager, norm_mac
from pytest_provd.provd.domain.faults import FaultLog
from pytest_provd.provd.plugins.errors import PluginError
from pytest_provd.provd.plugins.loader import LoadedPlugin
from pytest_provd.provd.plugins.manager import PluginManager
from pytest_provd.provd.plugins.messages import HttpReply, HttpRequestInfo, TftpRequestInfo

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
MIN_SUPPORT = 300  # DeviceSupport.PROBABLE
# What a request may fail with without it being a bug of the harness: the plugin's own
# errors and data provd refuses.  Anything else is recorded as a fault of the server.
EXPECTED_ERRORS = (PluginError, ProvdHarnessError)


class PipelineHost(Protocol):
    """What the pipeline needs of the provisioning application."""

    @property
    def lock(self) -> AbstractContextManager[Any]: ...

    @property
    def devices(self) -> DeviceManager: ...

    @property
    def configs(self) -> ConfigManager: ...

    @property
    def plugins(self) -> PluginManager: ...

    @property
    def nat(self) -> int: ...

    @property
    def use_provisioning_key(self) -> bool: ...

    def tenant_of_key(self, key: str) -> str | None: ...

    def dev_insert(self, device: Any) -> str: ...

    def dev_update(self, device: Any) -> None: ...


def vote(answers: list[JsonDict]) -> JsonDict:
    """Per key, the value most answers agree on (first seen wins a tie)."""
    ballots: dict[str, dict[Any, int]] = {}
    for answer in answers:
        for key, value in answer.items():
            counts = ballots.setdefault(key, {})
            try:
                counts[value] = counts.get(value, 0) + 1
            except TypeError:  # an unhashable value (a plugin bug) gets no vote
                continue
    return {key: _winner(counts) for key, counts in ballots.items()}


def _winner(counts: dict[Any, int]) -> Any:
    """The value with most votes, the first seen of equals; a key whose every value was
    unhashable has none: IndexError, as ``Counter.most_common(1)[0]`` raised."""
    if not counts:
        raise IndexError("list index out of range")
    return max(counts.items(), key=_votes)[0]


def _votes(item: tuple[Any, int]) -> int:
    return item[1]


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
    """provd's default request processing, run under the application lock.

    A request that fails because of the harness itself (not a plugin error, not data provd
    refuses) answers 500 like the others and is also recorded in *faults*.
    """

    def __init__(
        self, app: PipelineHost, faults: FaultLog | None = None, *, max_log: int = 10_000
    ) -> None:
        self.app = app
        self.faults = faults if faults is not None else FaultLog()
        self.log: list[JsonDict] = []
        self._max_log = max_log

    def _failed(self, where: str, exc: Exception) -> None:
        """Log a failed request; a fault of the server unless the plugin or data caused it."""
        if isinstance(exc, EXPECTED_ERRORS):
            logger.warning("%s failed: %s", where, exc)
        else:
            logger.error("%s failed", where, exc_info=exc)
            self.faults.record(where, exc)

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
        if not app.nat and "ip" in info:
            for other in app.devices.find(ip=info["ip"]):
                if other["id"] != device["id"]:
                    del other["ip"]
                    app.dev_update(other)
        # Whether an updater changed *device*, followed as they go (no copy to compare with).
        changed = False
        for key, value in info.items():
            if key not in device:
                device[key] = value
                changed = True
        for key in ("ip", "version"):
            if key in info and device[key] != info[key]:
                device[key] = info[key]
                changed = True
        if "plugin" not in device:
            plugin_id = app.plugins.associate(info, MIN_SUPPORT)
            if plugin_id:
                device["plugin"] = plugin_id
                changed = True
        if "config" not in device:
            config_id = app.configs.create_autocreated()
            if config_id is not None:
                device["config"] = config_id
                changed = True
        if changed:
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
        except Exception as exc:  # no request may kill the server: 500, logged
            self._failed(f"HTTP {req.method} {req.path}", exc)
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
            self._failed(f"TFTP {req.filename}", exc)
            record.status, record.error = 500, f"{type(exc).__name__}: {exc}"
            self._record(record)
            raise FileNotFoundError("Internal processing error") from exc
        record.status = 200
        self._record(record)
        return data
