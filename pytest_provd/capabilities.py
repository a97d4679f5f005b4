"""The one reading of a plugin-info capability key, ``"Vendor, Model, Version"``.

Every part of the harness that takes a capability key apart goes through
:func:`split_capability_key`, so a key one part calls malformed is malformed for all (the
``plugin-info`` check reports it; the tiers treat it as no capability).  :func:`covers` says
which entry.py models a capability's model name (``T31(P)(G)``) stands for.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple


class CapabilityKey(NamedTuple):
    """The three parts of a capability key, stripped."""

    vendor: str
    model: str
    version: str


def split_capability_key(key: str) -> CapabilityKey | None:
    """``("Snom", "D785", "10.1.215.13")`` from ``"Snom, D785, 10.1.215.13"``.

    None unless *key* has exactly three comma-separated, non-empty parts.
    """
    parts = [part.strip() for part in key.split(",")]
    if len(parts) != 3 or not all(parts):
        return None
    return CapabilityKey(parts[0], parts[1], parts[2])


def _norm_model(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " -_")


def model_spellings(cap_model: str) -> set[str]:
    """Normalised model names a capability model stands for.

    Capability keys group models for display: ``T73(U)(W)`` (optional suffixes),
    ``N720 IP/DM PRO`` and ``X4/G`` (alternatives; one letter is a suffix), ``X210 V2 & Pro``
    (alternative last words), and spell ``X7 Pro`` for ``X7-Pro``.
    """
    forms = {cap_model}
    if "&" in cap_model:
        first, *others = (part.strip() for part in cap_model.split("&"))
        head = first.rsplit(" ", 1)[0] if " " in first else ""
        forms = {first, *(f"{head} {other}".strip() for other in others)}
    expanded: set[str] = set()
    for form in forms:
        words: list[list[str]] = []
        for word in form.split():
            alts = word.split("/")
            words.append([alts[0]] + [a if len(a) > 1 else alts[0] + a for a in alts[1:]])
        combos = [""]
        for alts in words:
            combos = [f"{c} {a}".strip() for c in combos for a in alts]
        expanded.update(combos)
    out: set[str] = set()
    for form in expanded:
        optional = re.findall(r"\(([^()]*)\)", form)
        base = re.sub(r"\([^()]*\)", "\0", form)
        for mask in range(2 ** min(len(optional), 6)):
            text = base
            for i, opt in enumerate(optional):
                text = text.replace("\0", opt if mask >> i & 1 else "", 1)
            out.add(_norm_model(text))
    return out


def covers(cap_model: str, model: str) -> bool:
    """True when the capability model *cap_model* stands for the entry.py model *model*."""
    return cap_model == model or _norm_model(model) in _spellings(cap_model)


@functools.lru_cache(maxsize=4096)
def _spellings(cap_model: str) -> frozenset[str]:
    # The static checks ask covers() for every (capability, model) pair of a target.
    return frozenset(model_spellings(cap_model))
