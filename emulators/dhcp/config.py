"""The subset of ISC dhcpd configuration Wazo's ``dhcp/`` files use: vendor classes matched on
option 60 (or option 77, the user class), MAC-prefix subclasses with ``if`` conditions on
option 60, and the codes of vendor option spaces (``option ALU.http-server-name code 67``).
What the parser skips is reported in :attr:`DhcpConfig.warnings` with file and line."""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class VendorClass:
    """A ``class`` of the dhcpd configuration."""

    name: str
    # (kind, length, text): "eq", "prefix" or "suffix" on option 60, "user-eq" on option 77
    matches: list[tuple[str, int, str]]
    options: dict[str, str]
    source: str

    def match(self, vendor_class: str | None, user_class: str | None = None) -> bool:
        """Whether a phone sending *vendor_class* (option 60) and *user_class* (option 77)
        falls in this class."""
        for kind, length, text in self.matches:
            if kind == "user-eq":
                if user_class == text:
                    return True
                continue
            if vendor_class is None:
                continue
            if kind == "eq" and vendor_class == text:
                return True
            if kind == "prefix" and vendor_class[:length] == text:
                return True
            if kind == "suffix" and vendor_class[-length:] == text:
                return True
        return False


@dataclass
class MacSubclass:
    """A ``subclass "…" 1:<prefix>`` of the dhcpd configuration: options by MAC prefix.

    *options* apply to every phone with the prefix; each ``(condition, options)`` of
    *conditional* applies when the condition on the vendor class holds.
    """

    prefix: str  # "00:04:13", lower case
    options: dict[str, str]
    conditional: list[tuple[str, dict[str, str]]]
    source: str

    def options_for(self, mac: str, vendor_class: str | None) -> dict[str, str] | None:
        """The options for a phone (None when its MAC lacks the prefix)."""
        if not mac.lower().startswith(self.prefix):
            return None
        options = dict(self.options)
        for condition, opts in self.conditional:
            if evaluate_condition(condition, vendor_class):
                options.update(opts)
        return options


_COND_NOT_EXISTS = re.compile(r"^not\s+exists\s+vendor-class-identifier$")
_COND_EQ = re.compile(r'^(?:option\s+)?vendor-class-identifier\s*=\s*"([^"]*)"$')
_COND_SUBSTR = re.compile(
    r"^(not\s*)?\(?\s*substring\s*\(\s*option\s+vendor-class-identifier\s*,\s*0\s*,"
    r'\s*(\d+)\s*\)\s*=\s*"([^"]*)"\s*\)?$'
)


class UnknownCondition(ValueError):
    """A dhcpd ``if`` condition outside the subset Wazo's configuration uses."""


def evaluate_condition(condition: str, vendor_class: str | None) -> bool:
    """Evaluate the ``if`` conditions Wazo's dhcpd files use (``or`` of simple tests)."""
    for term in re.split(r"\s+or\s+", condition.strip()):
        term = term.strip()
        if _COND_NOT_EXISTS.match(term):
            if vendor_class is None:
                return True
            continue
        eq = _COND_EQ.match(term)
        if eq:
            if vendor_class is not None and vendor_class == eq.group(1):
                return True
            continue
        sub = _COND_SUBSTR.match(term)
        if sub:
            # dhcpd: a test on a missing option is false, and so is its negation
            if vendor_class is None:
                continue
            equal = vendor_class[: int(sub.group(2))] == sub.group(3)
            if equal != bool(sub.group(1)):
                return True
            continue
        raise UnknownCondition(term)
    return False


def _statements(body: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for statement in body.split(";"):
        statement = " ".join(statement.split())  # a concat() may span lines
        if not statement or statement.startswith(("log", "match")):
            continue
        m = _OPT.match(statement + ";")
        if m:
            options[m.group(1)] = m.group(2).strip().strip('"')
    return options


_CLASS = re.compile(r'(?<!sub)class\s+"([^"]+)"\s*\{')
# dhcpd writes bytes without leading zeros too: ``1:0:24:0`` is the prefix 00:24:00
_SUBCLASS = re.compile(r'subclass\s+"[^"]+"\s+1:([0-9a-fA-F]{1,2}(?::[0-9a-fA-F]{1,2}){0,5})\s*\{')
_IF = re.compile(r"\bif\s+(.+?)\s*\{", re.S)
_SUBSTR = re.compile(
    r'substring\s*\(\s*option\s+vendor-class-identifier\s*,\s*0\s*,\s*(\d+)\s*\)\s*=\s*"([^"]*)"'
)
_EQ = re.compile(r'option\s+vendor-class-identifier\s*=\s*"([^"]*)"')
_USER_EQ = re.compile(r'option\s+user-class\s*=\s*"([^"]*)"')
_CODE = re.compile(r"option\s+([\w-]+\.[\w-]+)\s+code\s+(\d+)\s*=")
_SUFFIX = re.compile(
    r'suffix\s*\(\s*option\s+vendor-class-identifier\s*,\s*(\d+)\s*\)\s*=\s*"([^"]*)"'
)


def _unescape(text: str) -> str:
    """dhcpd string escapes: ``\\x00`` (Cisco's trailing NUL), ``\\"`` and ``\\\\``."""
    return re.sub(
        r"\\(x[0-9a-fA-F]{2}|.)",
        lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x" else m.group(1),
        text,
    )


_BRACE = re.compile(r"[{}]")
_PARSED: dict[tuple[type, tuple[tuple[str, str], ...]], bytes] = {}
_MAX_PARSED = 8
_OPT = re.compile(r"^\s*(?:option\s+)?([\w.-]+)\s*=?\s*(.+?);\s*$")


@dataclass
class DhcpConfig:
    """Vendor classes read from a dhcpd configuration directory, with warnings."""

    classes: list[VendorClass] = field(default_factory=list)
    subclasses: list[MacSubclass] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # "ALU.http-server-name" -> 67: a sub-option of option 43 (vendor-encapsulated-options)
    option_codes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, path: Path) -> DhcpConfig:
        """Read a file or every ``*.conf`` below a directory."""
        files = sorted(Path(path).rglob("*.conf")) if Path(path).is_dir() else [Path(path)]
        texts = tuple(
            (str(file), file.read_text(encoding="utf-8", errors="replace")) for file in files
        )
        # Every target of a tree boots its phones on the tree's one dhcp/ configuration:
        # parsed once per content, each caller getting its own copy.
        key = (cls, texts)
        parsed = _PARSED.get(key)
        if parsed is None:
            config = cls()
            for source, text in texts:
                config._parse_text(text, source)
            parsed = pickle.dumps(config)
            if len(_PARSED) >= _MAX_PARSED:
                _PARSED.clear()
            _PARSED[key] = parsed
        config = pickle.loads(parsed)
        assert isinstance(config, cls)
        return config

    @staticmethod
    def _block_end(text: str, start: int) -> int:
        """The index after the brace closing the block opened before *start* (the end of
        *text* when it never closes)."""
        depth = 1
        for brace in _BRACE.finditer(text, start):
            depth += 1 if brace.group() == "{" else -1
            if not depth:
                return brace.end()
        return len(text)

    def _parse_text(self, text: str, source: str) -> None:
        text = re.sub(r"#[^\n]*", "", text)
        for name, code in _CODE.findall(text):
            self.option_codes[name] = int(code)
        groups: list[tuple[int, int, dict[str, str]]] = []
        for group in re.finditer(r"\bgroup\s*\{", text):
            end = self._block_end(text, group.end())
            # Group-level statements are those before its first nested block.
            head = text[group.end() : end - 1].split("{", 1)[0].rsplit(";", 1)[0]
            opts = {}
            for statement in head.split(";"):
                m = _OPT.match(statement.strip() + ";")
                if m and not statement.strip().startswith("class"):
                    opts[m.group(1)] = m.group(2).strip().strip('"')
            groups.append((group.start(), end, opts))
        for match in _CLASS.finditer(text):
            i = self._block_end(text, match.end())
            body = text[match.end() : i - 1]
            line = text.count("\n", 0, match.start()) + 1
            matches: list[tuple[str, int, str]] = [
                ("prefix", int(n), _unescape(s)) for n, s in _SUBSTR.findall(body)
            ]
            matches += [("suffix", int(n), _unescape(s)) for n, s in _SUFFIX.findall(body)]
            matches += [("eq", 0, _unescape(s)) for s in _EQ.findall(body)]
            matches += [("user-eq", 0, _unescape(s)) for s in _USER_EQ.findall(body)]
            options: dict[str, str] = {}
            for start, end, group_opts in groups:
                if start < match.start() < end:
                    options.update(group_opts)
            for statement in body.split(";"):
                statement = " ".join(statement.split())  # a concat() may span lines
                if not statement or statement.startswith(("match", "log", "or", "and")):
                    continue
                m = _OPT.match(statement + ";")
                if m:
                    options[m.group(1)] = m.group(2).strip().strip('"')
                else:
                    self.warnings.append(f"{source}:{line}: unhandled statement {statement[:60]!r}")
            if not matches and not re.search(r"match\s+substring\s*\(\s*hardware", body):
                self.warnings.append(
                    f"{source}:{line}: class {match.group(1)!r} has no vendor match"
                )
            self.classes.append(VendorClass(match.group(1), matches, options, f"{source}:{line}"))
        for match in _SUBCLASS.finditer(text):
            self._parse_subclass(text, match, source)

    def _parse_subclass(self, text: str, match: re.Match[str], source: str) -> None:
        end = self._block_end(text, match.end())
        body = text[match.end() : end - 1]
        where = f"{source}:{text.count(chr(10), 0, match.start()) + 1}"
        conditional: list[tuple[str, dict[str, str]]] = []
        plain = ""
        pos = 0
        for found in _IF.finditer(body):
            if found.start() < pos:
                continue  # inside an if block already consumed
            block_end = self._block_end(body, found.end())
            plain += body[pos : found.start()]
            pos = block_end
            condition = " ".join(found.group(1).split())
            try:
                evaluate_condition(condition, None)
            except UnknownCondition as exc:
                self.warnings.append(f"{where}: unhandled condition {str(exc)[:60]!r}")
                continue
            conditional.append((condition, _statements(body[found.end() : block_end - 1])))
        plain += body[pos:]
        self.subclasses.append(
            MacSubclass(
                ":".join(f"{int(b, 16):02x}" for b in match.group(1).split(":")),
                _statements(plain),
                conditional,
                where,
            )
        )

    def mac_options(self, mac: str, vendor_class: str | None) -> dict[str, str]:
        """Options the MAC-prefix subclasses give a phone."""
        options: dict[str, str] = {}
        for subclass in self.subclasses:
            found = subclass.options_for(mac, vendor_class)
            if found is not None:
                options.update(found)
        return options

    def matched_class(
        self, vendor_class: str | None, user_class: str | None = None
    ) -> VendorClass | None:
        """The first class matching a vendor class identifier (or user class)."""
        return next((c for c in self.classes if c.match(vendor_class, user_class)), None)
