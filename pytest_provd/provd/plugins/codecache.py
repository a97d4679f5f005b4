"""Compiled plugin templates, shared by every template environment of the process.

A target's templates are loaded by two plugin managers (the in-process one the load,
configure and matrix tiers use, and the embedded provd's the phones talk to), from two
copies of the plugin, and again whenever a loader says a template is stale.  jinja2's code
for a template depends only on its source, its name, the environment's compile options and
the file name it is compiled under; :class:`SharedCodeCache` keys on the first three and
gives the code back under the file name asked for, so what renders (and where a traceback
says a template line is) does not change.

The code is also kept on disk under the build cache (``memo/jinja-code/``), for the next process
(an xdist worker, the next run): keyed by a hash of the source, the name, the options (the
code generator's and filters' modules by content) and the jinja2 and Python versions, so an
entry is never stale.  Options that cannot be told apart across processes (an extension
object, a local function) keep the code in memory only.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
import threading
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2.bccache import Bucket, BytecodeCache

MAX_TEMPLATES = 4096
"""Distinct (options, name, source) kept; a run loads a few dozen per target."""

_LOCK = threading.Lock()
_CODES: dict[tuple[Any, ...], dict[str | None, CodeType]] = {}


def _extension_key(ext: Any) -> Any:
    # jinja2's own extensions keep nothing that changes the code outside the environment's
    # options; any other one may, so it is only ever shared with itself.
    return type(ext) if type(ext).__module__ == "jinja2.ext" else ext


def _options(env: jinja2.Environment, name: str) -> tuple[Any, ...]:
    """Everything of *env* the lexer, parser and code generator read."""
    autoescape = env.autoescape(name) if callable(env.autoescape) else env.autoescape
    return (
        type(env),
        env.code_generator_class,
        getattr(env, "_provd_code_variant", None),
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted((k, _extension_key(v)) for k, v in env.extensions.items())),
        env.optimized,
        env.is_async,
        env.sandboxed,
        tuple(getattr(env, "intercepted_binops", ())),
        tuple(getattr(env, "intercepted_unops", ())),
        env.finalize,
        env.undefined,
        bool(autoescape),
        # Functions compare by identity: the same filter set gives the same code.
        tuple(sorted(env.filters.items())),
        tuple(sorted(env.tests.items())),
    )


def _refiled(code: CodeType, filename: str) -> CodeType:
    consts = tuple(_refiled(c, filename) if isinstance(c, CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


class _SharedBucket(Bucket):
    shared_key: tuple[Any, ...] = ()
    filename: str | None = None
    disk_key: str | None = None


class SharedCodeCache(BytecodeCache):
    """An in-memory bytecode cache over the whole process (see the module docstring)."""

    shared_by_harness = True  # not a plugin's own cache (rendering.branches reads this)

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        bucket = _SharedBucket(environment, "", "")
        try:
            bucket.shared_key = (_options(environment, name), name, source)
            hash(bucket.shared_key)
        except Exception:  # an unhashable option or a failing autoescape: compile as usual
            bucket.shared_key = ()
            return bucket
        bucket.filename = filename
        with _LOCK:
            codes = _CODES.get(bucket.shared_key)
        if codes is None:
            bucket.disk_key = _disk_key(bucket.shared_key)
            stored = _read(bucket.disk_key) if bucket.disk_key is not None else None
            if stored is None:
                return bucket
            stored = _refiled(stored, filename or "<template>")
            with _LOCK:
                codes = _CODES.setdefault(bucket.shared_key, {filename: stored})
        with _LOCK:
            code = codes.get(filename)
            if code is None:
                any_code = next(iter(codes.values()))
                code = codes[filename] = _refiled(any_code, filename or "<template>")
        bucket.code = code
        return bucket

    def set_bucket(self, bucket: Bucket) -> None:
        if not isinstance(bucket, _SharedBucket) or not bucket.shared_key or bucket.code is None:
            return
        with _LOCK:
            if len(_CODES) >= MAX_TEMPLATES:
                del _CODES[next(iter(_CODES))]
            _CODES.setdefault(bucket.shared_key, {})[bucket.filename] = bucket.code
        if bucket.disk_key is not None:
            _write(bucket.disk_key, bucket.code)

    def clear(self) -> None:
        with _LOCK:
            _CODES.clear()


SHARED = SharedCodeCache()

_STABLE: dict[Any, str | None] = {}  # option value -> its description across processes
_LOCAL = ("<locals>", "<lambda>")


def _stable(value: Any) -> str | None:
    """*value* described the same way in every process that would compile the same code
    with it; None when it cannot be (then nothing goes to disk)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, tuple):
        parts = [_stable(v) for v in value]
        return None if None in parts else "(" + ",".join(parts) + ")"  # type: ignore[arg-type]
    try:
        found = _STABLE.get(value, "")
    except TypeError:
        return None
    if found == "":
        found = _STABLE[value] = _described(value)
    return found


def _described(value: Any) -> str | None:
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    if any(mark in qualname for mark in _LOCAL):
        return None
    # What the code generator reads of a filter or test (pass_context and the like).
    parts = [module, qualname, repr(getattr(value, "jinja_pass_arg", None))]
    for owner in getattr(value, "__mro__", (value,)):
        name = getattr(owner, "__module__", "")
        if name in ("builtins", "jinja2") or name.startswith("jinja2."):
            continue
        digest = _module_digest(name)
        if digest is None:
            return None
        parts.append(digest)
    return "|".join(parts)


def _module_digest(name: str) -> str | None:
    """A hash of the file of module *name* (code generators of ours change with it)."""
    if name in sys.builtin_module_names:  # goes with the Python version (in the key)
        return name
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if not path:
        return None
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def stable_options(env: jinja2.Environment, name: str) -> str | None:
    """What of *env* the lexer, parser and code generator read, described the same way in
    every process (None when it cannot be)."""
    try:
        return _stable(_options(env, name))
    except Exception:  # an unhashable option or a failing autoescape
        return None


def module_digest(name: str) -> str | None:
    """A hash of the file of module *name* (None for a module without one)."""
    return _module_digest(name)


def _disk_key(shared_key: tuple[Any, ...]) -> str | None:
    options, name, source = shared_key
    described = _stable(options)
    if described is None or not isinstance(name, (str, type(None))):
        return None
    digest = hashlib.sha256(_FORMAT)
    for part in (jinja2.__version__, sys.version, described, repr(name), source):
        digest.update(hashlib.sha256(part.encode("utf-8", "surrogatepass")).digest())
    digest.update(importlib.util.MAGIC_NUMBER)
    return digest.hexdigest()


_FORMAT = b"pytest-provd jinja code 1"


def _directory() -> Path | None:
    from pytest_provd.tree.build import default_cache_dir  # lazy: the tree package

    # With the build cache's other entries keyed by content (see pytest_provd.tree.memo).
    return default_cache_dir() / "memo" / "jinja-code"


def _read(key: str) -> CodeType | None:
    directory = _directory()
    if directory is None:
        return None
    try:
        with open(directory / key[:2] / key, "rb") as handle:
            data = handle.read()
        code = marshal.loads(data)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, CodeType) else None


def _write(key: str, code: CodeType) -> None:
    """Best effort, atomically: a reader sees a whole entry or none."""
    directory = _directory()
    if directory is None:
        return
    path = directory / key[:2] / key
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".code-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps(code))
        os.replace(tmp, path)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def share(env: jinja2.Environment) -> None:
    """Compile *env*'s templates through :data:`SHARED`, unless it has a cache of its own."""
    if env.bytecode_cache is None:
        env.bytecode_cache = SHARED
