"""Adds the Wazo directory (phonebook) lookup URL to a raw config."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

_DEFAULT_PORT = 9498


def _url_template(vendor: str, entry_point: str, qs_prefix: str, qs_suffix: str) -> str:
    head = f"{qs_prefix}&" if qs_prefix else ""
    tail = f"&{qs_suffix}" if qs_suffix else ""
    return (
        "{scheme}://{hostname}:{port}/0.1/directories/"
        + f"{entry_point}/default/{vendor}?{head}"
        + "xivo_user_uuid={user_uuid}"
        + tail
    )


def add_xivo_phonebook_url(
    raw_config: dict[str, Any],
    vendor: str,
    entry_point: str = "input",
    qs_prefix: str = "",
    qs_suffix: str = "",
) -> None:
    """Set ``XX_xivo_phonebook_url`` for *vendor* when the config has a phonebook host."""
    add_xivo_phonebook_url_from_format(
        raw_config, _url_template(vendor, entry_point, qs_prefix, qs_suffix)
    )


def add_xivo_phonebook_url_from_format(raw_config: dict[str, Any], url_format: str) -> None:
    """Set ``XX_xivo_phonebook_url`` from a ``str.format`` template.

    Fields available: scheme, hostname, port, profile, user_uuid.
    """
    hostname = raw_config.get("X_xivo_phonebook_ip")
    if not hostname:
        return
    user_uuid = raw_config.get("X_xivo_user_uuid")
    if not user_uuid:
        logger.warning("no X_xivo_user_uuid: XX_xivo_phonebook_url not set")
        return
    raw_config["XX_xivo_phonebook_url"] = url_format.format(
        scheme=raw_config.get("X_xivo_phonebook_scheme", "http"),
        hostname=hostname,
        port=raw_config.get("X_xivo_phonebook_port", _DEFAULT_PORT),
        profile="default",
        user_uuid=user_uuid,
    )
