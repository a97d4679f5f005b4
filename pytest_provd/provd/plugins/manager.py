"""Loading, serving and installing provd plugins inside the embedded server.

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
import hashlib
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import threading
import traceback
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any, NamedTuple

from pytest_provd.compat import activate
from pytest_provd.net import is_loopback_url
from pytest_provd.problems import SourceError
from pytest_provd.provd.plugins import twisted_bridge
from pytest_provd.provd.plugins.rawconfig import apply_defaults
from pytest_provd.provd.plugins.twisted_bridge import provd_module

logger = logging.getLogger(__name__)

PLUGIN_IFACE_VERSION = 0.2
ENTRY_FILENAME = "entry.py"
PLUGIN_INFO_FILENAME = "plugin-info"
PLUGINS_DB_FILENAME = "plugins.db"
INFO_KEYS = ("capabilities", "description", "version")
INSTALLABLE_KEYS = (*INFO_KEYS, "dsize", "filename", "sha1sum")

MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 20_000
MAX_DB_BYTES = 16 * 1024 * 1024
NET_TIMEOUT = 30.0


# --- request/reply shapes shared with the servers ----------------------------------------


@dataclass
class HttpRequestInfo:
    """An HTTP request as the phone sent it; ``path`` is relative to the plugin's root."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    client_ip: str
    body: bytes = b""


@dataclass
class TftpRequestInfo:
    """A TFTP read request."""

    filename: str
    client_ip: str
    options: dict[str, str] = field(default_factory=dict)


class HttpReply(NamedTuple):
    """What the plugin's HTTP service answered."""

    status: int
    headers: dict[str, str]
    body: bytes


# --- errors -------------------------------------------------------------------------------


def _plugin_location(
    tb: TracebackType | None, roots: tuple[Path, ...]
) -> tuple[str | None, int | None]:
    """The innermost traceback frame inside one of *roots* (the plugin's own code)."""
    where: tuple[str | None, int | None] = (None, None)
    resolved = tuple(r.resolve() for r in roots)
    for frame in traceback.extract_tb(tb):
        try:
            path = Path(frame.filename).resolve()
        except (OSError, ValueError):
            continue
        if any(path.is_relative_to(r) for r in resolved):
            where = (frame.filename, frame.lineno)
    return where


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


class PluginError(Exception):
    """Base of errors raised by plugin code, located in the plugin's files when possible."""

    def __init__(
        self,
        plugin_id: str,
        message: str,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(f"{where}{plugin_id}: {message}")

    @classmethod
    def from_exception(
        cls, plugin_id: str, plugin_dir: Path, exc: BaseException, action: str
    ) -> PluginError:
        """Wrap *exc* raised by plugin code while doing *action*."""
        path: str | None
        line: int | None
        if isinstance(exc, SyntaxError) and exc.filename:
            path, line = exc.filename, exc.lineno
        else:
            path, line = _plugin_location(exc.__traceback__, (plugin_dir,))
        return cls(plugin_id, f"{action}: {_describe(exc)}", path, line)


class PluginLoadError(PluginError):
    """The plugin could not be loaded (bad entry.py/common.py, plugin-info, no plugin class)."""


class PluginConfigError(PluginError):
    """configure/configure_common/deconfigure/synchronize failed (RawConfigError included)."""

    def __init__(
        self,
        plugin_id_or_message: str,
        message: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        if message is None:
            super().__init__("", plugin_id_or_message, path, line)
        else:
            super().__init__(plugin_id_or_message, message, path, line)


class PluginInstallError(SourceError):
    """A plugin could not be installed from a plugin server."""


# --- reading plugin files -----------------------------------------------------------------


def _read_json(path: Path, what: str, max_bytes: int = MAX_DB_BYTES) -> Any:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(path, f"{what} is {size} bytes, more than {max_bytes}")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SourceError(path, f"{what} is not UTF-8: {e}") from None
    except OSError as e:
        raise SourceError(path, f"cannot read {what}: {e.strerror or e}") from None
    return _parse_json(text, path, what)


def _parse_json(text: str, path: Path | str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(path, f"{what} is not valid JSON: {e.msg}", e.lineno) from None


def read_plugin_info(plugin_dir: Path) -> dict[str, Any]:
    """``plugin-info`` of *plugin_dir*, checked for ``capabilities``/``description``/``version``."""
    path = plugin_dir / PLUGIN_INFO_FILENAME
    info = _read_json(path, "plugin-info")
    if not isinstance(info, dict):
        raise SourceError(path, "plugin-info must be a JSON object", 1)
    missing = [k for k in INFO_KEYS if k not in info]
    if missing:
        raise SourceError(path, f"plugin-info lacks {', '.join(missing)}", 1)
    return info


def _localized(info: dict[str, Any]) -> dict[str, Any]:
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


# --- firmware exposure --------------------------------------------------------------------


class PluginParams:
    """A plugin's ``configure`` service (provd's IConfigureService), used synchronously.

    ``describe()`` gives ``[{"id", "description", "value"}]``; ``get``/``set`` raise KeyError
    for unknown names, ValueError for values the plugin refuses (InvalidParameterError) and
    PluginError naming the plugin for anything else the plugin code raises.
    """

    def __init__(self, plugin: LoadedPlugin, service: Any) -> None:
        self.plugin = plugin
        self.service = service

    def describe(self) -> list[dict[str, Any]]:
        with self.plugin._calling("configure service description", PluginError):
            pairs = list(self.service.description)
            return [{"id": k, "description": d, "value": self.service.get(k)} for k, d in pairs]

    def get(self, name: str) -> Any:
        try:
            with self.plugin._calling(f"configure service get {name!r}", PluginError):
                return self.service.get(name)
        except PluginError as exc:
            if isinstance(exc.__cause__, KeyError):
                raise KeyError(name) from None
            raise

    def set(self, name: str, value: Any) -> None:
        invalid = provd_module("wazo_provd.services").InvalidParameterError
        try:
            with self.plugin._calling(f"configure service set {name!r}", PluginError):
                self.service.set(name, value)
        except PluginError as exc:
            if isinstance(exc.__cause__, KeyError):
                raise KeyError(name) from None
            if isinstance(exc.__cause__, invalid):
                raise ValueError(str(exc.__cause__) or f"invalid value for {name!r}") from None
            raise


class PluginFirmware:
    """A plugin's ``install`` service (FetchfwPluginHelper), used synchronously."""

    def __init__(self, plugin_id: str, service: Any, timeout: float) -> None:
        self.plugin_id = plugin_id
        self.service = service
        self._timeout = timeout

    def installable(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self.service.list_installable()
        return result

    def installed(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self.service.list_installed()
        return result

    def install(self, pkg_id: str) -> None:
        """Install *pkg_id*; errors propagate."""
        outcome = self.service.install(pkg_id)
        deferred = outcome[0] if isinstance(outcome, tuple) else outcome
        with twisted_bridge.inline_threads(self._timeout):
            twisted_bridge.resolve(deferred, self._timeout)

    def uninstall(self, pkg_id: str) -> None:
        self.service.uninstall(pkg_id)

    def upgrade(self, pkg_id: str) -> None:
        if hasattr(self.service, "upgrade"):
            outcome = self.service.upgrade(pkg_id)
            deferred = outcome[0] if isinstance(outcome, tuple) else outcome
            twisted_bridge.resolve(deferred, self._timeout)
        else:
            self.uninstall(pkg_id)
            self.install(pkg_id)

    def install_all(self) -> list[str]:
        """Install every package not installed yet; returns their ids."""
        done = []
        installed = self.installed()
        for pkg_id in sorted(self.installable()):
            if pkg_id not in installed:
                self.install(pkg_id)
                done.append(pkg_id)
        return done


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

    def __repr__(self) -> str:
        return f"LoadedPlugin({self.id!r}, {type(self.obj).__name__})"

    @contextlib.contextmanager
    def _calling(self, action: str, error: type[PluginError]) -> Iterator[None]:
        try:
            yield
        except PluginError:
            raise
        except Exception as e:
            raise error.from_exception(self.id, self.path, e, action) from e

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

    def configure(self, device: dict[str, Any], raw_config: dict[str, Any]) -> None:
        """``configure`` with a copy of *raw_config* completed with provd's defaults.

        Plugin code that does not return within ``timeout`` seconds fails the call; its
        thread cannot be killed and is left running as a daemon.
        """
        raw = apply_defaults(copy.deepcopy(raw_config))
        outcome: list[BaseException | None] = []

        def call() -> None:
            try:
                self.obj.configure(device, raw)
            except BaseException as exc:  # handed to the caller's thread below
                outcome.append(exc)
            else:
                outcome.append(None)

        worker = threading.Thread(target=call, name=f"configure-{self.id}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            raise PluginConfigError(
                self.id,
                f"configure did not return within {self.timeout:g} s (hung plugin code?)",
            )
        error = outcome[0] if outcome else None
        if error is not None:
            with self._calling("configure", PluginConfigError):
                raise error

    def deconfigure(self, device: dict[str, Any]) -> None:
        with self._calling("deconfigure", PluginConfigError):
            self.obj.deconfigure(device)

    def synchronize(self, device: dict[str, Any], raw_config: dict[str, Any]) -> None:
        """Ask the device to resync; raises PluginConfigError when the plugin cannot."""
        with self._calling("synchronize", PluginConfigError):
            with twisted_bridge.inline_threads(self.timeout):
                deferred = self.obj.synchronize(device, apply_defaults(copy.deepcopy(raw_config)))
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
        """Content the plugin's TFTP service serves; FileNotFoundError when rejected."""
        service = self.obj.tftp_service
        if service is None:
            raise FileNotFoundError(f"{self.id} has no TFTP service")
        return twisted_bridge.tftp_read(
            service, req.filename, req.client_ip, req.options, device, self.timeout
        )

    # services

    @property
    def services(self) -> dict[str, Any]:
        services = self.obj.services
        return dict(services) if services else {}

    @property
    def params(self) -> PluginParams | None:
        """The ``configure`` service, or None when the plugin offers none."""
        service = self.services.get("configure")
        return None if service is None else PluginParams(self, service)

    @property
    def firmware(self) -> PluginFirmware | None:
        """The ``install`` service, or None when the plugin offers none."""
        service = self.services.get("install")
        return None if service is None else PluginFirmware(self.id, service, self.timeout)

    def close(self) -> None:
        with self._calling("close", PluginError):
            self.obj.close()


# --- plugin servers -----------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        # A redirect could lead off loopback; plugin servers have no reason to send one.
        return None


def _fetch(server: str, name: str, max_bytes: int) -> bytes:
    """Bytes of *name* on *server* (directory or loopback http URL), at most *max_bytes*."""
    if server.startswith(("http://", "https://")):
        url = server.rstrip("/") + "/" + urllib.parse.quote(name)
        if not is_loopback_url(url):
            raise PluginInstallError(server, "plugin server must be on loopback (127.0.0.1)")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(url, timeout=NET_TIMEOUT) as resp:
                data: bytes = resp.read(max_bytes + 1)
        except OSError as e:
            raise PluginInstallError(url, f"download failed: {e}") from None
    else:
        base = Path(server.removeprefix("file://"))
        path = base / name
        if PurePosixPath(name).name != name:
            raise PluginInstallError(server, f"refusing file name {name!r} with a directory")
        try:
            with path.open("rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as e:
            raise PluginInstallError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise PluginInstallError(f"{server}/{name}", f"larger than {max_bytes} bytes")
    return data


def read_plugins_db(server: str) -> dict[str, dict[str, Any]]:
    """The checked ``plugins.db`` of a plugin server."""
    where = f"{server.rstrip('/')}/{PLUGINS_DB_FILENAME}"
    try:
        text = _fetch(server, PLUGINS_DB_FILENAME, MAX_DB_BYTES).decode("utf-8")
    except UnicodeDecodeError as e:
        raise PluginInstallError(where, f"not UTF-8: {e}") from None
    db = _parse_json(text, where, PLUGINS_DB_FILENAME)
    if not isinstance(db, dict):
        raise PluginInstallError(where, "plugins.db must be a JSON object", 1)
    for plugin_id, entry in db.items():
        line = _line_of_key(text, plugin_id)
        if not isinstance(entry, dict):
            raise PluginInstallError(where, f"{plugin_id}: entry is not an object", line)
        missing = [k for k in INSTALLABLE_KEYS if k not in entry]
        if missing:
            raise PluginInstallError(where, f"{plugin_id}: missing {', '.join(missing)}", line)
        filename = entry["filename"]
        if (
            not isinstance(filename, str)
            or PurePosixPath(filename).name != filename
            or (filename in ("", ".", ".."))
        ):
            raise PluginInstallError(where, f"{plugin_id}: bad filename {filename!r}", line)
        if not isinstance(entry["dsize"], int) or entry["dsize"] < 0:
            raise PluginInstallError(where, f"{plugin_id}: dsize must be an integer", line)
        if not isinstance(entry["sha1sum"], str) or len(entry["sha1sum"]) != 40:
            raise PluginInstallError(where, f"{plugin_id}: sha1sum must be 40 hex digits", line)
    return db


def _line_of_key(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def _check_member(member: tarfile.TarInfo, top: str, origin: str) -> None:
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        raise PluginInstallError(origin, f"absolute path in package: {name!r}")
    if ".." in parts:
        raise PluginInstallError(origin, f"path escaping the plugin directory: {name!r}")
    if not parts or parts[0] != top:
        raise PluginInstallError(origin, f"member {name!r} is outside {top}/")
    if (
        member.isdev()
        or member.isfifo()
        or not (member.isfile() or member.isdir() or member.issym() or member.islnk())
    ):
        raise PluginInstallError(origin, f"special file in package: {name!r}")
    if member.size > MAX_MEMBER_BYTES:
        raise PluginInstallError(origin, f"{name!r} is larger than {MAX_MEMBER_BYTES} bytes")
    if member.issym() or member.islnk():
        target = member.linkname
        if member.issym():
            resolved = PurePosixPath(*parts[:-1]) / target
        else:
            resolved = PurePosixPath(target)
        if target.startswith("/") or not _stays_inside(resolved, top):
            raise PluginInstallError(origin, f"link {name!r} -> {target!r} leaves {top}/")


def _stays_inside(path: PurePosixPath, top: str) -> bool:
    depth_parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not depth_parts:
                return False
            depth_parts.pop()
        elif part != ".":
            depth_parts.append(part)
    return bool(depth_parts) and depth_parts[0] == top


def safe_extract(tar_path: Path, dest: Path, top: str, origin: str) -> None:
    """Extract *tar_path* into *dest* after checking every member stays under ``top/``."""
    try:
        with tarfile.open(tar_path) as tar:
            members: list[tarfile.TarInfo] = []
            total = 0
            for member in tar:
                if len(members) >= MAX_MEMBERS:
                    raise PluginInstallError(origin, f"more than {MAX_MEMBERS} members")
                _check_member(member, top, origin)
                total += member.size
                if total > MAX_PACKAGE_BYTES * 4:
                    raise PluginInstallError(origin, "package expands to too many bytes")
                members.append(member)
            tar.extractall(dest, members=members, filter="data")
    except tarfile.TarError as e:
        raise PluginInstallError(origin, f"not a valid tar archive: {e}") from None


# --- the manager --------------------------------------------------------------------------


class PluginManager:
    """The installed plugins of a directory and the loaded ones.

    *gen_cfg* is provd's general configuration passed to every plugin (``proxies``...),
    *spec_cfg* maps plugin ids to their specific configuration.
    """

    def __init__(
        self,
        plugins_dir: Path,
        *,
        gen_cfg: dict[str, Any],
        spec_cfg: dict[str, dict[str, Any]] | None = None,
        app: Any = None,
        timeout: float = twisted_bridge.DEFAULT_TIMEOUT,
    ) -> None:
        activate()
        self.plugins_dir = Path(plugins_dir)
        self.plugins_dir.mkdir(parents=True, exist_ok=True)
        self.gen_cfg = gen_cfg
        self.spec_cfg = spec_cfg or {}
        self.app = app
        self.timeout = timeout
        self.loaded: dict[str, LoadedPlugin] = {}
        self._recover()

    def _recover(self) -> None:
        """Finish what a killed install left: restore a swapped-out plugin, drop staging dirs."""
        for staging in sorted(self.plugins_dir.glob(".install-*")):
            previous = staging / "previous"
            if previous.is_dir():
                info = previous / PLUGIN_INFO_FILENAME
                plugin_id = self._previous_id(staging)
                if plugin_id and info.is_file() and not (self.plugins_dir / plugin_id).exists():
                    os.replace(previous, self.plugins_dir / plugin_id)
            shutil.rmtree(staging, ignore_errors=True)

    @staticmethod
    def _previous_id(staging: Path) -> str | None:
        # The extracted tree names the plugin being replaced (tree/<plugin_id>).
        tree = staging / "tree"
        names = [p.name for p in tree.iterdir()] if tree.is_dir() else []
        marker = staging / "plugin-id"
        if marker.is_file():
            return marker.read_text().strip() or None
        return names[0] if len(names) == 1 else None

    # listing

    def installed(self) -> dict[str, dict[str, Any]]:
        """``plugin-info`` of every installed plugin by id (SourceError on a broken one)."""
        result: dict[str, dict[str, Any]] = {}
        for child in sorted(self.plugins_dir.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            result[child.name] = _localized(read_plugin_info(child))
        return result

    def is_installed(self, plugin_id: str) -> bool:
        return (self.plugins_dir / plugin_id / PLUGIN_INFO_FILENAME).is_file()

    def installable(self, server: str) -> dict[str, dict[str, Any]]:
        """Installable plugins of a plugin server (directory or loopback URL)."""
        return {pid: _localized(entry) for pid, entry in read_plugins_db(server).items()}

    def upgradable(self, server: str) -> dict[str, dict[str, str]]:
        """Installed plugins the server has a newer version of: ``{id: {installed, available}}``."""
        from pytest_provd.versions import VersionError, is_newer

        available = read_plugins_db(server)
        result = {}
        for plugin_id, info in self.installed().items():
            if plugin_id not in available:
                continue
            new, old = str(available[plugin_id]["version"]), str(info["version"])
            try:
                newer = is_newer(new, old)
            except VersionError:
                newer = False
            if newer:
                result[plugin_id] = {"installed": old, "available": new}
        return result

    # loading

    def load(self, plugin_id: str) -> LoadedPlugin:
        """Load an installed plugin (PluginLoadError if it fails or is already loaded)."""
        if plugin_id in self.loaded:
            raise PluginLoadError(plugin_id, "plugin is already loaded")
        plugin_dir = self.plugins_dir / plugin_id
        if PurePosixPath(plugin_id).name != plugin_id or not plugin_dir.is_dir():
            raise PluginLoadError(plugin_id, f"not installed in {self.plugins_dir}")
        try:
            info = read_plugin_info(plugin_dir)
        except SourceError as e:
            raise PluginLoadError(plugin_id, e.message, str(e.path), e.line) from e
        self._check_iface(plugin_id, plugin_dir, info)
        entry = plugin_dir / ENTRY_FILENAME
        namespace: dict[str, Any] = {"__name__": f"provd_plugin_{plugin_id}"}
        namespace["execfile_"] = _make_execfile(namespace, plugin_dir)
        try:
            source = entry.read_bytes()
        except OSError as e:
            raise PluginLoadError(plugin_id, f"cannot read: {e.strerror}", str(entry)) from None
        with _plugin_warnings():
            try:
                exec(compile(source, str(entry), "exec"), namespace)
            except Exception as e:
                raise PluginLoadError.from_exception(plugin_id, plugin_dir, e, "load") from e
            plugin_class = self._plugin_class(plugin_id, entry, namespace)
            spec = self.spec_cfg.get(plugin_id, {})
            try:
                obj = plugin_class(self.app, str(plugin_dir), self.gen_cfg, spec)
                obj.id = plugin_id
            except Exception as e:
                raise PluginLoadError.from_exception(plugin_id, plugin_dir, e, "instantiate") from e
        loaded = LoadedPlugin(plugin_id, plugin_dir, info, obj, timeout=self.timeout)
        self.loaded[plugin_id] = loaded
        return loaded

    @staticmethod
    def _check_iface(plugin_id: str, plugin_dir: Path, info: dict[str, Any]) -> None:
        path = str(plugin_dir / PLUGIN_INFO_FILENAME)
        low = info.get("plugin_iface_version_min")
        high = info.get("plugin_iface_version_max")
        if low is not None and PLUGIN_IFACE_VERSION < low:
            raise PluginLoadError(
                plugin_id,
                f"needs plugin interface >= {low}, provd has {PLUGIN_IFACE_VERSION}",
                path,
            )
        if high is not None and PLUGIN_IFACE_VERSION > high:
            raise PluginLoadError(
                plugin_id,
                f"needs plugin interface <= {high}, provd has {PLUGIN_IFACE_VERSION}",
                path,
            )

    @staticmethod
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

    def get(self, plugin_id: str) -> LoadedPlugin:
        """The loaded plugin (KeyError when not loaded)."""
        return self.loaded[plugin_id]

    def unload(self, plugin_id: str) -> None:
        """Close and forget a loaded plugin; close() errors are logged, not raised."""
        try:
            plugin = self.loaded.pop(plugin_id)
        except KeyError:
            raise PluginLoadError(plugin_id, "plugin is not loaded") from None
        try:
            plugin.close()
        except PluginError as e:
            logger.error("closing %s: %s", plugin_id, e)

    def reload(self, plugin_id: str) -> LoadedPlugin:
        """Unload (if loaded) and load again, e.g. after a rebuild."""
        if plugin_id in self.loaded:
            self.unload(plugin_id)
        return self.load(plugin_id)

    def close(self) -> None:
        for plugin_id in list(self.loaded):
            self.unload(plugin_id)

    def associate(self, dev_info: dict[str, Any], min_level: int = 300) -> str | None:
        """The loaded plugin provd would assign (best score ≥ *min_level*, ties: greatest id)."""
        scores: dict[int, list[str]] = {}
        for plugin_id, plugin in self.loaded.items():
            try:
                score = plugin.support(dev_info)
            except PluginError as e:
                logger.error("association with %s failed: %s", plugin_id, e)
                continue
            if score is not None:
                scores.setdefault(score, []).append(plugin_id)
        if not scores:
            return None
        best = max(scores)
        return max(scores[best]) if best >= min_level else None

    # installing

    def install_from_server(self, server: str, plugin_id: str) -> None:
        """Download, verify and extract *plugin_id*; a failed install leaves the old one."""
        db = read_plugins_db(server)
        if plugin_id not in db:
            raise PluginInstallError(server, f"no plugin {plugin_id} in plugins.db")
        entry = db[plugin_id]
        origin = f"{server.rstrip('/')}/{entry['filename']}"
        if entry["dsize"] > MAX_PACKAGE_BYTES:
            raise PluginInstallError(origin, f"dsize {entry['dsize']} exceeds the limit")
        data = _fetch(server, entry["filename"], MAX_PACKAGE_BYTES)
        if len(data) != entry["dsize"]:
            raise PluginInstallError(
                origin, f"size {len(data)} differs from plugins.db dsize {entry['dsize']}"
            )
        digest = hashlib.sha1(data).hexdigest()
        if digest != entry["sha1sum"].lower():
            raise PluginInstallError(
                origin, f"sha1 {digest} differs from plugins.db sha1sum {entry['sha1sum']}"
            )
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=self.plugins_dir))
        try:
            # Written first so that recovery after a kill knows which plugin this was.
            (staging / "plugin-id").write_text(plugin_id)
            package = staging / "package.tar.bz2"
            package.write_bytes(data)
            tree = staging / "tree"
            tree.mkdir()
            safe_extract(package, tree, plugin_id, origin)
            new_dir = tree / plugin_id
            try:
                read_plugin_info(new_dir)
            except SourceError as e:
                raise PluginInstallError(origin, f"package has no valid plugin-info: {e}") from e
            self._swap_in(plugin_id, new_dir, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _swap_in(self, plugin_id: str, new_dir: Path, staging: Path) -> None:
        target = self.plugins_dir / plugin_id
        backup = staging / "previous"
        had_previous = target.exists()
        if had_previous:
            os.replace(target, backup)
        try:
            os.replace(new_dir, target)
        except OSError:
            if had_previous:
                os.replace(backup, target)
            raise

    def uninstall(self, plugin_id: str) -> None:
        """Remove an installed plugin (it stays loaded if it was, as in provd)."""
        target = self.plugins_dir / plugin_id
        if PurePosixPath(plugin_id).name != plugin_id or not target.is_dir():
            raise PluginInstallError(self.plugins_dir, f"plugin {plugin_id} is not installed")
        shutil.rmtree(target)
