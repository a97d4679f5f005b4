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
import threading
import uuid
from collections.abc import Iterable
from typing import Any

from pytest_provd.provd.domain.devices import copy_device
from pytest_provd.provd.domain.errors import (
    ConfigError,
    NotDeletable,
    RawConfigError,
    UnknownConfig,
)
from pytest_provd.provd.domain.rawschema import check_base_raw_config, validate_raw_config

JsonDict = dict[str, Any]

__all__ = [
    "ConfigError",
    "ConfigManager",
    "NotDeletable",
    "RawConfigError",
    "UnknownConfig",
    "check_base_raw_config",
    "default_configs",
    "merge_into",
    "validate_config",
    "validate_raw_config",
]


def merge_into(base: JsonDict, overlay: JsonDict) -> None:
    """Merge *overlay* into *base* as provd does: objects key by key, anything else replaced."""
    for key, value in overlay.items():
        if isinstance(value, dict):
            current = base.get(key)
            if not isinstance(current, dict):
                current = base[key] = {}
            merge_into(current, value)
        else:
            base[key] = copy_device(value)


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
        # parent id -> ids of the configs naming it (insertion order): no scan per question
        self._children: dict[str, dict[str, None]] = {}
        self._lock = threading.RLock()

    def _store(self, config_id: str, config: JsonDict) -> None:
        if config_id in self._configs:
            self._forget(config_id)
        self._configs[config_id] = config
        for parent in config["parent_ids"]:
            self._children.setdefault(parent, {})[config_id] = None

    def _forget(self, config_id: str) -> JsonDict:
        config = self._configs.pop(config_id)
        for parent in config["parent_ids"]:
            children = self._children.get(parent)
            if children is not None:
                children.pop(config_id, None)
                if not children:
                    del self._children[parent]
        return config

    # CRUD

    def insert(self, config: Any) -> str:
        """Add a config (id generated when absent); returns its id."""
        checked = validate_config(config)
        with self._lock:
            config_id = checked.get("id") or uuid.uuid4().hex
            if config_id in self._configs:
                raise ConfigError(f"config {config_id!r} already exists")
            checked["id"] = config_id
            self._store(config_id, checked)
            return str(config_id)

    def update(self, config: Any) -> JsonDict:
        """Replace the config with the same id; returns the old version."""
        checked = validate_config(config)
        config_id = checked.get("id")
        if not config_id:
            raise ConfigError("config has no id")
        with self._lock:
            old = self.get(config_id)
            self._store(config_id, checked)
            return old

    def delete(self, config_id: str) -> JsonDict:
        """Remove a config (references to it are left, as in provd); returns it."""
        with self._lock:
            config = self.get(config_id)
            if not config.get("deletable", True):
                raise NotDeletable(f"the config {config_id} is not deletable")
            return self._forget(config_id)

    def get(self, config_id: str) -> JsonDict:
        """A copy of a config (UnknownConfig when absent)."""
        with self._lock:
            try:
                return copy_device(self._configs[config_id])  # type: ignore[no-any-return]
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
            self._children.clear()

    # inheritance

    def descendants(self, config_id: str) -> set[str]:
        """Ids of configs inheriting from *config_id*, directly or not."""
        found: set[str] = set()
        stack = [config_id]
        with self._lock:
            while stack:
                for child in self._children.get(stack.pop(), ()):
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
            result: JsonDict = copy_device(self.base_raw_config)
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
            self._store(
                new_id,
                {
                    "id": new_id,
                    "parent_ids": [template["id"]],
                    "raw_config": copy.deepcopy(template["raw_config"]),
                    "transient": True,
                },
            )
            return new_id

    def load(self, configs: Iterable[JsonDict]) -> None:
        """Insert *configs* (used for the defaults and for resets)."""
        for config in configs:
            self.insert(config)
