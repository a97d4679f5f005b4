"""Adds wazo-phoned user-service toggle URLs (DND, forwards...) to a raw config."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def add_wazo_phoned_user_service_url(
    raw_config: dict[str, Any], vendor: str, service_name: str
) -> None:
    """Set ``XX_wazo_phoned_user_service_<service>_{enabled,disabled}_url``."""
    # phoned is reached through the same host/port as the phonebook.
    hostname = raw_config.get("X_xivo_phonebook_ip")
    user_uuid = raw_config.get("X_xivo_user_uuid")
    if not hostname or not user_uuid:
        logger.warning("no phonebook host or user uuid: %s service URLs not set", service_name)
        return
    base = (
        f"{raw_config.get('X_xivo_phonebook_scheme', 'http')}://{hostname}:"
        f"{raw_config.get('X_xivo_phonebook_port', 9498)}/0.1/{vendor}/users/{user_uuid}"
        f"/services/{service_name}"
    )
    prefix = f"XX_wazo_phoned_user_service_{service_name}"
    raw_config[f"{prefix}_enabled_url"] = f"{base}/enable"
    raw_config[f"{prefix}_disabled_url"] = f"{base}/disable"
