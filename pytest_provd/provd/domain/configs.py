"""Configs as provd keeps them: ``parent_ids`` inheritance, roles, transient and deletable flags.

A config is ``{"id", "parent_ids", "raw_config", ...}``.  The *raw config* of a config is a copy
of the server's base raw config (``ip``, ``http_port``, ``tftp_port``, ``http_base_url``), then
each parent's raw config in ``parent_ids`` order (recursively, each config visited once, depth
first), then the config's own ``raw_config``; nested objects are merged key by key, so later
parents and the config itself win.  An unknown config id has no raw config (``None``); an
unknown parent is skipped.  ``role: "autocreate"`` marks the config new devices get a transient
child of; ``deletable: false`` protects a config from DELETE.
"""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from pytest_provd.problems import ProvdHarnessError

JsonDict = dict[str, Any]

_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMERIC_KEY = re.compile(r"^[0-9]+$")
_LOCALE = re.compile(r"^[a-z]{2}_[A-Z]{2}$")

# Standard raw config parameters and the JSON types provd's schema accepts for them.
_STR = (str,)
_INT = (int,)
_BOOL = (bool,)
_STD_PARAMS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "ip",
            "http_base_url",
            "dns_ip",
            "ntp_ip",
            "syslog_ip",
            "admin_username",
            "admin_password",
            "user_username",
            "user_password",
            "timezone",
            "locale",
            "protocol",
            "sip_proxy_ip",
            "sip_backup_proxy_ip",
            "sip_registrar_ip",
            "sip_backup_registrar_ip",
            "sip_outbound_proxy_ip",
            "sip_dtmf_mode",
            "sip_srtp_mode",
            "sip_transport",
            "sip_local_certificate",
            "sip_local_key",
            "syslog_level",
            "exten_dnd",
            "exten_fwd_unconditional",
            "exten_fwd_no_answer",
            "exten_fwd_busy",
            "exten_fwd_disable_all",
            "exten_park",
            "exten_pickup_group",
            "exten_pickup_call",
            "exten_voicemail",
        ),
        _STR,
    ),
    **dict.fromkeys(
        (
            "http_port",
            "tftp_port",
            "vlan_id",
            "vlan_priority",
            "vlan_pc_port_id",
            "syslog_port",
            "sip_proxy_port",
            "sip_backup_proxy_port",
            "sip_registrar_port",
            "sip_backup_registrar_port",
            "sip_outbound_proxy_port",
            "config_version",
        ),
        _INT,
    ),
    **dict.fromkeys(
        ("dns_enabled", "ntp_enabled", "vlan_enabled", "syslog_enabled", "sip_subscribe_mwi"),
        _BOOL,
    ),
    "sip_servers_root_and_intermediate_certificates": (list,),
    "sip_local_root_and_intermediate_certificates": (list,),
    "sip_lines": (dict,),
    "sccp_call_managers": (dict,),
    "funckeys": (dict,),
    "_comment": (str,),
}
_ENUMS = {
    "sip_dtmf_mode": ("RTP-in-band", "RTP-out-of-band", "SIP-INFO"),
    "sip_srtp_mode": ("disabled", "preferred", "required"),
    "sip_transport": ("udp", "tcp", "tls"),
    "syslog_level": ("critical", "error", "warning", "info", "debug"),
    "protocol": ("SIP", "SCCP"),
}
_RANGES = {"vlan_id": (0, 4094), "vlan_priority": (0, 7), "vlan_pc_port_id": (0, 4094)}
_LINE_PARAMS: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(
        (
            "proxy_ip",
            "backup_proxy_ip",
            "registrar_ip",
            "backup_registrar_ip",
            "outbound_proxy_ip",
            "username",
            "password",
            "auth_username",
            "display_name",
            "number",
            "dtmf_mode",
            "srtp_mode",
            "voicemail",
        ),
        _STR,
    ),
    **dict.fromkeys(
        (
            "proxy_port",
            "backup_proxy_port",
            "registrar_port",
            "backup_registrar_port",
            "outbound_proxy_port",
        ),
        _INT,
    ),
}


class ConfigError(ProvdHarnessError):
    """A config provd would refuse (HTTP 400)."""


class RawConfigError(ConfigError):
    """A raw config that does not follow provd's raw config schema."""


class UnknownConfig(ProvdHarnessError, KeyError):
    """No config with that id (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown config"


class NotDeletable(ConfigError):
    """DELETE of a config marked ``deletable: false`` (HTTP 403)."""


def merge_into(base: JsonDict, overlay: JsonDict) -> None:
    """Merge *overlay* into *base* as provd does: objects key by key, anything else replaced."""
    for key, value in overlay.items():
        if isinstance(value, dict):
            current = base.get(key)
            if not isinstance(current, dict):
                current = base[key] = {}
            merge_into(current, value)
        else:
            base[key] = copy.deepcopy(value)


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    if value is None:
        return True
    if bool in types:
        return isinstance(value, bool)
    if int in types:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, types)


def _check_mapping(name: str, value: Any, numeric: bool) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RawConfigError(f"{name}: must be an object")
    for key, item in value.items():
        if numeric and not _NUMERIC_KEY.match(key):
            raise RawConfigError(f"{name}: key {key!r} must be a positive integer string")
        if not isinstance(item, dict):
            raise RawConfigError(f"{name}.{key}: must be an object")
    return value


def validate_raw_config(raw: Any, *, where: str = "raw_config") -> None:
    """Check *raw* against provd's raw config schema; RawConfigError names the field."""
    if not isinstance(raw, dict):
        raise RawConfigError(f"{where}: must be an object, not {type(raw).__name__}")
    for key, value in raw.items():
        if not isinstance(key, str) or not _PARAM_NAME.match(key):
            raise RawConfigError(f"{where}: invalid parameter name {key!r}")
        types = _STD_PARAMS.get(key)
        if types is None:
            if not key.startswith("X_"):
                raise RawConfigError(
                    f"{where}.{key}: unknown parameter (custom parameters must start with X_)"
                )
            continue
        if not _type_ok(value, types):
            wanted = "/".join(t.__name__ for t in types)
            raise RawConfigError(f"{where}.{key}: must be {wanted}, not {type(value).__name__}")
        if key in _ENUMS and value is not None and value not in _ENUMS[key]:
            raise RawConfigError(f"{where}.{key}: must be one of {', '.join(_ENUMS[key])}")
        if key in _RANGES and value is not None:
            low, high = _RANGES[key]
            if not low <= value <= high:
                raise RawConfigError(f"{where}.{key}: must be between {low} and {high}")
        if key == "locale" and value is not None and not _LOCALE.match(value):
            raise RawConfigError(f"{where}.locale: must look like fr_FR")
    for key in ("sip_lines", "sccp_call_managers", "funckeys"):
        if raw.get(key) is not None:
            _check_mapping(f"{where}.{key}", raw[key], numeric=key != "sip_lines")
    for number, line in (raw.get("sip_lines") or {}).items():
        for key, value in line.items():
            types = _LINE_PARAMS.get(key)
            if types is not None and not _type_ok(value, types):
                wanted = "/".join(t.__name__ for t in types)
                raise RawConfigError(
                    f"{where}.sip_lines.{number}.{key}: must be {wanted}, "
                    f"not {type(value).__name__}"
                )
    for number, manager in (raw.get("sccp_call_managers") or {}).items():
        if not isinstance(manager.get("ip"), str):
            raise RawConfigError(f"{where}.sccp_call_managers.{number}.ip: required string")
    for number, key in (raw.get("funckeys") or {}).items():
        if key.get("type") not in ("speeddial", "blf", "park"):
            raise RawConfigError(f"{where}.funckeys.{number}.type: speeddial, blf or park")
        if key["type"] in ("speeddial", "blf") and not key.get("value"):
            raise RawConfigError(f"{where}.funckeys.{number}.value: required for {key['type']}")
    for feature, name in (("dns", "ip"), ("ntp", "ip"), ("vlan", "id"), ("syslog", "ip")):
        if raw.get(f"{feature}_enabled") and not raw.get(f"{feature}_{name}"):
            raise RawConfigError(f"{where}.{feature}_{name}: required when {feature} is enabled")


def check_base_raw_config(raw: JsonDict) -> None:
    """The server's base raw config must define ``ip``, ``http_port`` and ``tftp_port``."""
    for key in ("ip", "http_port", "tftp_port"):
        if key not in raw:
            raise RawConfigError(f"base raw config: missing {key} parameter")


def _without_none(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    return value


def validate_config(config: Any) -> JsonDict:
    """A checked deep copy of *config* (ConfigError says what is wrong)."""
    if not isinstance(config, dict):
        raise ConfigError(f"config must be an object, not {type(config).__name__}")
    if "parent_ids" not in config:
        raise ConfigError('missing "parent_ids" field in config')
    parents = config["parent_ids"]
    if not isinstance(parents, list):
        raise ConfigError(f'"parent_ids" must be a list, not {type(parents).__name__}')
    for parent in parents:
        if not isinstance(parent, str):
            raise ConfigError(f"parent id must be a string, not {type(parent).__name__}")
    if "raw_config" not in config:
        raise ConfigError('missing "raw_config" field in config')
    if config.get("id") is not None and (not isinstance(config["id"], str) or not config["id"]):
        raise ConfigError('"id" must be a non-empty string')
    for flag in ("deletable", "transient"):
        if flag in config and not isinstance(config[flag], bool):
            raise ConfigError(f'"{flag}" must be a boolean')
    if "role" in config and not isinstance(config["role"], str):
        raise ConfigError('"role" must be a string')
    checked = copy.deepcopy(config)
    if checked.get("X_type") == "device":
        # provd drops None values of device configs (old plugins test keys with ``in``).
        checked = _without_none(checked)
    validate_raw_config(checked["raw_config"])
    return checked


def default_configs(ip: str) -> list[JsonDict]:
    """The configs a Wazo stack creates at set-up: base, defaultconfigdevice, autoprov, default."""
    return [
        {
            "id": "base",
            "X_type": "internal",
            "parent_ids": [],
            "deletable": False,
            "raw_config": {"ntp_enabled": True, "ntp_ip": ip, "X_xivo_phonebook_ip": ip},
        },
        {
            "id": "defaultconfigdevice",
            "X_type": "device",
            "label": "Default config device",
            "parent_ids": [],
            "deletable": False,
            "raw_config": {
                "ntp_enabled": True,
                "ntp_ip": ip,
                "admin_username": "admin",
                "admin_password": "harness-admin",
                "user_username": "user",
                "user_password": "harness-user",
                "sip_dtmf_mode": "SIP-INFO",
            },
        },
        {
            "id": "autoprov",
            "X_type": "internal",
            "role": "autocreate",
            "parent_ids": ["base", "defaultconfigdevice"],
            "deletable": False,
            "raw_config": {
                "sip_lines": {
                    "1": {
                        "username": "anonymous",
                        "password": "autoprov",
                        "display_name": "Autoprov",
                        "number": "autoprov",
                        "proxy_ip": ip,
                        "registrar_ip": ip,
                    }
                },
                "sccp_call_managers": {"1": {"ip": ip}},
            },
        },
        {
            "id": "default",
            "X_type": "registrar",
            "displayname": "local",
            "registrar_main": ip,
            "proxy_main": ip,
            "parent_ids": [],
            "deletable": False,
            "raw_config": {"X_key": "xivo"},
        },
    ]


class ConfigManager:
    """Configs by id; thread-safe; raw configs computed on demand."""

    def __init__(self, base_raw_config: JsonDict | None = None) -> None:
        # Shared with the application: the base raw config is filled in once ports are known.
        self.base_raw_config: JsonDict = base_raw_config if base_raw_config is not None else {}
        self._configs: dict[str, JsonDict] = {}
        self._lock = threading.RLock()

    # CRUD

    def insert(self, config: Any) -> str:
        """Add a config (id generated when absent); returns its id."""
        checked = validate_config(config)
        with self._lock:
            config_id = checked.get("id") or uuid.uuid4().hex
            if config_id in self._configs:
                raise ConfigError(f"config {config_id!r} already exists")
            checked["id"] = config_id
            self._configs[config_id] = checked
            return str(config_id)

    def update(self, config: Any) -> JsonDict:
        """Replace the config with the same id; returns the old version."""
        checked = validate_config(config)
        config_id = checked.get("id")
        if not config_id:
            raise ConfigError("config has no id")
        with self._lock:
            old = self.get(config_id)
            self._configs[config_id] = checked
            return old

    def delete(self, config_id: str) -> JsonDict:
        """Remove a config (references to it are left, as in provd); returns it."""
        with self._lock:
            config = self.get(config_id)
            if not config.get("deletable", True):
                raise NotDeletable(f"the config {config_id} is not deletable")
            return self._configs.pop(config_id)

    def get(self, config_id: str) -> JsonDict:
        """A copy of a config (UnknownConfig when absent)."""
        with self._lock:
            try:
                return copy.deepcopy(self._configs[config_id])
            except KeyError:
                raise UnknownConfig(f"no config {config_id!r}") from None

    def __contains__(self, config_id: object) -> bool:
        return config_id in self._configs

    def all(self) -> list[JsonDict]:
        """Copies of every config."""
        with self._lock:
            return [copy.deepcopy(c) for c in self._configs.values()]

    def find(self, **fields: Any) -> list[JsonDict]:
        """Configs whose top-level fields equal *fields*."""
        return [c for c in self.all() if all(c.get(k) == v for k, v in fields.items())]

    def clear(self) -> None:
        """Forget every config."""
        with self._lock:
            self._configs.clear()

    # inheritance

    def descendants(self, config_id: str) -> set[str]:
        """Ids of configs inheriting from *config_id*, directly or not."""
        with self._lock:
            children: dict[str, list[str]] = {}
            for cid, config in self._configs.items():
                for parent in config["parent_ids"]:
                    children.setdefault(parent, []).append(cid)
        found: set[str] = set()
        stack = [config_id]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def ancestors(self, config_id: str) -> set[str]:
        """Ids *config_id* inherits from, directly or not."""
        found: set[str] = set()
        stack = [config_id]
        with self._lock:
            while stack:
                config = self._configs.get(stack.pop())
                for parent in config["parent_ids"] if config else ():
                    if parent not in found:
                        found.add(parent)
                        stack.append(parent)
        return found

    def raw(self, config_id: str) -> JsonDict | None:
        """The flattened raw config of *config_id*, or None when the id is unknown."""
        with self._lock:
            if config_id not in self._configs:
                return None
            result = copy.deepcopy(self.base_raw_config)
            visited = {config_id}

            def visit(current: str) -> None:
                config = self._configs.get(current)
                if config is None:
                    return
                for parent in config["parent_ids"]:
                    if parent not in visited:
                        visited.add(parent)
                        visit(parent)
                merge_into(result, config["raw_config"])

            visit(config_id)
            return result

    # roles

    def create_autocreated(self) -> str | None:
        """A transient child of the ``autocreate`` config, or None (no such config or no line 1)."""
        with self._lock:
            templates = [c for c in self._configs.values() if c.get("role") == "autocreate"]
            if not templates:
                return None
            template = templates[0]
            if "1" not in (template["raw_config"].get("sip_lines") or {}):
                return None
            new_id = f"{template['id']}{uuid.uuid4()}"
            self._configs[new_id] = {
                "id": new_id,
                "parent_ids": [template["id"]],
                "raw_config": copy.deepcopy(template["raw_config"]),
                "transient": True,
            }
            return new_id

    def load(self, configs: Iterable[JsonDict]) -> None:
        """Insert *configs* (used for the defaults and for resets)."""
        for config in configs:
            self.insert(config)
