"""The raw configs a fidelity run renders every model with.

A :class:`RenderConfig` is a label and the ``raw_config`` of a config whose parent is
provd's ``base`` config.  :func:`default_configs` is the built-in matrix: the sample config,
then one config per timezone and per locale that plugins translate through tables (where
the two implementations can part), and one with the optional features set.  Any list of
:class:`RenderConfig` can be passed instead (a per-model matrix, for one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pytest_provd.provd.plugins.rawconfig import sample_raw_config

TIMEZONES = ("America/Chicago", "Australia/Sydney", "America/Montreal", "Europe/Paris", "UTC")
LOCALES = ("en_US", "de_DE", "fr_CA")
BASE_RAW_CONFIG: dict[str, Any] = {
    "ip": "127.0.0.1",
    "http_port": 8667,
    "tftp_port": 69,
    "http_base_url": "http://127.0.0.1:8667",
}
"""The server-level raw config both sides run with (no port is bound: files only)."""

_LABEL_RE = re.compile(r"\A[A-Za-z0-9_.=+/-]{1,400}\Z")


@dataclass(frozen=True)
class RenderConfig:
    """One raw config of the matrix: *label* names it in reports (no spaces)."""

    label: str
    raw_config: dict[str, Any] = field(hash=False)

    def __post_init__(self) -> None:
        if not _LABEL_RE.match(self.label):
            raise ValueError(f"render config label {self.label!r}: use [A-Za-z0-9_.=+/-]")
        if not isinstance(self.raw_config, dict):
            raise ValueError(f"render config {self.label}: raw_config must be a dict")


def _features() -> dict[str, Any]:
    return {
        "sccp_call_managers": {"1": {"ip": "127.0.0.1", "port": 2000}},
        "syslog_enabled": True,
        "syslog_ip": "127.0.0.1",
        "dns_enabled": True,
        "dns_ip": "127.0.0.1",
        "vlan_enabled": True,
        "vlan_id": 10,
        "vlan_priority": 3,
    }


def default_configs() -> list[RenderConfig]:
    """The built-in matrix: sample, timezones (the sample's is America/Montreal), locales,
    features."""
    configs = [RenderConfig("sample", sample_raw_config())]
    sample_tz = sample_raw_config()["timezone"]
    configs += [
        RenderConfig(f"tz={tz}", sample_raw_config(timezone=tz))
        for tz in TIMEZONES
        if tz != sample_tz
    ]
    configs += [RenderConfig(f"locale={loc}", sample_raw_config(locale=loc)) for loc in LOCALES]
    configs.append(RenderConfig("features", sample_raw_config(**_features())))
    return configs


def check_labels(configs: list[RenderConfig]) -> None:
    """Labels must be unique: they name files in the report (ValueError)."""
    seen: set[str] = set()
    for config in configs:
        if config.label in seen:
            raise ValueError(f"render config label {config.label!r} given twice")
        seen.add(config.label)
