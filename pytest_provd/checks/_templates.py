"""Template helpers: provd's jinja2 environment, per-model template conventions, and mapping a
built file back to the source file it was copied from."""

from __future__ import annotations

import hashlib
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from pytest_provd.tree import memo

TEMPLATE_SUFFIXES = (".tpl", ".btpl")
DEFAULT_TPL_DIR = "templates"
CUSTOM_TPL_DIR = "var/templates"


def provd_environment(plugin_dir: Path) -> jinja2.Environment:
    """The environment provd's ``TemplatePluginHelper`` builds for *plugin_dir*.

    Custom templates (``var/templates``) first, then the plugin's ``templates``; jinja2
    defaults otherwise (no extensions, default filters, lenient ``Undefined``, no autoescape).
    """
    loader = jinja2.FileSystemLoader(
        [str(plugin_dir / CUSTOM_TPL_DIR), str(plugin_dir / DEFAULT_TPL_DIR)], encoding="utf-8"
    )
    return jinja2.Environment(loader=loader)


@dataclass
class ModelTemplateConvention:
    """``templates/<pattern>`` exists per model, e.g. ``{model}.tpl``."""

    pattern: str
    examples: list[str]

    def path_for(self, model: str) -> str:
        """Relative path (from the plugin dir) of *model*'s template."""
        return f"{DEFAULT_TPL_DIR}/" + self.pattern.replace("{model}", model)


def model_template_conventions(
    plugin_dir: Path, models: list[str]
) -> list[ModelTemplateConvention]:
    """Per-model file patterns under ``templates/`` that most of *models* follow."""
    top = plugin_dir / DEFAULT_TPL_DIR
    if not models or not top.is_dir():
        return []
    names = template_names(str(top))
    patterns: dict[str, list[str]] = {}
    by_length = sorted((m for m in models if m), key=len, reverse=True)
    for name in names:
        model = next((m for m in by_length if m in name), None)
        if model is not None:
            found = patterns.setdefault(name.replace(model, "{model}", 1), [])
            if model not in found:
                found.append(model)
    need = max(min(2, len(models)), (len(models) + 1) // 2)
    return [
        ModelTemplateConvention(pattern, found)
        for pattern, found in patterns.items()
        if len(found) >= need
    ]


def template_names(top: str) -> list[str]:
    """Relative paths of the template files under *top*, in path order (as sorted
    ``Path.rglob`` gives them, without a Path per file: this runs for every target)."""
    found = []
    for dirpath, _dirnames, filenames in os.walk(top):
        prefix = dirpath[len(top) + 1 :]
        for name in filenames:
            if os.path.splitext(name)[1] not in TEMPLATE_SUFFIXES:
                continue
            if os.path.isfile(os.path.join(dirpath, name)):
                found.append(f"{prefix}/{name}" if prefix else name)
    return sorted(found, key=lambda rel: rel.split("/"))


_FAMILY_INDEX: dict[tuple[str, float], dict[str, list[Path]]] = {}


def source_of(
    family_dir: Path, plugin_dir: Path, rel: str, prefer: Path | None = None
) -> Path | None:
    """The file of *family_dir* a built ``plugin_dir/rel`` was copied from (same bytes).

    Among identical copies, one under *prefer* (the target's version dir) wins, then one
    outside any version dir (``common/``), then one whose path ends with *rel*.
    """
    built = plugin_dir / rel
    if not built.is_file():
        return None
    wanted = hashlib.sha256(built.read_bytes()).hexdigest()
    index = _index(family_dir)
    same = [
        path
        for path in index.get(built.name, [])
        if hashlib.sha256(path.read_bytes()).hexdigest() == wanted
    ]

    def rank(path: Path) -> tuple[bool, bool, bool, str]:
        in_prefer = prefer is not None and path.is_relative_to(prefer)
        top = path.relative_to(family_dir).parts[0]
        in_version_dir = (family_dir / top / "plugin-info").is_file()
        return (not in_prefer, in_version_dir, not path.as_posix().endswith("/" + rel), str(path))

    return min(same, key=rank) if same else None


def _index(family_dir: Path) -> dict[str, list[Path]]:
    key = (str(family_dir), family_dir.stat().st_mtime)
    if key not in _FAMILY_INDEX:
        index: dict[str, list[Path]] = {}
        for dirpath, dirnames, filenames in os.walk(family_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                index.setdefault(name, []).append(Path(dirpath) / name)
        _FAMILY_INDEX[key] = index
    return _FAMILY_INDEX[key]


# What the per-model template rule renders with: enough of a raw config for templates to take
# their usual branches (two SIP lines, function keys, the common settings); the same context
# on both sides of a comparison, so only the templates' own differences show.
SAMPLE_CONTEXT: dict[str, object] = {
    "ip": "127.0.0.1",
    "http_port": 8667,
    "tftp_port": 69,
    "ntp_enabled": True,
    "ntp_ip": "127.0.0.1",
    "timezone": "Europe/Paris",
    "locale": "fr_FR",
    "protocol": "SIP",
    "admin_username": "admin",
    "admin_password": "adminpass",
    "user_username": "user",
    "user_password": "userpass",
    "sip_proxy_ip": "127.0.0.1",
    "sip_proxy_port": 5060,
    "sip_registrar_ip": "127.0.0.1",
    "sip_dtmf_mode": "RTP-out-of-band",
    "sip_transport": "udp",
    "sip_srtp_mode": "disabled",
    "exten_voicemail": "*98",
    "exten_pickup_call": "*8",
    "sip_lines": {
        "1": {
            "username": "alice1001",
            "auth_username": "alice1001",
            "password": "secret1",
            "display_name": "Alice",
            "number": "1001",
            "proxy_ip": "127.0.0.1",
        },
        "2": {
            "username": "bob1002",
            "auth_username": "bob1002",
            "password": "secret2",
            "display_name": "Bob",
            "number": "1002",
            "proxy_ip": "127.0.0.1",
        },
    },
    "funckeys": {
        "1": {"type": "speeddial", "value": "1003", "label": "Carol", "line": "1"},
        "2": {"type": "blf", "value": "1004", "label": "Dave", "line": "1"},
    },
    "sccp_call_managers": {},
}


class _Absent(jinja2.ChainableUndefined):
    """A value the plugin adds at configure time: empty, whatever is done with it."""

    def __call__(self, *args: object, **kwargs: object) -> _Absent:  # type: ignore[override]
        return self


def fallback_difference(
    plugin_dir: Path, name: str, source: str, context: dict[str, object] | None = None
) -> tuple[int, str, str] | None:
    """Where provd's fallback to ``base.tpl`` renders differently from the template *source*
    installed in *plugin_dir* as ``templates/<name>``: ``(line, with it, with base.tpl)``,
    None when both render the same.  Values the plugin would add at configure time render
    as empty on both sides (chainable undefined); other jinja2 errors propagate."""
    env = provd_environment(plugin_dir)
    env.undefined = _Absent
    assert env.loader is not None
    env.loader = jinja2.ChoiceLoader([jinja2.DictLoader({name: source}), env.loader])
    values = dict(SAMPLE_CONTEXT if context is None else context)
    own = env.get_template(name).render(values).splitlines()
    base = env.get_template("base.tpl").render(values).splitlines()
    if own == base:
        return None
    for number, (mine, theirs) in enumerate(itertools.zip_longest(own, base, fillvalue=""), 1):
        if mine != theirs:
            return number, mine.strip(), theirs.strip()
    return None  # differ in trailing blank lines only


def template_files(plugin_dir: Path) -> bytes:
    """A digest of every file the environment of *plugin_dir* may load (names and bytes)."""
    digest = hashlib.sha256()
    for sub in (CUSTOM_TPL_DIR, DEFAULT_TPL_DIR):
        top = plugin_dir / sub
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in dirnames:  # not walked, but jinja2 loads through them
                path = os.path.join(dirpath, name)
                if os.path.islink(path):
                    rel = os.path.relpath(path, plugin_dir)
                    digest.update(f"{rel}\0{os.readlink(path)}\0".encode())
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                digest.update(f"{sub}/{os.path.relpath(path, top)}\0".encode())
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
    return digest.digest()


# What the comparison's outcome depends on besides the templates: jinja2 and this code.
_FALLBACK_CODE = [
    # nested code objects left out: their repr holds an address
    (code.co_code, [k for k in code.co_consts if not hasattr(k, "co_code")])
    for code in (fallback_difference.__code__, _Absent.__call__.__code__)
]
_FALLBACK_RULE = repr((jinja2.__version__, SAMPLE_CONTEXT, _FALLBACK_CODE))


def remembered_fallback_difference(
    plugin_dir: Path, name: str, source: str, files: bytes
) -> tuple[int, str, str] | None:
    """:func:`fallback_difference` with the sample context, worked out once per content
    (*files*: :func:`template_files` of *plugin_dir*); a template jinja2 rejects raises
    :class:`jinja2.TemplateError` as it would."""

    def compute() -> dict[str, Any]:
        try:
            found = fallback_difference(plugin_dir, name, source)
        except jinja2.TemplateError as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"difference": None if found is None else list(found)}

    key = memo.content_key("fallback", _FALLBACK_RULE, name, source, files)
    result: dict[str, Any] = memo.remembered("fallback", key, compute)
    if "error" in result:
        raise jinja2.TemplateError(result["error"])
    found = result["difference"]
    return None if found is None else (int(found[0]), str(found[1]), str(found[2]))
