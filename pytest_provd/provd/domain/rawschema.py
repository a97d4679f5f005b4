"""provd's raw config schema: parameter names, JSON types, enums, ranges, required pairs.

:func:`validate_raw_config` refuses what provd's JSON schema refuses, naming the field
(``raw_config.sip_lines.1.proxy_port: must be int, not str``).
"""

from __future__ import annotations

import re
from typing import Any

from pytest_provd.provd.domain.errors import RawConfigError

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


def parameter_types() -> dict[str, tuple[type, ...]]:
    """The standard raw config parameters and the JSON types the schema accepts for them."""
    return dict(_STD_PARAMS)


def line_parameter_types() -> dict[str, tuple[type, ...]]:
    """The parameters of a ``sip_lines`` entry and their JSON types."""
    return dict(_LINE_PARAMS)


def enum_choices() -> dict[str, tuple[str, ...]]:
    """The parameters the schema restricts to a set of values (``sip_transport``...)."""
    return dict(_ENUMS)


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
