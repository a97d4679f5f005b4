"""Raw configs as provd hands them to plugins.

A raw config is the flattened parameter dict of a device's config chain (``ip``,
``http_port``, ``sip_lines``...), completed with the defaults provd fills in right before
calling ``configure``/``synchronize`` (:func:`apply_defaults`).
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_provd.provd.plugins.errors import PluginConfigError

SAMPLE_USER_UUID = "12345678-1234-5678-9abc-def012345678"


def apply_defaults(raw_config: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults provd adds before configuring a device; returns *raw_config*."""
    if raw_config.get("syslog_enabled"):
        raw_config.setdefault("syslog_port", 514)
        raw_config.setdefault("syslog_level", "warning")
    if "sip_proxy_ip" in raw_config:
        raw_config.setdefault("sip_registrar_ip", raw_config["sip_proxy_ip"])
    raw_config.setdefault("sip_srtp_mode", "disabled")
    raw_config.setdefault("sip_transport", "udp")
    lines = raw_config.setdefault("sip_lines", {})
    for line in lines.values():
        if "proxy_ip" in line:
            line.setdefault("registrar_ip", line["proxy_ip"])
        if "username" in line:
            line.setdefault("auth_username", line["username"])
    raw_config.setdefault("sccp_call_managers", {})
    raw_config.setdefault("funckeys", {})
    return raw_config


def check_common(raw_config: dict[str, Any]) -> None:
    """provd refuses a base raw config without ip, http_port and tftp_port."""
    missing = [k for k in ("ip", "http_port", "tftp_port") if k not in raw_config]
    if missing:
        raise PluginConfigError(f"raw config: missing {', '.join(missing)} parameter")


def sample_raw_config(**overrides: Any) -> dict[str, Any]:
    """A complete, valid raw config with two SIP lines; keyword arguments replace keys.

    ``sip_lines=None`` (or any other key set to None) removes that key.
    """
    raw: dict[str, Any] = {
        "ip": "127.0.0.1",
        "http_port": 8667,
        "tftp_port": 6969,
        "http_base_url": "http://127.0.0.1:8667",
        "ntp_enabled": True,
        "ntp_ip": "127.0.0.1",
        "timezone": "America/Montreal",
        "locale": "fr_FR",
        "protocol": "SIP",
        "admin_username": "admin",
        "admin_password": "adminpass",
        "user_username": "user",
        "user_password": "userpass",
        "sip_proxy_ip": "127.0.0.1",
        "sip_proxy_port": 5060,
        "sip_registrar_ip": "127.0.0.1",
        "sip_registrar_port": 5060,
        "sip_dtmf_mode": "RTP-out-of-band",
        "sip_transport": "udp",
        "sip_srtp_mode": "disabled",
        "sip_subscribe_mwi": True,
        "exten_voicemail": "*98",
        "exten_pickup_call": "*8",
        "exten_dnd": "*25",
        "exten_fwd_unconditional": "*21",
        "exten_fwd_no_answer": "*22",
        "exten_fwd_busy": "*23",
        "exten_fwd_disable_all": "*20",
        "exten_park": "700",
        "X_xivo_phonebook_ip": "127.0.0.1",
        "X_xivo_user_uuid": SAMPLE_USER_UUID,
        "sip_lines": {
            "1": {
                "proxy_ip": "127.0.0.1",
                "proxy_port": 5060,
                "registrar_ip": "127.0.0.1",
                "username": "alice1001",
                "auth_username": "alice1001",
                "password": "secret1001",
                "display_name": "Alice Liddell",
                "number": "1001",
                "voicemail": "*98",
            },
            "2": {
                "proxy_ip": "127.0.0.1",
                "proxy_port": 5060,
                "registrar_ip": "127.0.0.1",
                "username": "bob1002",
                "auth_username": "bob1002",
                "password": "secret1002",
                "display_name": "Bob Éléphant",
                "number": "1002",
            },
        },
        "sccp_call_managers": {},
        "funckeys": {
            "1": {"type": "speeddial", "value": "1003", "label": "Carol", "line": 1},
            "2": {"type": "blf", "value": "1004", "label": "Dave", "line": 1},
            "3": {"type": "park", "value": "701", "label": "Park", "line": 1},
        },
    }
    for key, value in overrides.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = copy.deepcopy(value)
    return raw


def sample_common_raw_config(**overrides: Any) -> dict[str, Any]:
    """The base raw config provd passes to ``configure_common``."""
    base: dict[str, Any] = {
        "ip": "127.0.0.1",
        "http_port": 8667,
        "tftp_port": 6969,
        "http_base_url": "http://127.0.0.1:8667",
    }
    base.update(overrides)
    return base
