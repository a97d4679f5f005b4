"""Asking a phone to re-read its configuration (SIP NOTIFY through a sync service).

provd sends the NOTIFY through wazo-amid; here a test registers any object with
``TYPE = 'AsteriskAMI'`` and ``sip_notify_by_ip`` / ``sip_notify_by_peer`` methods
(see :class:`RecordingSyncService`).
"""

from __future__ import annotations

import logging
from typing import Any

from twisted.internet import defer

logger = logging.getLogger(__name__)


class SynchronizeException(Exception):
    """The device could not be synchronized."""


class AMIError(Exception):
    """The sync service reported a failure."""


class RecordingSyncService:
    """Sync service that records the notifications instead of sending them."""

    TYPE = "AsteriskAMI"

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []

    def sip_notify_by_ip(self, ip: str, event: str, extra_vars: Any = None) -> None:
        self.notifications.append(
            {"uri": f"sip:anonymous@{ip}", "event": event, "extra_vars": list(extra_vars or [])}
        )

    def sip_notify_by_peer(self, peer: str, event: str, extra_vars: Any = None) -> None:
        self.notifications.append(
            {"endpoint": peer, "event": event, "extra_vars": list(extra_vars or [])}
        )

    sip_notify = sip_notify_by_ip


_SYNC_SERVICE: Any = None


def register_sync_service(sync_service: Any) -> None:
    global _SYNC_SERVICE
    _SYNC_SERVICE = sync_service


def unregister_sync_service() -> None:
    global _SYNC_SERVICE
    _SYNC_SERVICE = None


def get_sync_service() -> Any:
    return _SYNC_SERVICE


def _call(fun: Any, *args: Any) -> defer.Deferred[Any]:
    # provd defers these calls to a thread; they are quick here, so run them inline.
    try:
        return defer.succeed(fun(*args))
    except Exception as e:
        return defer.fail(e)


def standard_sip_synchronize(
    device: dict[str, Any], event: str = "check-sync", extra_vars: Any = None
) -> defer.Deferred[Any]:
    """NOTIFY the device's SIP peer, or its IP; a failed Deferred when impossible."""
    service = _SYNC_SERVICE
    if service is None or getattr(service, "TYPE", None) != "AsteriskAMI":
        return defer.fail(SynchronizeException(f"Incompatible sync service: {service}"))
    peer = device.get("remote_state_sip_username")
    # Auto-provisioning peers ("ap" + 8 chars) are shared by every new phone: use the IP.
    if peer and not (peer.startswith("ap") and len(peer) == 10):
        return _call(service.sip_notify_by_peer, peer, event, extra_vars)
    ip = device.get("ip")
    if ip:
        return _call(service.sip_notify_by_ip, ip, event, extra_vars)
    return defer.fail(SynchronizeException("not enough information to synchronize device"))
