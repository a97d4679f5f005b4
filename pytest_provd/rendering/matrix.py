"""The raw configs the ``<model>::matrix`` item configures every model with.

Each *axis* is a part of provd's raw config schema (:mod:`pytest_provd.provd.domain.rawschema`)
that templates branch on: SIP transport, SRTP and DTMF modes (every enum value), backup and
outbound proxies, function keys (each type provd sends, and as many keys as the model has),
phonebook, NTP, VLAN, syslog, DNS, admin credentials, extensions, MWI, every locale Wazo
offers, timezones (with DST, without, southern hemisphere), from one line up to the model's
maximum and provd's autoprov line, empty and long display names, SCCP call managers.  Its
first value is the sample config's (the ``configure`` items' default, which the matrix
judges too); the others are *variants*, each named by a short label (``tls``,
``funckeys=park``, ``lines=6``) that says exactly what it changes (see :data:`VARIANTS`).

The values a model's templates compare raw-config parameters with are added to the axes
(:func:`~pytest_provd.rendering.literals.template_values`: ``sip_srtp_mode == 'required'``,
``'1' in sip_lines``).

:func:`model_matrix` packs the variants into few configs: each config takes one variant of
several axes (axes balanced over the configs), so every variant is rendered once and the
matrix is as long as the longest axis.  A problem found under a packed config is told by the
variant alone that reproduces it (:func:`single`).  Everything is deterministic: the same
configs for the same tree, every run.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Raw = dict[str, Any]

LOCALES = ("de_DE", "en_US", "es_ES", "fr_CA", "fr_FR", "it_IT", "nl_NL")
"""The locales Wazo offers its users (provd passes them through to plugins)."""
TIMEZONES = ("Asia/Tokyo", "Australia/Sydney", "Asia/Kathmandu", "Pacific/Chatham")
"""Besides the sample's America/Montreal (northern DST): no DST, southern-hemisphere DST, and
offsets plugins' tables may miss (+05:45; +12:45 with southern DST)."""
MAX_FUNCKEYS = 100
PEER = "127.0.0.1"
BACKUP = "127.0.0.2"
OUTBOUND = "127.0.0.3"
LONG_NAME = ("Maximiliana Bartholomew-Featherstonehaugh " * 3)[:100].strip()
_CERTIFICATE = (
    "-----BEGIN CERTIFICATE-----\nMIIBsjCCAVmgAwIBAgIUcHJvdmQ=\n-----END CERTIFICATE-----\n"
)
_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n"
_EXTENS = (
    "exten_dnd",
    "exten_fwd_unconditional",
    "exten_fwd_no_answer",
    "exten_fwd_busy",
    "exten_fwd_disable_all",
    "exten_park",
    "exten_pickup_call",
    "exten_voicemail",
)


def sample_raw_config() -> Raw:
    """The sample config (the ``configure`` items' default)."""
    # Kept lazy: importing this module (at pytest start) must not import the provd package.
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config as sample

    return sample()


@dataclass(frozen=True)
class Variant:
    """One change from the sample config: *label* names it in problems and reports."""

    axis: str
    label: str
    apply: Callable[[Raw], None] = field(compare=False, repr=False)


@dataclass(frozen=True)
class MatrixConfig:
    """A raw config of the matrix: the sample with *variants* applied."""

    variants: tuple[Variant, ...]
    raw_config: Raw = field(compare=False, repr=False)

    @property
    def label(self) -> str:
        """``default``, a variant's label, or the variants' labels joined by ``+``."""
        return "+".join(v.label for v in self.variants) or "default"


def _set(**values: Any) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        raw.update(copy.deepcopy(values))

    return apply


def _drop(*keys: str, **values: Any) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        for key in keys:
            raw.pop(key, None)
        raw.update(values)

    return apply


def _per_line(**values: Any) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        for line in raw["sip_lines"].values():
            line.update(values)

    return apply


def _both(*steps: Callable[[Raw], None]) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        for step in steps:
            step(raw)

    return apply


def _line(number: int) -> dict[str, Any]:
    base = sample_raw_config()["sip_lines"]
    if str(number) in base:
        return dict(base[str(number)])
    return {
        **base["2"],
        "username": f"user{1000 + number}",
        "auth_username": f"user{1000 + number}",
        "password": f"secret{1000 + number}",
        "display_name": f"User {number}",
        "number": str(1000 + number),
    }


def line_usernames(raw: Raw) -> list[str]:
    """The SIP user names of a raw config's lines, in line order."""
    lines = raw.get("sip_lines") or {}
    return [str(lines[n].get("username", "")) for n in sorted(lines, key=int)]


def _lines(count: int) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        raw["sip_lines"] = {str(n): _line(n) for n in range(1, count + 1)}

    return apply


def _autoprov(raw: Raw) -> None:
    # The config Wazo gives every phone it does not know yet: one line, "autoprov" password.
    line = {**_line(1), "username": "ap3bqkr2ds", "auth_username": "ap3bqkr2ds"}
    line.update(password="autoprov", number="autoprov", display_name="Autoprov")
    line.pop("voicemail", None)
    raw["sip_lines"] = {"1": line}


def _funckeys(kinds: Iterable[str], count: int) -> Callable[[Raw], None]:
    cycle = list(kinds)

    def apply(raw: Raw) -> None:
        lines = sorted((int(n) for n in raw.get("sip_lines") or {}), reverse=True) or [1]
        keys: dict[str, dict[str, Any]] = {}
        for n in range(1, count + 1):
            kind = cycle[(n - 1) % len(cycle)]
            key: dict[str, Any] = {
                "type": kind,
                "value": str(700 + n if kind == "park" else 2000 + n),
            }
            key["line"] = lines[n % len(lines)]
            if n % 3:  # every third key has no label: plugins fall back to the value
                key["label"] = f"{kind.title()} {n}"
            keys[str(n)] = key
        raw["funckeys"] = keys

    return apply


def _modes(name: str, value: str) -> Callable[[Raw], None]:
    return _both(_set(**{f"sip_{name}": value}), _per_line(**{name: value}))


FIXED: dict[str, Callable[[Raw], None]] = {
    "backup": _both(
        _set(
            sip_backup_proxy_ip=BACKUP,
            sip_backup_proxy_port=5060,
            sip_backup_registrar_ip=BACKUP,
            sip_backup_registrar_port=5060,
        ),
        _per_line(
            backup_proxy_ip=BACKUP,
            backup_proxy_port=5060,
            backup_registrar_ip=BACKUP,
            backup_registrar_port=5060,
        ),
    ),
    "outbound": _both(
        _set(sip_outbound_proxy_ip=OUTBOUND, sip_outbound_proxy_port=5060),
        _per_line(outbound_proxy_ip=OUTBOUND, outbound_proxy_port=5060),
    ),
    "tcp": _set(sip_transport="tcp"),
    "tls": _set(
        sip_transport="tls",
        sip_servers_root_and_intermediate_certificates=[_CERTIFICATE],
        sip_local_root_and_intermediate_certificates=[_CERTIFICATE],
        sip_local_certificate=_CERTIFICATE,
        sip_local_key=_KEY,
    ),
    "no-phonebook": _drop("X_xivo_phonebook_ip"),
    "no-ntp": _drop("ntp_ip", ntp_enabled=False),
    "no-admin": _drop("admin_username", "admin_password", "user_username", "user_password"),
    "vlan": _set(vlan_enabled=True, vlan_id=100, vlan_priority=5, vlan_pc_port_id=200),
    "syslog": _set(syslog_enabled=True, syslog_ip=PEER, syslog_port=514, syslog_level="debug"),
    "dns": _set(dns_enabled=True, dns_ip=PEER),
    "no-extens": _drop(*_EXTENS),
    "pickup-group": _set(exten_pickup_group="*37"),
    "no-mwi": _set(sip_subscribe_mwi=False),
    "no-locale": _drop("locale"),
    "no-tz": _drop("timezone"),
    "name=empty": _per_line(display_name=""),
    "name=long": _per_line(display_name=LONG_NAME),
    "lines=autoprov": _autoprov,
    "funckeys=none": _set(funckeys={}),
    "callmanagers=3": _set(
        sccp_call_managers={str(n): {"ip": f"127.0.0.{n}", "port": 2000} for n in (1, 2, 3)}
    ),
}
"""The variants whose label says everything; parametrised ones are made by :func:`variant`."""

_AXES: dict[str, tuple[str, ...]] = {
    "backup": ("backup",),
    "outbound": ("outbound",),
    "phonebook": ("no-phonebook",),
    "ntp": ("no-ntp",),
    "admin": ("no-admin",),
    "vlan": ("vlan",),
    "syslog": ("syslog",),
    "dns": ("dns",),
    "extens": ("no-extens", "pickup-group"),
    "mwi": ("no-mwi",),
    "names": ("name=empty", "name=long"),
}


def variant(axis: str, label: str) -> Variant:
    """The variant *label* of *axis* (ValueError for a label no axis has)."""
    if label in FIXED:
        return Variant(axis, label, FIXED[label])
    name, _, value = label.partition("=")
    if name == "lines" and value.isdigit():
        return Variant(axis, label, _lines(int(value)))
    if name == "funckeys" and value in ("speeddial", "blf", "park"):
        return Variant(axis, label, _funckeys([value], 3))
    if name == "funckeys" and value.isdigit():
        return Variant(axis, label, _funckeys(["speeddial", "blf", "park"], int(value)))
    if name in ("srtp", "dtmf"):
        return Variant(axis, label, _modes(f"{name}_mode", value))
    if name == "locale":
        return Variant(axis, label, _set(locale=value))
    if name == "tz":
        return Variant(axis, label, _set(timezone=value))
    raise ValueError(f"no matrix variant {label!r}")


@dataclass
class ModelShape:
    """What a model's matrix depends on: its capability and its templates' literals."""

    max_lines: int = 2
    function_keys: int = 0
    sccp: bool = False
    literals: dict[str, set[str]] = field(default_factory=dict)  # axis -> compared values


def axes(shape: ModelShape) -> dict[str, list[Variant]]:
    """Every axis of the model's matrix with its variants (the sample value left out)."""
    found = {axis: [variant(axis, label) for label in labels] for axis, labels in _AXES.items()}
    found["transport"] = [variant("transport", "tcp"), variant("transport", "tls")]
    for name, values in (
        ("srtp", ("preferred", "required")),
        ("dtmf", ("RTP-in-band", "SIP-INFO")),
    ):
        extra = shape.literals.get(name, set()) - set(values) - {_SAMPLE_MODES[name]}
        found[name] = [variant(name, f"{name}={v}") for v in (*values, *sorted(extra))]
    sample = sample_raw_config()
    locales = sorted((set(LOCALES) | shape.literals.get("locale", set())) - {sample["locale"]})
    found["locale"] = [variant("locale", f"locale={loc}") for loc in locales]
    found["locale"].append(variant("locale", "no-locale"))
    zones = [
        *TIMEZONES,
        *sorted(shape.literals.get("tz", set()) - {*TIMEZONES, sample["timezone"]}),
    ]
    found["tz"] = [variant("tz", f"tz={zone}") for zone in zones] + [variant("tz", "no-tz")]
    found["lines"] = [variant("lines", f"lines={n}") for n in _line_counts(shape)]
    found["lines"].append(variant("lines", "lines=autoprov"))
    keys = min(max(shape.function_keys, 6), MAX_FUNCKEYS)
    found["funckeys"] = [
        variant("funckeys", label)
        for label in ("funckeys=none", "funckeys=speeddial", "funckeys=blf", "funckeys=park")
    ] + [variant("funckeys", f"funckeys={keys}")]
    if shape.sccp:
        found["callmanagers"] = [variant("callmanagers", "callmanagers=3")]
    return found


_SAMPLE_MODES = {"srtp": "disabled", "dtmf": "RTP-out-of-band"}


def _line_counts(shape: ModelShape) -> list[int]:
    """1 line, the model's maximum, and what the templates test (``'1' in sip_lines`` needs
    a config without line 1)."""
    top = max(1, shape.max_lines)
    counts = {1, top}
    for text in shape.literals.get("lines", set()):
        wanted = int(text)
        if wanted <= top and not any(c < wanted for c in counts | {2}):
            counts.add(wanted - 1)
    counts.discard(len(sample_raw_config()["sip_lines"]))
    return sorted(counts)


def build(variants: Iterable[Variant]) -> Raw:
    """The sample config with *variants* applied (lines first: the others follow them)."""
    raw = sample_raw_config()
    ordered = sorted(variants, key=lambda v: v.axis != "lines")
    for item in ordered:
        item.apply(raw)
    return raw


def single(item: Variant) -> MatrixConfig:
    """The sample config with *item* alone: what a packed config's problem is tried with."""
    return MatrixConfig((item,), build([item]))


_RICH = {"backup", "outbound", "vlan", "syslog", "dns", "pickup-group", "tls", "srtp=required"}
_RICH |= {"dtmf=SIP-INFO", "name=long", "callmanagers=3"}
_ORDER = [*_AXES, "transport", "srtp", "dtmf", "lines", "funckeys", "locale", "tz", "callmanagers"]


def _rich(item: Variant) -> bool:
    """A variant that adds to the sample config (a backup proxy, TLS, more lines...)."""
    name, _, value = item.label.partition("=")
    if item.label in _RICH:
        return True
    if name not in ("lines", "funckeys") or not value.isdigit():
        return False
    return int(value) > len(sample_raw_config()["sip_lines" if name == "lines" else name])


def model_matrix(shape: ModelShape) -> list[MatrixConfig]:
    """The packed configs, each variant in one of them.

    The first takes every variant that adds something (its branches nest: a backup proxy
    over TLS), with the most lines and function keys and the first locale and timezone;
    every other variant, and each of those that add again, is spread over as few configs as
    the longest axis needs.
    """
    found = axes(shape)
    first: list[Variant] = []
    rest: dict[str, list[Variant]] = {}
    for axis, variants in found.items():
        rich = [v for v in variants if _rich(v)] or (
            variants[:1] if axis in ("locale", "tz") else []
        )
        first += rich[-1:]  # the richest: the most lines, as many keys as the model has
        # Variants that add are spread too: a backup proxy over UDP, not only over TLS.
        rest[axis] = variants[1:] if axis in ("locale", "tz") else list(variants)
    rows: list[list[Variant]] = [first]
    rows += [[] for _ in range(max(len(v) for v in rest.values()))]
    # Longest axes first, each starting at the least loaded config: balanced and stable.
    for axis in sorted(rest, key=lambda a: (-len(rest[a]), a)):
        start = min(range(1, len(rows)), key=lambda i: (len(rows[i]), i))
        for offset, item in enumerate(rest[axis]):
            rows[1 + (start - 1 + offset) % (len(rows) - 1)].append(item)
    configs = []
    for row in rows:
        row.sort(key=lambda v: _ORDER.index(v.axis))
        configs.append(MatrixConfig(tuple(row), build(row)))
    return configs
