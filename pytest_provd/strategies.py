"""Public hypothesis strategies for provd plugin data.

Use them in your own property tests::

    from hypothesis import given
    from pytest_provd import strategies as pst

    @given(pst.pkgs_db_texts())
    def test_my_tool_reads_any_valid_pkgs_db(text): ...

Every strategy generates *valid* data (it parses and passes the harness's checks); the
``corruptions`` of :func:`corrupted_pkgs_db_texts` are single-point defects the checks must find.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import strategies as st

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)


def plugin_versions() -> st.SearchStrategy[str]:
    """Plugin versions as maintainers write them: ``0.4``, ``0.4.01``, ``1.0.12``."""
    component = st.integers(0, 30).map(str) | st.integers(1, 9).map(lambda n: f"0{n}")
    return st.builds(
        lambda head, rest: ".".join([str(head), *rest]),
        st.integers(0, 12),
        st.lists(component, min_size=1, max_size=3),
    )


def firmware_versions() -> st.SearchStrategy[str]:
    """Firmware versions: dotted numbers with vendor suffixes (``3.3.1-SP4``, ``6.1.5a``)."""
    base = st.lists(st.integers(0, 300).map(str), min_size=1, max_size=5).map(".".join)
    suffix = st.sampled_from(["", "", "-SP1", "-SP4", "a", "b", "-rc1", ".post2", "-MSR3"])
    return st.builds(lambda b, s: b + s, base, suffix)


def versions() -> st.SearchStrategy[str]:
    """Any version the harness orders: plugin or firmware style."""
    return plugin_versions() | firmware_versions()


def mac_addresses(sep: str = ":", upper: bool = False) -> st.SearchStrategy[str]:
    """Unicast MAC addresses, ``00:04:13:ab:cd:ef`` by default."""

    def fmt(raw: bytes) -> str:
        # Clear the multicast bit: a phone's MAC is unicast.
        octets = [raw[0] & 0xFE, *raw[1:]]
        text = sep.join(f"{o:02x}" for o in octets)
        return text.upper() if upper else text

    return st.binary(min_size=6, max_size=6).map(fmt)


_CAP_TYPES = ["deskphone", "ata", "dect", "conference", "doorphone", "softphone"]


@st.composite
def plugin_infos(draw: st.DrawFn) -> dict[str, Any]:
    """Valid ``plugin-info`` documents (version, description, capabilities)."""
    vendor = draw(st.sampled_from(["Snom", "Cisco", "Aastra", "Acme"]))
    firmware = draw(firmware_versions())
    models = draw(st.lists(_WORD.map(str.upper), min_size=1, max_size=5, unique=True))
    caps = {
        f"{vendor}, {model}, {firmware}": {
            "lines": draw(st.integers(1, 12)),
            "function_keys": draw(st.integers(0, 60)),
            "expansion_modules": draw(st.integers(0, 3)),
            "high_availability": draw(st.booleans()),
            "switchboard": draw(st.booleans()),
            "type": draw(st.sampled_from(_CAP_TYPES)),
            "protocol": "sip",
        }
        for model in models
    }
    return {
        "version": draw(plugin_versions()),
        "description": f"Plugin for {vendor} {', '.join(models)} in version {firmware}",
        "capabilities": caps,
    }


@st.composite
def pkgs_db_texts(draw: st.DrawFn) -> str:
    """Valid pkgs.db documents: packages, their files and install recipes, all consistent."""
    version = draw(firmware_versions())
    names = draw(st.lists(_WORD, min_size=1, max_size=4, unique=True))
    out: list[str] = []
    recipes: dict[str, str] = {}
    for name in names:
        nfiles = draw(st.integers(1, 2))
        kind = draw(st.sampled_from(["cp", "unzip"]))
        if kind == "cp":
            files = " ".join(f"$FILE{i + 1}" for i in range(nfiles))
            recipes[f"{kind}{nfiles}"] = f"a-b: cp {files} firmware/"
        else:
            recipes[f"{kind}{nfiles}"] = "a-b: unzip $FILE1\nb-c: include *.bin"
        file_ids = [f"{name}-f{i}" for i in range(nfiles)]
        out += [
            f"[pkg_{name}]",
            f"description: Firmware {name}",
            f"version: {version}",
            f"files: {' '.join(file_ids)}",
            f"install: {kind}{nfiles}",
            "",
        ]
        for file_id in file_ids:
            size = draw(st.integers(1, 10**9))
            sha1 = hashlib.sha1(f"{file_id}{size}".encode()).hexdigest()
            out += [
                f"[file_{file_id}]",
                f"url: http://firmware.example.invalid/{file_id}.bin",
                f"size: {size}",
                f"sha1sum: {sha1}",
                "",
            ]
    for recipe, body in recipes.items():
        out += [f"[install_{recipe}]", *body.splitlines(), ""]
    return "\n".join(out)


CORRUPTIONS = (
    "drop-file-section",
    "bad-sha1",
    "size-not-int",
    "dangling-install",
    "unknown-command",
    "missing-version",
    "step-reads-unknown-node",
)


@st.composite
def corrupted_pkgs_db_texts(draw: st.DrawFn) -> tuple[str, str]:
    """``(corruption, text)``: a valid pkgs.db with exactly one defect of :data:`CORRUPTIONS`."""
    lines = draw(pkgs_db_texts()).splitlines()
    corruption = draw(st.sampled_from(CORRUPTIONS))

    def first(prefix: str) -> int:
        return next(i for i, line in enumerate(lines) if line.startswith(prefix))

    if corruption == "drop-file-section":
        start = first("[file_")
        end = start + 1
        while end < len(lines) and not lines[end].startswith("["):
            end += 1
        del lines[start:end]
    elif corruption == "bad-sha1":
        lines[first("sha1sum:")] = "sha1sum: " + draw(st.sampled_from(["0" * 39, "z" * 40, ""]))
    elif corruption == "size-not-int":
        lines[first("size:")] = "size: " + draw(st.sampled_from(["-1", "0", "1.5", "big"]))
    elif corruption == "dangling-install":
        lines[first("install:")] = "install: nowhere"
    elif corruption == "unknown-command":
        index = first("a-b:")
        lines[index] = "a-b: explode" + lines[index].split(":", 1)[1].split(" ", 2)[-1]
    elif corruption == "missing-version":
        del lines[first("version:")]
    else:
        index = first("a-b:")
        lines[index] = "q-b:" + lines[index].split(":", 1)[1]
    return corruption, "\n".join(lines) + "\n"
