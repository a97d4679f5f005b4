"""The process-wide compiled-template cache: shared, yet never changes what renders."""

from __future__ import annotations

import traceback
from pathlib import Path

import jinja2
import pytest

from pytest_provd.provd.plugins import codecache

SOURCE = "{% for x in items %}{{ x | upper }}\n{% endfor %}{{ 1 // zero }}"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build cache of the test's own: code another run kept on disk is not found."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))


def _env(path: Path, **options: object) -> jinja2.Environment:
    path.mkdir(parents=True, exist_ok=True)
    (path / "t.tpl").write_text(SOURCE)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path)), **options)  # type: ignore[arg-type]
    codecache.share(env)
    return env


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    compiled: list[str | None] = []
    original = jinja2.Environment.compile

    def compile(
        self: jinja2.Environment,
        source: str,
        name: str | None = None,
        filename: str | None = None,
        *a: object,
    ) -> object:
        compiled.append(filename)
        return original(self, source, name, filename, *a)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", compile)
    return compiled


def test_a_second_copy_is_not_compiled_again_and_fails_at_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecache.SHARED.clear()
    compiled = _counting(monkeypatch)
    first, second = _env(tmp_path / "a"), _env(tmp_path / "b")
    texts = []
    for env in (first, second):
        template = env.get_template("t.tpl")
        texts.append(template.render(items=["a", "b"], zero=1))
        with pytest.raises(ZeroDivisionError) as raised:
            template.render(items=[], zero=0)
        frames = traceback.extract_tb(raised.value.__traceback__)
        assert (frames[-1].filename, frames[-1].lineno) == (
            str(Path(env.loader.searchpath[0]) / "t.tpl"),
            2,
        )  # type: ignore[union-attr]
    assert texts == ["A\nB\n1", "A\nB\n1"]
    assert compiled == [str(tmp_path / "a" / "t.tpl")]


def test_other_options_compile_their_own_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecache.SHARED.clear()
    compiled = _counting(monkeypatch)
    plain = _env(tmp_path / "a").get_template("t.tpl").render(items=["a"], zero=1)
    trimmed = (
        _env(tmp_path / "b", trim_blocks=True).get_template("t.tpl").render(items=["a"], zero=1)
    )
    assert (plain, trimmed) == ("A\n1", "A\n1")
    assert len(compiled) == 2


def test_a_cache_of_the_environment_own_is_kept(tmp_path: Path) -> None:
    own = jinja2.FileSystemBytecodeCache(str(tmp_path))
    env = jinja2.Environment(bytecode_cache=own)
    codecache.share(env)
    assert env.bytecode_cache is own


def test_the_next_process_reads_the_code_from_disk_and_another_source_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecache.SHARED.clear()
    compiled = _counting(monkeypatch)
    first = _env(tmp_path / "a").get_template("t.tpl").render(items=["a"], zero=1)
    codecache.SHARED.clear()  # as in a new process: only the disk has the code
    env = _env(tmp_path / "b")
    template = env.get_template("t.tpl")
    assert template.render(items=["a"], zero=1) == first
    with pytest.raises(ZeroDivisionError) as raised:
        template.render(items=[], zero=0)
    assert traceback.extract_tb(raised.value.__traceback__)[-1].filename == str(
        tmp_path / "b" / "t.tpl"
    )
    assert compiled == [str(tmp_path / "a" / "t.tpl")]
    codecache.SHARED.clear()
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "t.tpl").write_text(SOURCE.replace("upper", "lower"))
    changed = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path / "c")))
    codecache.share(changed)
    assert changed.get_template("t.tpl").render(items=["A"], zero=1) == "a\n1"
    assert len(compiled) == 2


def test_a_local_filter_keeps_the_code_in_memory_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codecache.SHARED.clear()
    env = _env(tmp_path / "a")
    env.filters["upper"] = lambda value: str(value) + "!"
    assert env.get_template("t.tpl").render(items=["a"], zero=1) == "a!\n1"
    assert not (tmp_path / "cache" / "memo" / "jinja-code").exists()
