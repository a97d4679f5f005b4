"""Loading a provd plugin and the provd-side calls made on it.

Plugins are loaded the way provd loads them: ``entry.py`` is executed in a fresh namespace
holding ``execfile_`` (which runs further files, relative to the plugin directory, in that
same namespace), the class with a true ``IS_PLUGIN`` is instantiated with
``(app, plugin_dir, gen_cfg, spec_cfg)`` and given its ``id``.  Plugin code imports
``wazo_provd``/``provd``; :func:`pytest_provd.compat.activate` provides them unless a real
provd is installed.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_provd import compat
from pytest_provd.compat import realplugins
from pytest_provd.problems import SourceError
from pytest_provd.provd.plugins import renders, twisted_bridge
from pytest_provd.provd.plugins.errors import (
    PluginConfigError,
    PluginError,
    PluginLoadError,
    calling,
)
from pytest_provd.provd.plugins.messages import HttpReply, HttpRequestInfo, TftpRequestInfo
from pytest_provd.provd.plugins.rawconfig import apply_defaults
from pytest_provd.provd.plugins.runners import Runners as _Runners
from pytest_provd.provd.plugins.services import PluginFirmware, PluginParams
from pytest_provd.provd.plugins.twisted_bridge import provd_module

logger = logging.getLogger(__name__)

PLUGIN_IFACE_VERSION = 0.2
ENTRY_FILENAME = "entry.py"
PLUGIN_INFO_FILENAME = "plugin-info"
INFO_KEYS = ("capabilities", "description", "version")
MAX_JSON_BYTES = 16 * 1024 * 1024


# --- reading plugin files -----------------------------------------------------------------


def read_json(path: Path, what: str, max_bytes: int = MAX_JSON_BYTES) -> Any:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(path, f"{what} is {size} bytes, more than {max_bytes}")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SourceError(path, f"{what} is not UTF-8: {e}") from None
    except OSError as e:
        raise SourceError(path, f"cannot read {what}: {e.strerror or e}") from None
    return parse_json(text, path, what)


def parse_json(text: str, path: Path | str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(path, f"{what} is not valid JSON: {e.msg}", e.lineno) from None


def read_plugin_info(plugin_dir: Path) -> dict[str, Any]:
    """``plugin-info`` of *plugin_dir*, checked for ``capabilities``/``description``/``version``."""
    path = plugin_dir / PLUGIN_INFO_FILENAME
    info = read_json(path, "plugin-info")
    if not isinstance(info, dict):
        raise SourceError(path, "plugin-info must be a JSON object", 1)
    missing = [k for k in INFO_KEYS if k not in info]
    if missing:
        raise SourceError(path, f"plugin-info lacks {', '.join(missing)}", 1)
    return info


def localized(info: dict[str, Any]) -> dict[str, Any]:
    # Same rule as provd: description_<locale>, else description_<lang>; drop the others.
    locale, lang = provd_module("wazo_provd.localization").get_locale_and_language()
    result = dict(info)
    for key in (f"description_{locale}", f"description_{lang}") if locale else ():
        if key in result:
            result["description"] = result[key]
            break
    for key in [k for k in result if k.startswith("description_")]:
        del result[key]
    return result


def _rrq_packet(filename: bytes, options: dict[str, str]) -> dict[str, Any]:
    """A TFTP read-request packet in provd's dict form."""
    return {
        "opcode": b"\x00\x01",
        "filename": filename,
        "mode": b"octet",
        "options": {k.encode("ascii"): v.encode("ascii") for k, v in options.items()},
    }


def _make_execfile(namespace: dict[str, Any], plugin_dir: Path) -> Callable[..., None]:
    """``execfile_(filename, [globals])``: run a file of the plugin in the plugin's namespace."""

    def execfile_(filename: str, *args: Any, **kwargs: Any) -> None:
        target_globals = args[0] if args else kwargs.pop("globals", namespace)
        rest = args[1:]
        target_globals.setdefault("execfile_", execfile_)
        path = Path(filename)
        if not path.is_absolute():
            path = plugin_dir / path
        source = path.read_bytes()
        exec(compile(source, str(path), "exec"), target_globals, *rest, **kwargs)

    return execfile_


@contextlib.contextmanager
def _plugin_warnings() -> Iterator[None]:
    """Plugins still use twisted APIs twisted deprecated (resource.NoResource...).

    Those warnings are the plugin's business, not a load failure, even under ``-W error``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# --- a loaded plugin ----------------------------------------------------------------------


def _none_if_empty(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise TypeError(f"device info extractor returned {type(value).__name__}, not a dict")
    return value


def _dhcp_option_value(value: Any) -> Any:
    # provd's dhcpinfo endpoint turns each option into a str with one char per byte.
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    return value


class LoadedPlugin:
    """A plugin instance and the provd-side calls made on it."""

    def __init__(
        self,
        plugin_id: str,
        path: Path,
        info: dict[str, Any],
        obj: Any,
        *,
        timeout: float = twisted_bridge.DEFAULT_TIMEOUT,
    ) -> None:
        self.id = plugin_id
        self.path = path
        self.info = info
        self.obj = obj
        self.timeout = timeout
        self._runners = _Runners(f"configure-{plugin_id}")

    def __repr__(self) -> str:
        return f"LoadedPlugin({self.id!r}, {type(self.obj).__name__})"

    def _calling(self, action: str, error: type[PluginError]) -> Any:
        return calling(self.id, self.path, action, error)

    # identification

    def _extract(self, extractor: Any, request: Any, kind: str) -> dict[str, Any] | None:
        if extractor is None:
            return None
        request_type = provd_module("wazo_provd.devices.ident").RequestType
        with self._calling(f"{kind} device info extraction", PluginError):
            result = twisted_bridge.resolve(
                extractor.extract(request, request_type(kind)), self.timeout
            )
            return _none_if_empty(result)

    def identify_dhcp(self, dhcp: dict[str, Any]) -> dict[str, Any] | None:
        """Device info the plugin reads from a DHCP transaction ``{ip, mac, options}``."""
        request = {
            "ip": dhcp.get("ip"),
            "mac": dhcp.get("mac"),
            "options": {
                int(code): _dhcp_option_value(v) for code, v in (dhcp.get("options") or {}).items()
            },
        }
        return self._extract(self.obj.dhcp_dev_info_extractor, request, "dhcp")

    def identify_http(self, req: HttpRequestInfo) -> dict[str, Any] | None:
        """Device info the plugin reads from an HTTP request."""
        request = twisted_bridge.build_request(
            req.method, req.path, req.query, req.headers, req.client_ip, req.body
        )
        return self._extract(self.obj.http_dev_info_extractor, request, "http")

    def identify_tftp(self, req: TftpRequestInfo) -> dict[str, Any] | None:
        """Device info the plugin reads from a TFTP read request."""
        return self._extract(self.obj.tftp_dev_info_extractor, self._tftp_request(req), "tftp")

    def _tftp_request(self, req: TftpRequestInfo) -> dict[str, Any]:
        return {
            "address": (req.client_ip, 69),
            "packet": _rrq_packet(req.filename.encode("ascii", "replace"), req.options),
        }

    def support(self, dev_info: dict[str, Any]) -> int | None:
        """The plugin associator's score for *dev_info* (None without associator)."""
        associator = self.obj.pg_associator
        if associator is None:
            return None
        with self._calling("plugin association", PluginError):
            return int(associator.associate(dev_info))

    # configuration

    def configure_common(self, raw_config: dict[str, Any]) -> None:
        """``configure_common`` with a copy of *raw_config*."""
        with self._calling("configure_common", PluginConfigError):
            self.obj.configure_common(copy.deepcopy(raw_config))

    def configure(
        self, device: dict[str, Any], raw_config: dict[str, Any], *, prepared: bool = False
    ) -> None:
        """``configure`` with a copy of *raw_config* completed with provd's defaults.

        *prepared*: *raw_config* is already the caller's own copy with our defaults applied
        (what :class:`ProvdApp` hands over), so it goes to the plugin as it is (with a real
        provd, its own defaults are still applied).  Plugin code that does not return within
        ``timeout`` seconds fails the call; its thread cannot be killed and is left running.
        """
        raw = raw_config if prepared and compat.mode() != "real" else self._prepared(raw_config)
        done, outcome = self._runners.run(lambda: self.obj.configure(device, raw), self.timeout)
        if not done:
            raise PluginConfigError(
                self.id,
                f"configure did not return within {self.timeout:g} s (hung plugin code?)",
            )
        if outcome is not None:
            with self._calling("configure", PluginConfigError):
                raise outcome

    def _prepared(self, raw_config: dict[str, Any]) -> dict[str, Any]:
        """A copy of *raw_config* with provd's defaults (real provd's, validated, if real)."""
        if compat.mode() != "real":
            return apply_defaults(copy.deepcopy(raw_config))
        try:
            return realplugins.prepare_raw_config(copy.deepcopy(raw_config))
        except Exception as exc:  # wazo_provd's RawConfigError (not importable here)
            message = f"wazo_provd rejects the harness's raw config ({exc}): not a plugin defect"
            raise PluginConfigError(self.id, message) from exc

    def deconfigure(self, device: dict[str, Any]) -> None:
        with self._calling("deconfigure", PluginConfigError):
            self.obj.deconfigure(device)

    def synchronize(self, device: dict[str, Any], raw_config: dict[str, Any]) -> None:
        """Ask the device to resync; raises PluginConfigError when the plugin cannot."""
        with self._calling("synchronize", PluginConfigError):
            with twisted_bridge.inline_threads(self.timeout):
                deferred = self.obj.synchronize(device, self._prepared(raw_config))
                twisted_bridge.resolve(deferred, self.timeout)

    def get_remote_state_trigger_filename(self, device: dict[str, Any]) -> str | None:
        with self._calling("get_remote_state_trigger_filename", PluginError):
            name = self.obj.get_remote_state_trigger_filename(device)
        return None if name is None else str(name)

    def is_sensitive_filename(self, filename: str) -> bool:
        fun = getattr(self.obj, "is_sensitive_filename", None)
        return bool(fun(filename)) if fun is not None else False

    # serving

    def serve_http(self, req: HttpRequestInfo, device: dict[str, Any] | None) -> HttpReply:
        """The plugin's HTTP service answer (404 when it has none)."""
        service = self.obj.http_service
        if service is None:
            return HttpReply(404, {"Content-Type": "text/plain"}, b"Nowhere to route this request.")
        request = twisted_bridge.build_request(
            req.method, req.path, req.query, req.headers, req.client_ip, req.body, device
        )
        result = twisted_bridge.render(service, request, self.timeout)
        if result.error is not None:
            logger.error("%s: HTTP %s %s failed: %s", self.id, req.method, req.path, result.error)
        return HttpReply(result.status, result.headers, result.body)

    def serve_tftp(self, req: TftpRequestInfo, device: dict[str, Any] | None) -> bytes:
        """Content the plugin's TFTP service serves; FileNotFoundError when rejected.

        Anything else the service raises is the plugin's fault: a PluginError naming it.
        """
        service = self.obj.tftp_service
        if service is None:
            raise FileNotFoundError(f"{self.id} has no TFTP service")
        try:
            return twisted_bridge.tftp_read(
                service, req.filename, req.client_ip, req.options, device, self.timeout
            )
        except FileNotFoundError:
            raise
        except Exception as e:
            raise PluginError.from_exception(self.id, self.path, e, "TFTP read") from e

    # services

    @property
    def services(self) -> dict[str, Any]:
        services = self.obj.services
        return dict(services) if services else {}

    @property
    def params(self) -> PluginParams | None:
        """The ``configure`` service, or None when the plugin offers none."""
        service = self.services.get("configure")
        return None if service is None else PluginParams(self.id, self.path, service)

    @property
    def firmware(self) -> PluginFirmware | None:
        """The ``install`` service, or None when the plugin offers none."""
        service = self.services.get("install")
        return None if service is None else PluginFirmware(self.id, service, self.timeout)

    def close(self) -> None:
        self._runners.close()
        with self._calling("close", PluginError):
            self.obj.close()


# --- loading ------------------------------------------------------------------------------


def load_plugin(
    plugins_dir: Path,
    plugin_id: str,
    *,
    app: Any,
    gen_cfg: dict[str, Any],
    spec_cfg: dict[str, Any],
    timeout: float = twisted_bridge.DEFAULT_TIMEOUT,
) -> LoadedPlugin:
    """Load the plugin installed in ``plugins_dir/plugin_id`` (PluginLoadError on failure)."""
    plugin_dir = plugins_dir / plugin_id
    if PurePosixPath(plugin_id).name != plugin_id or not plugin_dir.is_dir():
        raise PluginLoadError(plugin_id, f"not installed in {plugins_dir}")
    try:
        info = read_plugin_info(plugin_dir)
    except SourceError as e:
        raise PluginLoadError(plugin_id, e.message, str(e.path), e.line) from e
    _check_iface(plugin_id, plugin_dir, info)
    entry = plugin_dir / ENTRY_FILENAME
    namespace: dict[str, Any] = {"__name__": f"provd_plugin_{plugin_id}"}
    namespace["execfile_"] = _make_execfile(namespace, plugin_dir)
    try:
        source = entry.read_bytes()
    except OSError as e:
        raise PluginLoadError(plugin_id, f"cannot read: {e.strerror}", str(entry)) from None
    if compat.mode() == "real":  # --provd-backend real: real provd's plugin manager loads it
        with _plugin_warnings():
            try:
                obj = realplugins.load(plugins_dir, plugin_id, app, dict(gen_cfg), spec_cfg)
            except Exception as e:
                raise PluginLoadError.from_exception(plugin_id, plugin_dir, e, "load") from e
            renders.watch(obj, plugin_dir)
        return LoadedPlugin(plugin_id, plugin_dir, info, obj, timeout=timeout)
    with _plugin_warnings():
        try:
            exec(compile(source, str(entry), "exec"), namespace)
        except Exception as e:
            raise PluginLoadError.from_exception(plugin_id, plugin_dir, e, "load") from e
        plugin_class = _plugin_class(plugin_id, entry, namespace)
        try:
            # A shallow copy per plugin, as provd makes: ``proxies`` stays shared and current.
            gen_cfg = dict(gen_cfg)
            obj = plugin_class(app, str(plugin_dir), gen_cfg, spec_cfg)
            obj.id = plugin_id
        except Exception as e:
            raise PluginLoadError.from_exception(plugin_id, plugin_dir, e, "instantiate") from e
        _share_general_config(obj, gen_cfg)
        # Generated files are traced back to template lines when a check fails on them.
        renders.watch(obj, plugin_dir)
    return LoadedPlugin(plugin_id, plugin_dir, info, obj, timeout=timeout)


def _share_general_config(obj: Any, gen_cfg: dict[str, Any]) -> None:
    """Hand *gen_cfg* to the services that take it (our compat ``FetchfwPluginHelper``).

    Plugins build their install service from a plugin directory and downloaders only, yet
    where the firmware cache is belongs to this plugin manager: nothing process-wide says it.
    """
    try:
        services = list(dict(obj.services or {}).values())
    except Exception:  # broken services fail where provd uses them, not at load
        return
    for service in services:
        hook = getattr(service, "use_harness_config", None)
        if callable(hook):
            hook(gen_cfg)


def _check_iface(plugin_id: str, plugin_dir: Path, info: dict[str, Any]) -> None:
    path = str(plugin_dir / PLUGIN_INFO_FILENAME)
    low = info.get("plugin_iface_version_min")
    high = info.get("plugin_iface_version_max")
    if low is not None and PLUGIN_IFACE_VERSION < low:
        raise PluginLoadError(
            plugin_id, f"needs plugin interface >= {low}, provd has {PLUGIN_IFACE_VERSION}", path
        )
    if high is not None and PLUGIN_IFACE_VERSION > high:
        raise PluginLoadError(
            plugin_id, f"needs plugin interface <= {high}, provd has {PLUGIN_IFACE_VERSION}", path
        )


def _plugin_class(plugin_id: str, entry: Path, namespace: dict[str, Any]) -> Any:
    bases = [provd_module("wazo_provd.abstract_plugin").AbstractPlugin]
    # The real library aliases ``provd`` to ``wazo_provd`` in a way that executes its
    # files a second time as ``provd.*``: a plugin importing ``provd.plugins`` then
    # subclasses a second AbstractPlugin, which provd accepts too (LegacyImportPlugin).
    legacy = sys.modules.get("provd.abstract_plugin")
    if legacy is not None and getattr(legacy, "AbstractPlugin", None) not in bases:
        bases.append(legacy.AbstractPlugin)
    # provd takes the first one in namespace order; so do we.
    for obj in namespace.values():
        if (
            isinstance(obj, type)
            and issubclass(obj, tuple(bases))
            and getattr(obj, "IS_PLUGIN", None)
        ):
            return obj
    raise PluginLoadError(
        plugin_id, "no plugin class (a Plugin subclass with IS_PLUGIN = True)", str(entry)
    )
