"""provd's configure service: the server parameters of ``GET/PUT /configure/<name>``.

``plugin_server`` (a URL or a directory), ``http_proxy``/``https_proxy``/``ftp_proxy``
(handed to plugins as ``gen_cfg["proxies"]``), ``locale``, ``NAT`` (0 or 1) and the per-tenant
``provisioning_key``; values are checked as provd checks them.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from pytest_provd.provd.domain.errors import ParameterError, UnknownParameter
from pytest_provd.provd.domain.tenants import Tenants

PARAMS = (
    "plugin_server",
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "locale",
    "NAT",
    "provisioning_key",
)
_DEFAULTS: dict[str, Any] = {"plugin_server": None, "locale": None, "NAT": 0}


def _check_url(value: str, *, allow_path: bool, allow_dir: bool) -> None:
    if allow_dir and (value.startswith(("/", "file://"))):
        return
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme:
        raise ParameterError(f"no scheme: {value}")
    if not parts.hostname:
        raise ParameterError(f"no hostname: {value}")
    if not allow_path and parts.path not in ("", "/"):
        raise ParameterError(f"path: {value}")


class Params:
    """The parameters' values; proxies live in *proxies*, keys in *tenants*."""

    def __init__(self, tenants: Tenants, proxies: dict[str, str]) -> None:
        self.tenants = tenants
        self.proxies = proxies
        self.values: dict[str, Any] = dict(_DEFAULTS)

    def reset(self) -> None:
        """Back to the defaults, without proxies (tenant keys go with the tenants)."""
        self.proxies.clear()
        self.values.update(_DEFAULTS)

    @property
    def nat(self) -> int:
        """provd's NAT parameter: 1 keeps several devices on one IP."""
        return int(self.values.get("NAT") or 0)

    def get(self, name: str, tenant: str | None = None) -> Any:
        """A parameter's value (UnknownParameter); ``provisioning_key`` is per tenant."""
        if name not in PARAMS:
            raise UnknownParameter(f"no parameter {name!r}")
        if name == "provisioning_key":
            return self.tenants.provisioning_key(tenant)
        if name.endswith("_proxy"):
            return self.proxies.get(name[: -len("_proxy")])
        return self.values.get(name)

    def set(self, name: str, value: Any, tenant: str | None = None) -> None:
        """Set a parameter, checked as provd checks it (ParameterError)."""
        if name not in PARAMS:
            raise UnknownParameter(f"no parameter {name!r}")
        if name == "provisioning_key":
            self.tenants.set_provisioning_key(value, tenant or self.tenants.master)
            return
        if name == "NAT":
            if value not in (0, 1, None):
                raise ParameterError(f"NAT must be 0 or 1, not {value!r}")
            self.values["NAT"] = value or 0
            return
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"{name} takes a string or null, not {type(value).__name__}")
        if value == "":
            value = None
        if name == "plugin_server" and value is not None:
            _check_url(value, allow_path=True, allow_dir=True)
        elif name.endswith("_proxy") and value is not None:
            _check_url(value, allow_path=False, allow_dir=False)
        elif name == "locale" and value is not None and len(value) not in (2, 5):
            raise ParameterError(f"invalid locale {value!r}")
        if name.endswith("_proxy"):
            key = name[: -len("_proxy")]
            if value is None:
                self.proxies.pop(key, None)
            else:
                self.proxies[key] = value
        else:
            self.values[name] = value

    def describe(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """The ``params`` list of ``GET /configure``."""
        return [{"id": name, "value": self.get(name, tenant)} for name in PARAMS]

    def plugin_server(self) -> str:
        """The ``plugin_server`` parameter (ParameterError when unset)."""
        server = self.values.get("plugin_server")
        if not server:
            raise ParameterError("no plugin_server configured (PUT /configure/plugin_server)")
        return str(server)
