"""The ``real`` backend: an installed ``wazo_provd`` driven in-process.

What runs is real provd's: the provisioning application (config and device collections in
its JSON database, plugin manager, device configuration) with production's configuration
(:mod:`.realconf`: ``wazo_provd.config``'s defaults, the base raw config it derives, with
``http_base_url``), its default request processing (info extractor, retriever, updater,
built from its own classes; ``$PYTEST_PROVD_REAL_CONFIG_DIR`` may name a directory of
``*.py.conf.default`` files to run instead), its twisted HTTP site and its TFTP protocol, on
free ports of 127.0.0.1.  Plugins are installed the way provd installs them: from a plugin
server (ours, on loopback) with ``pg_mgr.update`` and ``pg_install``.  Firmware is installed
by the plugins' real fetchfw, through the loopback proxy the backend gives provd.

What does not run is real provd's REST API: every route checks tokens and tenants with
wazo-auth, which a test run does not have.  The harness calls the application directly
instead (:meth:`RealProvd.add_config`, :meth:`RealProvd.add_device`,
:meth:`RealProvd.dhcpinfo`), so :attr:`ProvdEndpoints.rest_url` is empty (the ``url``
backend drives a real provd daemon's REST API).

The twisted reactor runs in one daemon thread for the life of the process (a reactor cannot
be restarted); every call into provd is made on that thread.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from twisted.internet import defer

from pytest_provd import compat, tree
from pytest_provd.backends.base import BackendError, ProvdEndpoints, plugin_server
from pytest_provd.backends.realconf import (
    application_config,
    production_base_raw_config,
    request_processors,
)
from pytest_provd.compat.realplugins import call as _call
from pytest_provd.compat.realplugins import running_reactor as _reactor
from pytest_provd.provd.domain.configs import default_configs

# An optional override: a directory of provd's request-processing files
# (``info_extractor.py.conf.default``...), run as provd runs them, instead of the default
# processors built from the installed library's classes (realconf.request_processors).
REQUEST_CONFIG_ENV = "PYTEST_PROVD_REAL_CONFIG_DIR"
_PROCESSORS = ("info_extractor", "retriever", "updater")


def unavailable_reason() -> str | None:
    """None when an installed ``wazo_provd`` can run here, else why not and what to install."""
    missing = compat.real_missing()
    if missing:
        return f"cannot import {', '.join(missing)}; {compat.REAL_INSTALL_HINT}"
    return None


def request_config_dir() -> Path | None:
    """The ``$PYTEST_PROVD_REAL_CONFIG_DIR`` override, if set (a :class:`BackendError` when it
    lacks one of provd's three request-processing files); None: the built-in defaults."""
    value = os.environ.get(REQUEST_CONFIG_ENV)
    if not value:
        return None
    directory = Path(value)
    for name in _PROCESSORS:
        if not (directory / f"{name}.py.conf.default").is_file():
            raise BackendError(
                f"{REQUEST_CONFIG_ENV}={value}: no {name}.py.conf.default there (unset it to "
                "use provd's default request processing)"
            )
    return directory


def _options_of(raw: list[str]) -> dict[int, str]:
    """``["060736e6f6d", ...]`` (code + dotted hex, as the dhcpd hook sends) as provd's dict."""
    options: dict[int, str] = {}
    for item in raw:
        code = int(item[:3], 10)
        options[code] = "".join(chr(int(b, 16)) for b in item[3:].split(".") if b)
    return options


class RealProvd:
    """Real provd's application and servers, in this process (start, use, close).

    *base_raw_config* overrides keys of production's base raw config; *proxies* is provd's
    ``proxy`` section (where plugins' fetchfw downloads go: the loopback firmware proxy).
    """

    def __init__(
        self,
        state_dir: Path,
        *,
        base_raw_config: dict[str, Any] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self._base_raw_config = base_raw_config
        self._proxies = dict(proxies or {})
        self.app: Any = None
        self._dhcp: Any = None
        self._ports: list[Any] = []
        self.endpoints: ProvdEndpoints | None = None

    def start(self) -> RealProvd:
        """Start the application, HTTP and TFTP on 127.0.0.1; returns self."""
        compat.activate("real")
        conf_dir = request_config_dir()  # before anything listens: a bad override is said first
        _call(self._start, conf_dir)
        http = self._ports[0].getHost().port
        tftp = self._ports[1].getHost().port
        self.endpoints = ProvdEndpoints("", f"http://127.0.0.1:{http}/", ("127.0.0.1", tftp))
        return self

    def _start(self, conf_dir: Path | None) -> None:
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
        base_raw = production_base_raw_config(
            f"http://127.0.0.1:{http_port.getHost().port}", tftp_port.getHost().port
        )
        base_raw.update(self._base_raw_config or {})
        config = application_config(self.state_dir, base_raw, self._proxies)
        self._db = JsonDatabaseFactory().new_database(
            "json", "default", json_db_dir=config["database"]["json_db_dir"]
        )
        self.app = ProvisioningApplication(
            ConfigCollection(self._db.collection("configs")),
            DeviceCollection(self._db.collection("devices")),
            config,
        )
        if conf_dir is None:
            processors = request_processors(self.app)
        else:
            found = []
            for name in _PROCESSORS:
                namespace: dict[str, Any] = {**ident.__dict__, **pgasso.__dict__, "app": self.app}
                path = conf_dir / f"{name}.py.conf.default"
                exec(compile(path.read_text(), str(path), "exec"), namespace)
                found.append(namespace[name])
            processors = (found[0], found[1], found[2])
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

    # driving the application ------------------------------------------------------------

    def install_plugin_dir(self, built_dir: Path) -> str:
        """Install a built plugin through a loopback plugin server, as provd installs one."""
        plugin_id = built_dir.name
        with tempfile.TemporaryDirectory(prefix="provd-real-pkg-") as tmp:
            tree.package(built_dir, Path(tmp))
            tree.write_plugins_db(Path(tmp))
            with plugin_server(Path(tmp)) as url:
                # provd downloads plugins through its proxy settings, and the firmware proxy
                # refuses what is not firmware: no proxy while the loopback plugin server
                # serves (as a maintainer would clear http_proxy), the same dict back after
                # (plugins' fetchfw handlers keep a reference to it).
                proxies = dict(self.app.proxies)
                _call(self.app.proxies.clear)
                try:
                    _call(setattr, self.app.pg_mgr, "server", url)
                    _call(lambda: self.app.pg_mgr.update()[0])
                    _call(lambda: self.app.pg_install(plugin_id)[0])
                except Exception as exc:  # real provd raises bare Exceptions
                    raise BackendError(
                        f"real provd could not install {plugin_id}: {type(exc).__name__}: {exc}"
                    ) from exc
                finally:
                    _call(self.app.proxies.update, proxies)
        if not _call(self.app.pg_mgr.__contains__, plugin_id):
            raise BackendError(f"real provd installed {plugin_id} but did not load it")
        return plugin_id

    def install_firmware(
        self, plugin_id: str, skip: dict[str, str] | None = None
    ) -> dict[str, str]:
        """Install every package of *plugin_id* with its real fetchfw (downloads go through
        the proxy given at start); ``{pkg_id: why}`` for failures and for *skip*."""
        failed = dict(skip or {})

        def service() -> Any:
            services = self.app.pg_mgr[plugin_id].services  # an attribute of provd's Plugin
            return dict(services() if callable(services) else services or {}).get("install")

        install = _call(service)
        if install is None:
            return failed
        for pkg_id in sorted(_call(install.list_installable)):
            if pkg_id in failed:
                continue
            try:
                _call(lambda pkg_id=pkg_id: install.install(pkg_id)[0])
            except Exception as exc:  # real fetchfw raises bare Exceptions
                failed[pkg_id] = f"{type(exc).__name__}: {exc}"
        return failed

    def add_config(self, config: dict[str, Any]) -> str:
        """Insert a config (``app.cfg_insert``); its id."""
        return str(_call(self.app.cfg_insert, dict(config)))

    def raw_config(self, config_id: str) -> dict[str, Any]:
        """The flattened raw config (``app.cfg_retrieve_raw_config``, as ``/raw`` gives it)."""
        return dict(_call(self.app.cfg_retrieve_raw_config, config_id) or {})

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
