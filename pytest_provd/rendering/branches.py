"""Which jinja2 branches of a plugin's templates a render took.

A *branch* is a body a template may render or skip: the body of an ``if`` and of each of its
``elif`` and ``else``, the body of a ``for`` (taken when the loop ran at least once) and its
``else``.  :func:`instrument` gives a template environment a code generator that puts a hit
in front of every such body, and one where each template starts rendering; while
:func:`collecting` is active the hits are kept as ``(template name, index)`` pairs.  What the
templates write is unchanged: a hit is a Python statement, not output.

:func:`template_branches` lists a template's branches under the same indices, with the line
and condition a maintainer reads (``base.tpl:58 if line['backup_proxy_ip']``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame

ENTERED = 0
"""The index of the hit a template records when it starts rendering (branches count from 1)."""

Hit = tuple[str, int]

_LOCK = threading.Lock()
# One sink per process: plugins configure in a worker thread of their own, so a context
# variable set by the caller would not reach the render.
_SINK: set[Hit] | None = None


def hit(template: str, index: int) -> None:
    """Record that *template* took branch *index* (called by instrumented templates)."""
    sink = _SINK
    if sink is not None:
        sink.add((template, index))


@contextmanager
def collecting() -> Iterator[set[Hit]]:
    """Within the block, the hits of every instrumented render go to the yielded set."""
    global _SINK
    found: set[Hit] = set()
    with _LOCK:
        previous, _SINK = _SINK, found
    try:
        yield found
    finally:
        with _LOCK:
            _SINK = previous
        if previous is not None:
            previous.update(found)


def _hit_statement(template: str, index: int, lineno: int) -> nodes.Stmt:
    """``{% do hit(template, index) %}``, with :func:`hit` imported by the compiled module
    (jinja2 takes no node types of ours; these are the ones its extensions use)."""
    call = nodes.Call(
        nodes.ImportedName(f"{__name__}.hit"),
        [nodes.Const(template), nodes.Const(index)],
        [],
        None,
        None,
        lineno=lineno,
    )
    return nodes.ExprStmt(call, lineno=lineno)


def _openers(node: nodes.Node) -> Iterator[nodes.If | nodes.For]:
    """The ``if`` and ``for`` statements under *node*, in the order they open in the source
    (an ``elif`` belongs to its ``if``)."""
    if isinstance(node, nodes.If):
        yield node
        for part in (*node.body, *(n for e in node.elif_ for n in e.body), *node.else_):
            yield from _openers(part)
    elif isinstance(node, nodes.For):
        yield node
        for part in (*node.body, *node.else_):
            yield from _openers(part)
    else:
        for child in node.iter_child_nodes():
            yield from _openers(child)


def _bodies(opener: nodes.If | nodes.For) -> list[tuple[str, int, list[nodes.Node]]]:
    """The branches of one statement: (kind, line, body).  An ``else`` counts when written
    with something in it."""
    if isinstance(opener, nodes.For):
        found = [("for", opener.lineno, opener.body)]
        if opener.else_:
            found.append(("for-else", opener.lineno, opener.else_))
        return found
    found = [("if", opener.lineno, opener.body)]
    found += [("elif", elif_.lineno, elif_.body) for elif_ in opener.elif_]
    if opener.else_:
        found.append(("else", opener.lineno, opener.else_))
    return found


def _branch_bodies(
    template: nodes.Template,
) -> list[tuple[nodes.If | nodes.For, str, int, list[nodes.Node]]]:
    """Every branch of a parsed template, numbered from 1 in this order."""
    return [
        (opener, kind, line, body)
        for opener in _openers(template)
        for kind, line, body in _bodies(opener)
    ]


class BranchCodeGenerator(CodeGenerator):
    """jinja2's code generator, with a :func:`hit` in front of every branch body and at the
    start of every template loaded by name."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        if self.name is not None:
            for index, (opener, _, _, body) in enumerate(_branch_bodies(node), start=1):
                body.insert(0, _hit_statement(self.name, index, opener.lineno))
            node.body.insert(0, _hit_statement(self.name, ENTERED, 1))
        super().visit_Template(node, frame)


def instrument(env: jinja2.Environment) -> bool:
    """Make *env* record branch hits from now on; False when it compiles templates its own way
    (a code generator or bytecode cache of the plugin's), which is left alone."""
    if env.code_generator_class is BranchCodeGenerator:
        return True
    own_cache = env.bytecode_cache is not None and not getattr(
        env.bytecode_cache, "shared_by_harness", False
    )
    if env.code_generator_class is not CodeGenerator or own_cache:
        return False
    env.code_generator_class = BranchCodeGenerator
    if env.cache is not None:
        env.cache.clear()  # templates compiled before have no hits
    return True


def environment_of(plugin: Any) -> jinja2.Environment | None:
    """The template environment a plugin object holds (its template helper's), if any."""
    try:
        values = list(vars(plugin).values())
    except TypeError:
        return None
    for value in values:
        env = value if isinstance(value, jinja2.Environment) else getattr(value, "_env", None)
        if isinstance(env, jinja2.Environment):
            return env
    return None


@dataclass(frozen=True)
class Branch:
    """One branch of a template, as the maintainer reads it."""

    template: str  # the template name (``base.tpl``)
    index: int  # its hit index
    kind: str  # if, elif, else, for, for-else
    line: int  # where the branch's tag is (``{% else %}`` for an else)
    condition: str  # the test (``if``/``elif``), the loop (``for``) or the if/for of an else
    opener_line: int  # the line of the if or for it belongs to

    def describe(self) -> str:
        """``if line['backup_proxy_ip']``, ``else of if XX_lang (line 90)``..."""
        if self.kind in ("if", "elif", "for"):
            return f"{self.kind} {self.condition}".rstrip()
        what = "if" if self.kind == "else" else "for"
        empty = ", taken when the loop is empty" if self.kind == "for-else" else ""
        return f"else of {what} {self.condition} (line {self.opener_line}{empty})"


def template_branches(env: jinja2.Environment, name: str) -> tuple[str | None, list[Branch]]:
    """The file *name* is loaded from and its branches (in hit index order); ``(None, [])``
    for a template that cannot be read or parsed (the ``templates`` item says why)."""
    try:
        source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        parsed = env.parse(source, name, filename)
    except Exception:  # a broken template: no branches to count
        return None, []
    clauses = _tag_clauses(env, source, name, filename)
    bodies = _branch_bodies(parsed)
    openers = list(_openers(parsed))
    if len(clauses) != len(openers):
        clauses = []  # the source did not lex as it parsed (an extension): lines from the AST
    # Nodes compare by content: two identical ifs are equal, so key them by identity.
    by_opener = {id(o): c for o, c in zip(openers, clauses, strict=False)}
    found: list[Branch] = []
    position: dict[int, int] = {}
    for index, (opener, kind, line, _) in enumerate(bodies, start=1):
        tags = by_opener.get(id(opener), [])
        at = position[id(opener)] = position.get(id(opener), -1) + 1
        if kind in ("else", "for-else"):
            at = len(tags) - 1  # the last tag: an empty else is not a branch, so skip ahead
        tag_line, text = tags[at] if 0 <= at < len(tags) else (line, "")
        head = tags[0][1] if tags else ""
        condition = head if kind in ("else", "for-else") else text
        found.append(Branch(name, index, kind, tag_line, condition, opener.lineno))
    return filename, found


_OPEN, _CLAUSE, _CLOSE = {"if", "for"}, {"elif", "else"}, {"endif", "endfor"}


def _tag_clauses(
    env: jinja2.Environment, source: str, name: str, filename: str | None
) -> list[list[tuple[int, str]]]:
    """Per ``if``/``for`` in source order, its tags' (line, text): the opening tag's test or
    loop, then each ``elif`` test and the ``else``."""
    openers: list[list[tuple[int, str]]] = []
    stack: list[list[tuple[int, str]]] = []
    tag: str | None = None
    words: list[str] = []
    line = 0
    expect_name = False
    try:
        for lineno, kind, value in env.lex(source, name, filename):
            if kind in ("block_begin", "linestatement_begin"):
                tag, words, expect_name = None, [], True
            elif kind == "whitespace":
                if tag is not None and words and words[-1] != " ":
                    words.append(" ")
            elif expect_name:
                expect_name = False
                tag, line = (value if kind == "name" else None), lineno
            elif kind in ("block_end", "linestatement_end"):
                _close_tag(tag, line, "".join(words).strip(), openers, stack)
                tag = None
            elif tag is not None:
                words.append(value)
    except jinja2.TemplateSyntaxError:
        return []
    return openers


def _close_tag(
    tag: str | None,
    line: int,
    text: str,
    openers: list[list[tuple[int, str]]],
    stack: list[list[tuple[int, str]]],
) -> None:
    if tag in _OPEN:
        clauses = [(line, text)]
        openers.append(clauses)
        stack.append(clauses)
    elif tag in _CLAUSE and stack:
        stack[-1].append((line, text))
    elif tag in _CLOSE and stack:
        stack.pop()
