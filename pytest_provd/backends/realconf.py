"""The configuration a real ``wazo_provd`` runs with in the ``real`` backend, made at run time.

Everything comes from the installed library, not from files of a wazo-provd checkout or of
``/etc/wazo-provd`` (a wheel of pytest-provd carries none, and needs none):

- the application configuration is ``wazo_provd.config``'s defaults with this run's storage,
  cache and loopback proxy put in;
- the base raw config is what ``wazo_provd.config`` derives for production from
  ``advertised_http_url`` and ``tftp_port`` (``http_base_url``, ``ip``, ``http_port``,
  ``tftp_port``), here from the loopback addresses provd listens on;
- the request processors are provd's default ones (``*.py.conf.default``: the info
  extractor, device retriever and device updater chains), built from the classes of
  ``wazo_provd.devices.ident`` and ``pgasso`` in the same order.

Only call these where ``compat.activate("real")`` succeeded: they import ``wazo_provd``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def production_base_raw_config(http_url: str, tftp_port: int) -> dict[str, Any]:
    """The base raw config production provd derives from its HTTP URL and TFTP port."""
    # Lazy: wazo_provd is there only for the real backend.
    from wazo_provd import config as provd_config

    app_config: dict[str, Any] = {
        "general": {
            "advertised_http_url": http_url.rstrip("/"),
            "tftp_port": tftp_port,
            "base_raw_config": {},
        }
    }
    provd_config._update_general_base_raw_config(app_config)
    return dict(app_config["general"]["base_raw_config"])


def application_config(
    state_dir: Path, base_raw_config: dict[str, Any], proxies: dict[str, str]
) -> dict[str, Any]:
    """``wazo_provd.config``'s defaults, with this run's directories, base raw config and
    firmware proxy (plugins' fetchfw downloads go through ``proxy``)."""
    from wazo_provd import config as provd_config  # lazy: as above

    config: dict[str, Any] = copy.deepcopy(dict(provd_config._DEFAULT_CONFIG))
    storage = state_dir / "storage"
    cache = state_dir / "cache"
    for path in (storage / "plugins", cache):
        path.mkdir(parents=True, exist_ok=True)
    general = config["general"]
    general.update(
        base_storage_dir=str(storage),
        cache_dir=str(cache),
        # Every install downloads the package from this run's plugin server again.
        cache_plugin=False,
        base_raw_config=base_raw_config,
        advertised_http_url=base_raw_config.get("http_base_url"),
        tftp_port=base_raw_config.get("tftp_port"),
    )
    # Not provd's public plugin server: set per install, as a maintainer points provd at one.
    general.pop("plugin_server", None)
    config["database"]["json_db_dir"] = str(state_dir / "jsondb")
    config["proxy"] = proxies
    config["tenants"] = {}
    config["plugin_config"] = {}
    return config


def request_processors(app: Any) -> tuple[Any, Any, Any]:
    """provd's default info extractor, device retriever and device updater for *app*."""
    # Lazy: as above.
    from wazo_provd.devices import ident, pgasso

    def voting(extractors: list[Any]) -> Any:
        return ident.CollaboratingDeviceInfoExtractor(ident.VotingUpdater, extractors)

    extractor = ident.CollaboratingDeviceInfoExtractor(
        ident.LastSeenUpdater,
        [
            ident.AllPluginsDeviceInfoExtractor(voting, app.pg_mgr),
            ident.StandardDeviceInfoExtractor(),
        ],
    )
    retriever = ident.FirstCompositeDeviceRetriever(
        [
            ident.MacDeviceRetriever(app),
            ident.SerialNumberDeviceRetriever(app),
            ident.UUIDDeviceRetriever(app),
            ident.IpDeviceRetriever(app),
            ident.AddDeviceRetriever(app),
        ]
    )
    updater = ident.CompositeDeviceUpdater(
        [
            ident.RemoveOutdatedIpDeviceUpdater(app),
            ident.AddInfoDeviceUpdater(),
            ident.DynamicDeviceUpdater(["ip", "version"], True),
            pgasso.PluginAssociatorDeviceUpdater(
                app.pg_mgr, pgasso.ReverseAlphabeticConflictSolver()
            ),
            ident.AutocreateConfigDeviceUpdater(app),
        ]
    )
    return extractor, retriever, updater
