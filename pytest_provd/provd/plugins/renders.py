"""What plugin templates rendered, and which template line produced each line of the output.

Plugins render through the jinja2 environment of their template helper (our compat
``TemplatePluginHelper`` or the real wazo_provd one, both keep it as ``_env``).  :func:`watch`
makes such an environment record every top-level render (template, variables, text) without
touching what it renders; :func:`find` finds the render a generated file came from.

:meth:`Render.trace` renders the same template with the same variables again, through an
overlay of the environment whose code generator puts a marker (template file, line, kind) in
front of every piece of output.  The markers, taken out, must give back the recorded text
exactly, else there is no trace: a trace is exact or absent, never a guess.  Markers follow
the output through ``{% extends %}``, ``{% include %}``, blocks, macros and ``{% set %}``
blocks, so a line is attributed to the template file and line that wrote it.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

from pytest_provd.provd.domain.devices import copy_device
from pytest_provd.provd.plugins import codecache

MAX_RENDERS = 2048
"""Renders kept (the newest); a run configures a few devices per model at a time."""

_MARK, _END = "\ue000", "\ue001"  # private-use characters: no filter changes them
# The template name in hex (what autoescape and filters leave alone), the line, template text.
_MARKER = re.compile(f"{_MARK}([0-9a-f]*):(\\d+):([01]){_END}")
_LOCK = threading.Lock()
_RENDERS: OrderedDict[str, Render] = OrderedDict()
_PAUSED: list[bool] = []  # process-wide: plugins render in a thread of their own
_PLUGIN_DIRS: weakref.WeakKeyDictionary[jinja2.Environment, Path] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Origin:
    """The template line that wrote a piece of output."""

    filename: str  # the template file the loader read (inside the loaded plugin)
    name: str  # the template name (``base.tpl``)
    line: int


@dataclass(frozen=True)
class _Segment:
    start: int  # offset in the output
    origin: Origin | None
    literal: bool  # template text: its lines follow the template's


class Trace:
    """The output of one render, each piece attributed to the template line that wrote it."""

    def __init__(self, text: str, segments: list[_Segment]) -> None:
        self.text = text
        self._segments = segments
        self._starts = [s.start for s in segments]
        self._lines = [0] + [m.end() for m in re.finditer("\n", text)]

    def origin(self, line: int, column: int | None = None) -> Origin | None:
        """Where output *line* (1-based) was written: at *column* (1-based) when given,
        else at its first non-blank character.  None past the end of the output."""
        if not 1 <= line <= len(self._lines):
            return None
        start = self._lines[line - 1]
        end = self._lines[line] - 1 if line < len(self._lines) else len(self.text)
        content = self.text[start:end]
        if column is not None:
            offset = start + min(max(column - 1, 0), max(len(content) - 1, 0))
        else:
            offset = start + (len(content) - len(content.lstrip()) if content.strip() else 0)
        index = bisect.bisect_right(self._starts, offset) - 1
        if index < 0:
            return None
        segment = self._segments[index]
        if segment.origin is None:
            return None
        if not segment.literal:
            return segment.origin
        down = self.text.count("\n", segment.start, offset)
        origin = segment.origin
        return Origin(origin.filename, origin.name, origin.line + down)


@dataclass
class Render:
    """One top-level render of a watched environment."""

    template: jinja2.Template
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    text: str
    plugin_dir: Path | None
    _trace: Trace | None = field(default=None, init=False, repr=False)
    _traced: bool = field(default=False, init=False, repr=False)

    def trace(self) -> Trace | None:
        """The render again, attributed line by line; None when that cannot be done exactly
        (a template made from a string, or markers that changed what the template does)."""
        if not self._traced:
            self._trace, self._traced = self._render_marked(), True
        return self._trace

    def _render_marked(self) -> Trace | None:
        name = self.template.name
        if name is None:
            return None
        shadow, files = _shadow(self.template.environment)
        try:
            template = shadow.get_template(name, globals=dict(self.template.globals))
            marked = template.render(*self.args, **self.kwargs)
        except Exception:  # plugin templates may raise anything; no trace then
            return None
        trace = _parse(marked, files)
        return trace if _normalized(trace.text) == _normalized(self.text) else None


_FILES: weakref.WeakKeyDictionary[jinja2.Environment, dict[str, str]] = weakref.WeakKeyDictionary()
"""Per marking overlay: the file each template name was last loaded from."""


def _shadow(env: jinja2.Environment) -> tuple[jinja2.Environment, dict[str, str]]:
    """The marking overlay of *env* and the files its templates came from (made once)."""
    shadow: jinja2.Environment | None = getattr(env, "_provd_marking_shadow", None)
    if shadow is None or shadow not in _FILES:
        shadow = env.overlay(cache_size=50)
        shadow.code_generator_class = _MarkingCodeGenerator
        shadow.template_class = _MarkedTemplate
        # Marked code depends only on the template's name and source (not on the file it is
        # read from, nor on the overlay): compiled once per process, whatever the target.
        shadow.bytecode_cache = codecache.SHARED
        _FILES[shadow] = {}
        # Kept on the environment itself: both go together when the plugin is unloaded.
        env._provd_marking_shadow = shadow  # type: ignore[attr-defined]
    return shadow, _FILES[shadow]


class _MarkedTemplate(jinja2.Template):
    """A template of a marking overlay, noting the file its name was loaded from."""

    @classmethod
    def _from_namespace(
        cls,
        environment: jinja2.Environment,
        namespace: MutableMapping[str, Any],
        globals: MutableMapping[str, Any],
    ) -> jinja2.Template:
        template = super()._from_namespace(environment, namespace, globals)
        files = _FILES.get(environment)
        if files is not None and template.name is not None:
            # A template compiled from no file is named after itself.
            filename = template.filename
            with _LOCK:
                files[template.name] = (
                    filename if filename not in (None, "<template>") else template.name
                )
        return template


class _MarkingCodeGenerator(CodeGenerator):
    """Writes a marker before every child of every output node (template text and
    expressions alike): the template's name, the child's line, whether it is template text."""

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        if self.environment not in _FILES:
            super().visit_Output(node, frame)
            return
        name = (self.name or "?").encode("utf-8", "surrogatepass").hex()
        children: list[nodes.Expr] = []
        for child in node.nodes:
            literal = int(isinstance(child, nodes.TemplateData))
            marker = f"{_MARK}{name}:{child.lineno}:{literal}{_END}"
            children += [nodes.TemplateData(marker, lineno=child.lineno), child]
        super().visit_Output(nodes.Output(children, lineno=node.lineno), frame)


def _parse(marked: str, files: dict[str, str]) -> Trace:
    pieces: list[str] = []
    segments: list[_Segment] = []
    length = 0
    origin: Origin | None = None
    literal = False
    position = 0
    for match in _MARKER.finditer(marked):
        piece = marked[position : match.start()]
        if piece:
            segments.append(_Segment(length, origin, literal))
            pieces.append(piece)
            length += len(piece)
        name = bytes.fromhex(match[1]).decode("utf-8", "surrogatepass")
        origin, literal = Origin(files.get(name, name), name, int(match[2])), match[3] == "1"
        position = match.end()
    piece = marked[position:]
    if piece:
        segments.append(_Segment(length, origin, literal))
        pieces.append(piece)
    text = "".join(pieces)
    if _MARK in text or _END in text:  # a filter cut a marker: attribute nothing
        return Trace(text, [])
    return Trace(text, segments)


def _normalized(text: str) -> str:
    # Some plugins write the render with CRLF line ends; lines stay the same.
    return text.replace("\r\n", "\n")


def _key(text: str) -> str:
    return hashlib.sha256(_normalized(text).encode("utf-8", "surrogatepass")).hexdigest()


class _RecordingTemplate(jinja2.Template):
    """A template that records its top-level renders (includes and imports render through
    ``root_render_func``, not through these)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        text = super().render(*args, **kwargs)
        _record(self, args, kwargs, text)
        return text

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        chunks: list[str] = []
        for chunk in super().generate(*args, **kwargs):
            chunks.append(chunk)
            yield chunk
        _record(self, args, kwargs, "".join(chunks))


def _record(template: jinja2.Template, args: Any, kwargs: dict[str, Any], text: str) -> None:
    if _PAUSED:
        return
    try:
        # The plugin may change its raw config after rendering: keep what was rendered.
        args, kwargs = copy_device(args), copy_device(kwargs)
    except Exception:  # an uncopyable value: keep the objects themselves
        pass
    plugin_dir = _PLUGIN_DIRS.get(template.environment)
    render = Render(template, tuple(args), dict(kwargs), text, plugin_dir)
    key = _key(text)
    with _LOCK:
        _RENDERS[key] = render
        _RENDERS.move_to_end(key)
        while len(_RENDERS) > MAX_RENDERS:
            _RENDERS.popitem(last=False)


def watch_environment(env: jinja2.Environment, plugin_dir: Path | None = None) -> None:
    """Record the top-level renders of *env* from now on (what it renders is unchanged)."""
    if plugin_dir is not None:
        _PLUGIN_DIRS[env] = plugin_dir
    # Both plugin managers of a target load the same templates: compile each once.
    codecache.share(env)
    if issubclass(env.template_class, _RecordingTemplate):
        return
    if env.template_class is not jinja2.Template:
        return  # a template class of the plugin's own: leave it alone
    env.template_class = _RecordingTemplate
    if env.cache is not None:
        # Templates loaded before were made with the plain class.
        env.cache.clear()


def watch(plugin: Any, plugin_dir: Path | None = None) -> int:
    """Watch the template environments a plugin object holds (its template helper's, or
    its own); how many were found."""
    found = 0
    try:
        values = list(vars(plugin).values())
    except TypeError:
        return 0
    for value in values:
        env = value if isinstance(value, jinja2.Environment) else getattr(value, "_env", None)
        if isinstance(env, jinja2.Environment):
            watch_environment(env, plugin_dir)
            found += 1
    return found


def find(data: bytes) -> Render | None:
    """The newest render whose text is *data* (in a usual encoding), if one was recorded."""
    with _LOCK:
        if not _RENDERS:
            return None
        for encoding in ("utf-8", "cp1252", "latin-1", "utf-16"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            found = _RENDERS.get(_key(text))
            if found is not None:
                return found
    return None


@contextmanager
def paused() -> Iterator[None]:
    """Within the block, renders are not recorded (copying what a render was given costs a
    third of it: many renders nothing will be traced back from run this way)."""
    with _LOCK:
        _PAUSED.append(True)
    try:
        yield
    finally:
        with _LOCK:
            _PAUSED.pop()


@contextmanager
def recording(on: bool) -> Iterator[None]:
    """Within the block, renders are recorded as usual when *on*, else :func:`paused`."""
    if on:
        yield
        return
    with paused():
        yield


def forget() -> None:
    """Drop every recorded render."""
    with _LOCK:
        _RENDERS.clear()
