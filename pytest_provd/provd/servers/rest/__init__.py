"""provd's REST API under ``/provd``, served by aiohttp (:func:`make_rest_app`).

One module per resource group: :mod:`.devices` (``dev_mgr``), :mod:`.configs` (``cfg_mgr``),
:mod:`.plugins` (``pg_mgr``); :mod:`.api` adds authentication, errors, ``configure``,
``status`` and operations; :mod:`.common` holds what they share.
"""

from __future__ import annotations

from pytest_provd.provd.servers.rest.api import RestApi, make_rest_app
from pytest_provd.provd.servers.rest.common import (
    MEDIA_TYPE,
    BadRequest,
    NotFound,
    Operation,
    Operations,
    find,
    json_response,
)
from pytest_provd.provd.servers.rest.devices import dhcp_options

__all__ = [
    "MEDIA_TYPE",
    "BadRequest",
    "NotFound",
    "Operation",
    "Operations",
    "RestApi",
    "dhcp_options",
    "find",
    "json_response",
    "make_rest_app",
]
