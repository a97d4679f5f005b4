"""Results worked out from file contents, kept by content hash in memory and in the build cache.

What a static rule concludes from a file's bytes alone (a template parses, and what it
includes) does not change while the bytes do not: the key is a hash of them (with the
versions of what reads them), so an entry is never stale and is safe to share between xdist
workers and runs.  Entries are small JSON files under ``<build cache>/memo/<kind>/``, written
atomically; an unreadable entry is computed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_provd.tree.build import default_cache_dir

_FORMAT = "1"
# Bounded: one run sees a few hundred distinct templates; keeps a long-lived process small.
_MEMORY_LIMIT = 20_000
_MEMORY: dict[tuple[str, str], Any] = {}


def content_key(*parts: str | bytes) -> str:
    """A key for the contents *parts* (hashed apart, so no two splits of them collide)."""
    digest = hashlib.sha256(_FORMAT.encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def remembered(
    kind: str, key: str, compute: Callable[[], Any], *, cache_dir: Path | None = None
) -> Any:
    """``compute()`` (a JSON value), worked out once per *key* and *kind*: in this process,
    and across processes under the build cache."""
    found = _MEMORY.get((kind, key), _MISSING)
    if found is not _MISSING:
        return found
    path = (cache_dir or default_cache_dir()) / "memo" / kind / key[:2] / f"{key}.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        value = compute()
        _write(path, value)
    if len(_MEMORY) >= _MEMORY_LIMIT:
        _MEMORY.clear()
    _MEMORY[(kind, key)] = value
    return value


class _Missing:
    pass


_MISSING = _Missing()


def _write(path: Path, value: Any) -> None:
    """Write *value* atomically (a reader sees the whole entry or none); best effort: a
    read-only cache only costs the computation next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".memo-", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
