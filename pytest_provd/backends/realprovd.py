"""The ``real`` backend: an installed ``wazo_provd`` driven in-process.

What runs is real provd's: the provisioning application (config and device collections in
its JSON database, plugin manager, device configuration), its request processing (the info
extractor, retriever and updater from provd's own ``*.py.conf.default`` files), its twisted
HTTP site and its TFTP protocol, on free ports of 127.0.0.1.  Plugins are installed the way
provd installs them: from a plugin server (ours, on loopback) with ``pg_mgr.update`` and
``pg_install``.

What does not run is real provd's REST API: every route checks tokens and tenants with
wazo-auth, which a test run does not have.  The harness calls the application directly
instead (:meth:`RealProvd.add_config`, :meth:`RealProvd.add_device`,
:meth:`RealProvd.dhcpinfo`), so :attr:`ProvdEndpoints.rest_url` is empty.  Firmware is not
installed either: real fetchfw downloads from vendor sites, and the harness stays on
loopback.

The twisted reactor runs in one daemon thread for the life of the process (a reactor cannot
be restarted); every call into provd is made on that thread.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from twisted.internet import defer

from pytest_provd import compat, tree
from pytest_provd.backends.base import BackendError, ProvdEndpoints, plugin_server
from pytest_provd.provd.domain.configs import default_configs

# Where provd keeps its request-processing configuration: a source checkout ships it under
# etc/wazo-provd, a Debian install under /etc/wazo-provd.
REQUEST_CONFIG_ENV = "PYTEST_PROVD_REAL_CONFIG_DIR"
_PROCESSORS = ("info_extractor", "retriever", "updater")
_CALL_TIMEOUT_S = 60.0

_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


def unavailable_reason() -> str | None:
    """None when an installed ``wazo_provd`` can run here, else why not."""
    if not compat.real_installed():
        return (
            "wazo_provd is not importable: install wazo-provd in this environment "
            "(as the plugins repository's tox env does) to use --provd-backend real"
        )
    if request_config_dir() is None:
        return (
            "provd's request-processing files (info_extractor.py.conf.default, ...) were not "
            f"found next to wazo_provd nor in /etc/wazo-provd; set {REQUEST_CONFIG_ENV}"
        )
    return None


def request_config_dir() -> Path | None:
    """The directory holding ``info_extractor.py.conf.default`` and friends."""
    candidates: list[Path] = []
    if os.environ.get(REQUEST_CONFIG_ENV):
        candidates.append(Path(os.environ[REQUEST_CONFIG_ENV]))
    spec = importlib.util.find_spec("wazo_provd")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent.parent / "etc" / "wazo-provd")
    candidates.append(Path("/etc/wazo-provd"))
    for candidate in candidates:
        if all((candidate / f"{name}.py.conf.default").is_file() for name in _PROCESSORS):
            return candidate
    return None


def _reactor() -> Any:
    """The global twisted reactor, running in a daemon thread."""
    global _reactor_thread
    # Lazy: importing the reactor installs it, which only the real backend wants.
    from twisted.internet import reactor as twisted_reactor

    # Typed as the union of its interfaces; the calls below are the documented ones.
    reactor: Any = twisted_reactor
    with _reactor_lock:
        if _reactor_thread is None:
            _reactor_thread = threading.Thread(
                target=reactor.run,
                kwargs={"installSignalHandlers": False},
                name="provd-real-reactor",
                daemon=True,
            )
            _reactor_thread.start()
    return reactor


def _call(fun: Any, *args: Any, **kwargs: Any) -> Any:
    """Run *fun* on the reactor thread; its (Deferred's) result, or its exception."""
    reactor = _reactor()
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        try:
            d = defer.maybeDeferred(fun, *args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            future.set_exception(exc)
            return
        d.addCallbacks(future.set_result, lambda f: future.set_exception(f.value))

    reactor.callFromThread(run)
    return future.result(_CALL_TIMEOUT_S)


def _options_of(raw: list[str]) -> dict[int, str]:
    """``["060736e6f6d", ...]`` (code + dotted hex, as the dhcpd hook sends) as provd's dict."""
    options: dict[int, str] = {}
    for item in raw:
        code = int(item[:3], 10)
        options[code] = "".join(chr(int(b, 16)) for b in item[3:].split(".") if b)
    return options


class RealProvd:
    """Real provd's application and servers, in this process (start, use, close)."""

    def __init__(self, state_dir: Path, *, base_raw_config: dict[str, Any] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self._base_raw_config = base_raw_config
        self.app: Any = None
        self._dhcp: Any = None
        self._ports: list[Any] = []
        self.endpoints: ProvdEndpoints | None = None

    def start(self) -> RealProvd:
        """Start the application, HTTP and TFTP on 127.0.0.1; returns self."""
        _call(self._start)
        http = self._ports[0].getHost().port
        tftp = self._ports[1].getHost().port
        self.endpoints = ProvdEndpoints("", f"http://127.0.0.1:{http}/", ("127.0.0.1", tftp))
        return self

    def _start(self) -> None:
        # Lazy: wazo_provd is only there when the real backend can run at all.
        from twisted.web.resource import Resource
        from wazo_provd.app import ProvisioningApplication
        from wazo_provd.devices import ident, pgasso
        from wazo_provd.devices.config import ConfigCollection
        from wazo_provd.devices.device import DeviceCollection
        from wazo_provd.persist.json_backend import JsonDatabaseFactory
        from wazo_provd.servers.http_site import Site
        from wazo_provd.servers.tftp.proto import TFTPProtocol

        # The listening ports come first: the base raw config must name them.
        reactor = _reactor()
        resource_class: Any = Resource
        holder = resource_class()
        http_port = reactor.listenTCP(0, Site(holder), interface="127.0.0.1")
        tftp_protocol = TFTPProtocol()
        tftp_port = reactor.listenUDP(0, tftp_protocol, interface="127.0.0.1")
        self._ports = [http_port, tftp_port]
        base_raw = dict(self._base_raw_config or {})
        base_raw.setdefault("ip", "127.0.0.1")
        base_raw.setdefault("http_port", http_port.getHost().port)
        base_raw.setdefault("tftp_port", tftp_port.getHost().port)
        config = self._config(base_raw)
        self._db = JsonDatabaseFactory().new_database(
            "json", "default", json_db_dir=str(self.state_dir / "jsondb")
        )
        self.app = ProvisioningApplication(
            ConfigCollection(self._db.collection("configs")),
            DeviceCollection(self._db.collection("devices")),
            config,
        )
        conf_dir = request_config_dir()
        assert conf_dir is not None
        processors = []
        for name in _PROCESSORS:
            namespace: dict[str, Any] = {**ident.__dict__, **pgasso.__dict__, "app": self.app}
            path = conf_dir / f"{name}.py.conf.default"
            exec(compile(path.read_text(), str(path), "exec"), namespace)
            processors.append(namespace[name])
        process = ident.RequestProcessingService(self.app, *processors)
        http_service = ident.HTTPRequestProcessingService(process, self.app.pg_mgr, 0)
        # Site(holder) is already listening: swap provd's request processing in as its root.
        http_port.factory.resource = http_service
        tftp_protocol.set_tftp_request_processing_service(
            ident.TFTPRequestProcessingService(process, self.app.pg_mgr)
        )
        self._dhcp = ident.DHCPRequestProcessingService(process)
        for cfg in default_configs("127.0.0.1"):
            self.app._cfg_collection.insert(dict(cfg))

    def _config(self, base_raw: dict[str, Any]) -> dict[str, Any]:
        storage = self.state_dir / "storage"
        cache = self.state_dir / "cache"
        for path in (storage / "plugins", cache):
            path.mkdir(parents=True, exist_ok=True)
        return {
            "general": {
                "base_storage_dir": str(storage),
                "cache_dir": str(cache),
                "cache_plugin": False,
                "check_compat_min": True,
                "check_compat_max": True,
                "base_raw_config": base_raw,
                "http_auth_strategy": None,
            },
            "proxy": {},
            "tenants": {},
            "plugin_config": {},
        }

    # driving the application ------------------------------------------------------------

    def install_plugin_dir(self, built_dir: Path) -> str:
        """Install a built plugin through a loopback plugin server, as provd installs one."""
        plugin_id = built_dir.name
        with tempfile.TemporaryDirectory(prefix="provd-real-pkg-") as tmp:
            tree.package(built_dir, Path(tmp))
            tree.write_plugins_db(Path(tmp))
            with plugin_server(Path(tmp)) as url:
                try:
                    _call(setattr, self.app.pg_mgr, "server", url)
                    _call(lambda: self.app.pg_mgr.update()[0])
                    _call(lambda: self.app.pg_install(plugin_id)[0])
                except Exception as exc:  # real provd raises bare Exceptions
                    raise BackendError(
                        f"real provd could not install {plugin_id}: {type(exc).__name__}: {exc}"
                    ) from exc
        if not _call(self.app.pg_mgr.__contains__, plugin_id):
            raise BackendError(f"real provd installed {plugin_id} but did not load it")
        return plugin_id

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        """Firmware is not installed by this backend (real fetchfw downloads off loopback)."""
        return {"*": "the real backend installs no firmware: real fetchfw downloads from vendors"}

    def add_config(self, config: dict[str, Any]) -> str:
        """Insert a config (``app.cfg_insert``); its id."""
        return str(_call(self.app.cfg_insert, dict(config)))

    def add_device(self, device: dict[str, Any]) -> str:
        """Insert a device (``app.dev_insert``; configured if it can be); its id."""
        return str(_call(self.app.dev_insert, dict(device)))

    def reconfigure(self, device_id: str) -> None:
        """Configure a device again (``app.dev_reconfigure``), as ``dev_mgr/reconfigure`` does."""
        _call(self.app.dev_reconfigure, device_id)

    def synchronize(self, device_id: str) -> None:
        """Synchronize a device (``app.dev_synchronize``), as ``dev_mgr/synchronize`` does."""
        _call(self.app.dev_synchronize, device_id)

    def devices(self) -> list[dict[str, Any]]:
        """Every device, as stored."""
        return [dict(d) for d in _call(lambda: self.app._dev_collection.find({}))]

    def find_device(self, **selector: Any) -> dict[str, Any] | None:
        """The first device whose fields equal *selector*, or None."""
        for device in self.devices():
            if all(device.get(k) == v for k, v in selector.items()):
                return device
        return None

    def dhcpinfo(self, info: dict[str, Any]) -> None:
        """A dhcpd-hook commit (``{"op", "ip", "mac", "options"}``) into provd's processing."""
        if info.get("op", "commit") != "commit":
            return
        # Lazy, as in _start(): wazo_provd is there only for this backend.
        from wazo_provd.util import norm_ip, norm_mac

        request = {
            "ip": norm_ip(str(info["ip"])),
            "mac": norm_mac(str(info["mac"])),
            "options": _options_of(list(info.get("options", []))),
        }
        _call(self._dhcp.handle_dhcp_request, request)

    def close(self) -> None:
        """Stop listening and close the application (the reactor keeps running)."""
        if self.app is None:
            return

        def stop() -> Any:
            waits = [defer.maybeDeferred(port.stopListening) for port in self._ports]
            self.app.close()
            self._db.close()
            return defer.gatherResults(waits)

        try:
            _call(stop)
        finally:
            self.app = None
