"""Compiled plugin templates, shared by every template environment of the process.

A target's templates are loaded by two plugin managers (the in-process one the load,
configure and matrix tiers use, and the embedded provd's the phones talk to), from two
copies of the plugin, and again whenever a loader says a template is stale.  jinja2's code
for a template depends only on its source, its name, the environment's compile options and
the file name it is compiled under; :class:`SharedCodeCache` keys on the first three and
gives the code back under the file name asked for, so what renders (and where a traceback
says a template line is) does not change.
"""

from __future__ import annotations

import threading
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
                return bucket
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

    def clear(self) -> None:
        with _LOCK:
            _CODES.clear()


SHARED = SharedCodeCache()


def share(env: jinja2.Environment) -> None:
    """Compile *env*'s templates through :data:`SHARED`, unless it has a cache of its own."""
    if env.bytecode_cache is None:
        env.bytecode_cache = SHARED
