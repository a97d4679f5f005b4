"""Plugin base classes and helpers, as plugins import them from provd's ``plugins`` module."""

from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jinja2 import Environment, Template
from jinja2.exceptions import TemplateNotFound
from twisted.internet import defer

from wazo_provd import phonebook, phoned_users
from wazo_provd.abstract_plugin import AbstractPlugin
from wazo_provd.localization import get_locale_and_language
from wazo_provd.operation import OIP_FAIL, OIP_SUCCESS, OperationInProgress
from wazo_provd.services import AbstractInstallationService, InvalidParameterError

logger = logging.getLogger(__name__)

__all__ = [
    "AbstractPluginManagerObserver",
    "BasePluginManagerObserver",
    "FetchfwPluginHelper",
    "InvalidParameterError",
    "Plugin",
    "PluginNotLoadedError",
    "StandardPlugin",
    "TemplatePluginHelper",
    "add_wazo_phoned_user_service_url",
    "add_xivo_phonebook_url",
    "add_xivo_phonebook_url_from_format",
]

PLUGIN_INFO_FILENAME = "plugin-info"
PLUGIN_INFO_KEYS = ("capabilities", "description", "version")
PLUGIN_IFACE_VERSION = 0.2

add_xivo_phonebook_url = phonebook.add_xivo_phonebook_url
add_xivo_phonebook_url_from_format = phonebook.add_xivo_phonebook_url_from_format
add_wazo_phoned_user_service_url = phoned_users.add_wazo_phoned_user_service_url


class PluginNotLoadedError(Exception):
    """No loaded plugin has that id."""


def localize_info(info: dict[str, Any]) -> dict[str, Any]:
    """Replace ``description`` by ``description_<locale|lang>`` and drop the localized keys."""
    locale, lang = get_locale_and_language()
    for key in (f"description_{locale}", f"description_{lang}") if locale else ():
        if key in info:
            info["description"] = info[key]
            break
    for key in [k for k in info if k.startswith("description_")]:
        del info[key]
    return info


def read_plugin_info(plugin_dir: str) -> dict[str, Any]:
    """The plugin's ``plugin-info`` JSON, checked for the mandatory keys."""
    path = os.path.join(plugin_dir, PLUGIN_INFO_FILENAME)
    with open(path, encoding="utf-8") as f:
        info = json.load(f)
    if not isinstance(info, dict):
        raise ValueError(f"{path}: not a JSON object")
    missing = [k for k in PLUGIN_INFO_KEYS if k not in info]
    if missing:
        raise ValueError(f"{path}: invalid plugin info: missing {', '.join(missing)}")
    return info


class Plugin(AbstractPlugin):
    """Base of every plugin; the class to load is the one with a true ``IS_PLUGIN``.

    Attributes the plugin manager and servers use: ``id`` (set after instantiation),
    ``services``, ``pg_associator``, ``{dhcp,http,tftp}_dev_info_extractor``,
    ``http_service`` (a twisted.web resource) and ``tftp_service``.
    """

    id: str | None = None
    dhcp_dev_info_extractor: Any = None
    http_dev_info_extractor: Any = None
    http_service: Any = None
    tftp_dev_info_extractor: Any = None
    tftp_service: Any = None
    pg_associator: Any = None

    def __init__(self, app: Any, plugin_dir: str, gen_cfg: Any, spec_cfg: Any) -> None:
        self._services: dict[str, Any] = {}
        self._plugin_dir = plugin_dir

    def load(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called once when the plugin is unloaded."""

    @property
    def info(self) -> dict[str, Any]:
        """The plugin-info content (localized)."""
        return localize_info(read_plugin_info(self._plugin_dir))

    @property
    def services(self) -> dict[str, Any]:
        return self._services

    @services.setter
    def services(self, value: dict[str, Any]) -> None:
        self._services = value

    def configure_common(self, raw_config: dict[str, Any]) -> None:
        """Write files shared by all devices (``ip``, ``http_port``, ``tftp_port`` present)."""

    def configure(self, device: dict[str, Any], raw_config: dict[str, Any]) -> None:
        """Write the device's own files from *raw_config*."""

    def deconfigure(self, device: dict[str, Any]) -> None:
        """Remove the device's own files."""

    def synchronize(self, device: dict[str, Any], raw_config: dict[str, Any]) -> Any:
        """Deferred firing when the device was told to reload its configuration."""
        return defer.fail(Exception("Re-synchronization is not supported"))

    def get_remote_state_trigger_filename(self, device: dict[str, Any]) -> str | None:
        """File whose download means the device has the current configuration."""
        return None

    def is_sensitive_filename(self, filename: str) -> bool:
        """True when *filename* may contain credentials."""
        return False


class StandardPlugin(Plugin):
    """Plugin with a ``var/tftpboot`` directory (``self._tftpboot_dir``)."""

    _TFTPBOOT_DIR = os.path.join("var", "tftpboot")

    def __init__(self, app: Any, plugin_dir: str, gen_cfg: Any, spec_cfg: Any) -> None:
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._tftpboot_dir = os.path.join(plugin_dir, self._TFTPBOOT_DIR)


class TemplatePluginHelper:
    """jinja2 templates of a plugin: ``var/templates`` (custom) shadows ``templates``."""

    DEFAULT_TPL_DIR = "templates"
    CUSTOM_TPL_DIR = os.path.join("var", "templates")

    def __init__(self, plugin_dir: str) -> None:
        from wazo_provd.loaders import ProvdFileSystemLoader

        search = [
            os.path.join(plugin_dir, self.CUSTOM_TPL_DIR),
            os.path.join(plugin_dir, self.DEFAULT_TPL_DIR),
        ]
        # Plain Environment (no autoescape, default Undefined, default whitespace handling)
        # so output bytes are those provd produces.
        self._env = Environment(loader=ProvdFileSystemLoader(search))

    def get_dev_template(self, filename: str | None, dev: dict[str, Any]) -> Template:
        """``<filename>.tpl``, else ``<model>.tpl``, else ``base.tpl``."""
        names = []
        if filename:
            names.append(filename + ".tpl")
        if "model" in dev:
            names.append(dev["model"] + ".tpl")
        names.append("base.tpl")
        self._refresh()
        for name in names:
            try:
                return self._env.get_template(name)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(names[-1])

    def get_template(self, name: str) -> Template:
        self._refresh()
        return self._env.get_template(name)

    def _refresh(self) -> None:
        # A template the plugin asks for sees the files as they are now (see the loader).
        refresh = getattr(self._env.loader, "refresh", None)
        if refresh is not None:
            refresh()

    def dump(
        self,
        template: Template,
        context: dict[str, Any],
        filename: str,
        encoding: str = "UTF-8",
        errors: str = "strict",
    ) -> None:
        """Render *template* into *filename*, replacing it atomically."""
        tmp = filename + ".tmp"
        template.stream(context).dump(tmp, encoding, errors)
        os.replace(tmp, filename)

    def render(
        self,
        template: Template,
        context: dict[str, Any],
        encoding: str = "UTF-8",
        errors: str = "replace",
    ) -> bytes:
        return template.render(context).encode(encoding, errors)


class _OfflineDownloader:
    """Stands in for fetchfw downloaders: the harness never reaches outside loopback."""

    def __init__(self, kind: str, proxies: Any = None) -> None:
        self.kind = kind
        self.proxies = proxies
        self.credentials: list[tuple[Any, Any, Any, Any]] = []

    def add_password(self, realm: Any, uri: Any, user: Any, passwd: Any) -> None:
        """Remembered only: nothing is downloaded."""
        self.credentials.append((realm, uri, user, passwd))

    def download(self, url: str, *args: Any, **kwargs: Any) -> Any:
        raise OSError(f"downloads are disabled in the test harness ({url})")

    def __repr__(self) -> str:
        return f"<offline {self.kind} downloader>"


# Signature: (plugin_dir, downloaders, gen_cfg) -> firmware store; replaced by tests if needed.
FirmwareStoreFactory = Callable[[str, Any, Mapping[str, Any]], Any]
_firmware_store_factory: FirmwareStoreFactory | None = None


def set_firmware_store_factory(factory: FirmwareStoreFactory | None) -> None:
    """Choose what backs :class:`FetchfwPluginHelper` (None: pytest_provd.firmware.store)."""
    global _firmware_store_factory
    _firmware_store_factory = factory


def _default_firmware_store(plugin_dir: str, downloaders: Any, gen_cfg: Mapping[str, Any]) -> Any:
    try:
        firmware = importlib.import_module("pytest_provd.firmware.store")
    except ImportError:
        return None
    store_class = getattr(firmware, "FirmwareStore", None)
    if store_class is None:
        return None
    from pathlib import Path

    return store_class.for_plugin(Path(plugin_dir), gen_cfg)


class FetchfwPluginHelper(AbstractInstallationService):
    """Firmware packages of a plugin (``pkgs/pkgs.db``), backed by the harness's firmware store.

    ``install`` returns ``(Deferred, OperationInProgress)`` like provd; the Deferred has
    already fired because installation is synchronous here.
    """

    PKG_DIR = "pkgs"
    CACHE_DIR = os.path.join("var", "cache")
    INSTALLED_DIR = os.path.join("var", "installed")
    TFTPBOOT_DIR = os.path.join("var", "tftpboot")

    @classmethod
    def new_handlers(cls, proxies: Any = None) -> list[Any]:
        return []

    @classmethod
    def new_downloaders_from_handlers(cls, handlers: Any = None) -> dict[str, Any]:
        return {"auth": _OfflineDownloader("auth"), "default": _OfflineDownloader("default")}

    @classmethod
    def new_downloaders(cls, proxies: Any = None) -> dict[str, Any]:
        return {
            "auth": _OfflineDownloader("auth", proxies),
            "default": _OfflineDownloader("default", proxies),
        }

    def __init__(self, plugin_dir: str, downloaders: Any = None, filter_builder: Any = None):
        self._plugin_dir = plugin_dir
        self._downloaders = downloaders
        self.root_dir = os.path.join(plugin_dir, self.TFTPBOOT_DIR)
        self._store_obj: Any = None
        self._gen_cfg: Mapping[str, Any] = {}

    def use_harness_config(self, gen_cfg: Mapping[str, Any]) -> None:
        """provd's general configuration of the plugin manager that loaded this plugin.

        Real provd has no such call: the harness's plugin manager makes it right after
        loading, because plugins build this helper from a directory and downloaders only,
        while the firmware cache to install from is the plugin manager's.
        """
        self._gen_cfg = gen_cfg
        self._store_obj = None

    @property
    def store(self) -> Any:
        """The firmware store, created on first use (None when unavailable)."""
        if self._store_obj is None:
            factory = _firmware_store_factory or _default_firmware_store
            self._store_obj = factory(self._plugin_dir, self._downloaders, self._gen_cfg)
        return self._store_obj

    def _require_store(self) -> Any:
        store = self.store
        if store is None:
            raise RuntimeError(
                "firmware packages unavailable: no firmware store (pytest_provd.firmware.store)"
            )
        # Plugins may point root_dir elsewhere (Aastra: var/tftpboot/Aastra) after creation.
        if hasattr(store, "tftpboot"):
            from pathlib import Path

            store.tftpboot = Path(self.root_dir)
        return store

    def install(self, pkg_id: str) -> tuple[Any, OperationInProgress]:
        store = self._require_store()
        oip = OperationInProgress("install_pkg")
        try:
            store.install(pkg_id)
        except Exception as e:
            oip.state = OIP_FAIL
            return defer.fail(e), oip
        oip.state = OIP_SUCCESS
        return defer.succeed(None), oip

    def uninstall(self, pkg_id: str) -> None:
        self._require_store().uninstall(pkg_id)

    def upgrade(self, pkg_id: str) -> tuple[Any, OperationInProgress]:
        self.uninstall(pkg_id)
        return self.install(pkg_id)

    def update(self) -> Any:
        return defer.succeed(None)

    def list_installable(self) -> dict[str, dict[str, Any]]:
        store = self.store
        return {} if store is None else _as_dict(store.installable())

    def list_installed(self) -> dict[str, dict[str, Any]]:
        store = self.store
        return {} if store is None else _as_dict(store.installed())

    def services(self) -> dict[str, Any]:
        return {"install": self}


def _as_dict(listing: Any) -> dict[str, dict[str, Any]]:
    # The store may hand back dicts or small records; plugins and REST want plain dicts.
    out: dict[str, dict[str, Any]] = {}
    for pkg_id, info in dict(listing).items():
        if isinstance(info, dict):
            out[pkg_id] = dict(info)
        elif hasattr(info, "__dataclass_fields__"):
            import dataclasses

            out[pkg_id] = dataclasses.asdict(info)
        else:
            out[pkg_id] = dict(vars(info))
    return out


class AbstractPluginManagerObserver:
    """Told when plugins are loaded and unloaded."""

    def pg_load(self, pg_id: str) -> None: ...

    def pg_unload(self, pg_id: str) -> None: ...


class BasePluginManagerObserver(AbstractPluginManagerObserver):
    """Observer calling optional callables."""

    def __init__(
        self,
        pg_load: Callable[[str], None] | None = None,
        pg_unload: Callable[[str], None] | None = None,
    ) -> None:
        self._pg_load = pg_load
        self._pg_unload = pg_unload

    def pg_load(self, pg_id: str) -> None:
        if self._pg_load is not None:
            self._pg_load(pg_id)

    def pg_unload(self, pg_id: str) -> None:
        if self._pg_unload is not None:
            self._pg_unload(pg_id)


def iter_plugin_classes(namespace: dict[str, Any]) -> Iterator[type]:
    """Classes in *namespace* that are plugins and have a true ``IS_PLUGIN``."""
    for obj in namespace.values():
        if (
            isinstance(obj, type)
            and issubclass(obj, AbstractPlugin)
            and getattr(obj, "IS_PLUGIN", None)
        ):
            yield obj
