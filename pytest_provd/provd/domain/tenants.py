"""Tenants without wazo-auth: the tree ``Wazo-Tenant`` headers are checked against.

The provd's own tenant (:data:`MASTER_TENANT`) is the root; tests declare the others with
:meth:`Tenants.add`.  Each tenant may have a ``provisioning_key`` (8-256 URL-safe characters,
unique across tenants), the first path segment of its phones' provisioning URLs when provd
runs with ``http_auth_strategy: url_key``.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_provd.provd.domain.errors import ParameterError, UnknownTenant

MASTER_TENANT = "7f8e1a3c-0d2b-4c55-9f61-2e4d8b6a0001"
"""The embedded provd's own tenant: where new and auto-created devices live."""
_URL_SAFE = re.compile(r"^[a-zA-Z0-9\-$~.]+$")


class Tenants:
    """The tenant tree and each tenant's settings (its ``provisioning_key``)."""

    def __init__(self, master: str = MASTER_TENANT) -> None:
        self.master = master
        self.parents: dict[str, str | None] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        self.reset()

    def reset(self) -> None:
        """Only the provd's own tenant, without settings."""
        self.parents = {self.master: None}
        self.settings = {self.master: {}}

    def add(self, tenant_uuid: str, parent: str | None = None) -> None:
        """Declare a tenant below *parent* (the provd's own tenant by default)."""
        if not isinstance(tenant_uuid, str) or not tenant_uuid.strip():
            raise ParameterError("a tenant needs a non-empty uuid")
        parent = parent or self.master
        if parent not in self.parents:
            raise UnknownTenant(f"no tenant {parent!r}")
        if tenant_uuid in self.parents:
            raise ParameterError(f"tenant {tenant_uuid!r} exists already")
        self.parents[tenant_uuid] = parent
        self.settings.setdefault(tenant_uuid, {})

    def check(self, tenant_uuid: str | None) -> str:
        """*tenant_uuid* if known, the provd's own tenant if None (UnknownTenant)."""
        if tenant_uuid is None:
            return self.master
        if tenant_uuid not in self.parents:
            raise UnknownTenant(f"unknown tenant {tenant_uuid!r}")
        return tenant_uuid

    def tree(self, tenant_uuid: str) -> list[str]:
        """*tenant_uuid* and every tenant below it."""
        found = [tenant_uuid]
        for current in found:  # grows as children are found; the tree has no cycles
            found += [t for t, p in self.parents.items() if p == current]
        return found

    def provisioning_key(self, tenant_uuid: str | None) -> str | None:
        """The tenant's provisioning key (the provd's own tenant's when None)."""
        key = self.settings.get(tenant_uuid or self.master, {}).get("provisioning_key")
        return None if key is None else str(key)

    def of_key(self, key: str) -> str | None:
        """The tenant whose ``provisioning_key`` is *key*."""
        for tenant, settings in self.settings.items():
            if key and settings.get("provisioning_key") == key:
                return tenant
        return None

    def set_provisioning_key(self, value: Any, tenant_uuid: str) -> None:
        """Set (or, with None or "", remove) a tenant's key, checked as provd checks it."""
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"provisioning_key takes a string, not {type(value).__name__}")
        if value:
            if not 8 <= len(value) <= 256:
                raise ParameterError("`provisioning_key` should be [8, 256] characters long.")
            if not _URL_SAFE.match(value):
                raise ParameterError(
                    "`provisioning_key` should only contain the following characters: "
                    "`a-z, A-Z, 0-9, -, $, ~, .`"
                )
            owner = self.of_key(value)
            if owner and owner != tenant_uuid:
                raise ParameterError("another tenant already uses this provisioning key.")
        self.settings.setdefault(tenant_uuid, {})["provisioning_key"] = value or None
