"""One ordering for every version the harness meets: plugin versions and firmware versions.

A version is read as a sequence of *tokens*: runs of digits (numbers) and runs of letters
(words); ``.``, ``-``, ``_`` and ``+`` only separate tokens and letter case is ignored.  Two
versions compare token by token with these rules:

* numbers compare as numbers, so ``0.9 < 0.10`` and ``0.4 < 0.4.01 < 0.4.02 < 0.5`` (the
  testing scheme of "Managing Plugins");
* trailing zeros of each numeric run do not count: ``1.0 == 1.0.0`` and, since leading zeros
  do not count either, **``0.4.1 == 0.4.01``** -- going from one to the other is not a bump;
* the well-known pre-release words sort before the release they qualify, as in PEP 440:
  ``dev < a/alpha < b/beta < rc/c/pre/preview < (release)``, so ``6.1.5a < 6.1.5``;
* post-release words (``post``, ``rev``, ``r``) sort after the release;
* any other word (``SP`` in ``3.3.1-SP4``, ``MSR``, ``V`` in ``83.V2.39.0``) sorts after the
  release and before a further number: ``6.4.0 < 6.4.0-SP2 < 6.4.0.1``; words compare
  alphabetically among themselves;
* numbers sort after words at the same position.

Where a version also parses under PEP 440 (:mod:`packaging.version`) the two orders agree,
except that ``X-N`` is read here as ``X.N`` (firmware such as ``11-3-1MSR3-3`` uses dashes as
separators) where PEP 440 reads it as a post-release.

Upstream differs: ``pgbuild.py`` compares dot-separated components as *strings*, which puts
``0.10`` before ``0.9`` and ``0.4.01`` before ``0.4.1``; this module is the stricter reading
and the harness uses it everywhere (version-bump rule, plugins.db, promotion).
"""

from __future__ import annotations

import re
from functools import total_ordering

_TOKEN = re.compile(r"\d+|[a-z]+")
_VALID = re.compile(r"^[0-9A-Za-z]+(?:[.\-_+]?[0-9A-Za-z]+)*$")
_PRE = {"dev": -4, "a": -3, "alpha": -3, "b": -2, "beta": -2, "rc": -1, "c": -1, "pre": -1}
_PRE["preview"] = -1
_POST = {"post", "rev", "r"}
_CANONICAL_WORD = {"alpha": "a", "beta": "b", "c": "rc", "pre": "rc", "preview": "rc"}
_CANONICAL_WORD.update(rev="post", r="post")

# Token ranks at one position: pre-release words < end of version < post words
# < other words < numbers.
_END = (0, 0, "")


class VersionError(ValueError):
    """A version string the harness cannot order."""


def _key(text: str) -> tuple[tuple[int, int, str], ...]:
    tokens = _TOKEN.findall(text.lower())
    key: list[tuple[int, int, str]] = []
    run: list[int] = []

    def flush() -> None:
        while run and run[-1] == 0:
            run.pop()
        key.extend((3, number, "") for number in run)
        run.clear()

    for token in tokens:
        if token.isdigit():
            run.append(int(token))
            continue
        flush()
        if token in _PRE:
            key.append((-1, _PRE[token], ""))
        elif token in _POST:
            key.append((1, 0, ""))
        else:
            key.append((2, 0, token))
    flush()
    return tuple(key)


@total_ordering
class Version:
    """A parsed version: ordered and hashed by meaning, printed as written."""

    __slots__ = ("_key", "text")

    def __init__(self, text: str) -> None:
        if (
            not isinstance(text, str)
            or not _VALID.match(text.strip())
            or not any(c.isdigit() for c in text)
        ):
            raise VersionError(
                f"invalid version {text!r}: expected digits and letters separated by "
                "'.', '-', '_' or '+', with at least one digit (e.g. 1.0.2, 10.1.215.13, "
                "3.3.1-SP4)"
            )
        self.text = text.strip()
        self._key = _key(self.text)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key == other._key

    def __lt__(self, other: Version) -> bool:
        return _cmp_keys(self._key, other._key) < 0

    @property
    def canonical(self) -> str:
        """A canonical spelling (lower case, dots, no padding zeros) of equal versions."""
        parts = []
        for rank, number, word in self._key:
            if rank == 3:
                parts.append(str(number))
            elif rank == 1:
                parts.append("post")
            elif rank == -1:
                parts.append({-4: "dev", -3: "a", -2: "b", -1: "rc"}[number])
            else:
                parts.append(_CANONICAL_WORD.get(word, word))
        if not any(part.isdigit() for part in parts):
            # Zeros dropped from "0a" leave no digit, and a version needs one: 0.a == 0a.
            parts.insert(0, "0")
        return ".".join(parts)


def _cmp_keys(a: tuple[tuple[int, int, str], ...], b: tuple[tuple[int, int, str], ...]) -> int:
    for index in range(max(len(a), len(b))):
        x = a[index] if index < len(a) else _END
        y = b[index] if index < len(b) else _END
        if x != y:
            return -1 if x < y else 1
    return 0


def parse_version(text: str) -> Version:
    """Parse *text*; :class:`VersionError` explains what a version may look like."""
    return Version(text)


def compare(a: str, b: str) -> int:
    """``-1``, ``0`` or ``1`` as version *a* is older than, equal to or newer than *b*."""
    return _cmp_keys(Version(a)._key, Version(b)._key)


def is_newer(a: str, b: str) -> bool:
    """Whether version *a* is strictly newer than *b*."""
    return compare(a, b) > 0
