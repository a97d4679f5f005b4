"""--provd-report: the static HTML pages, and the JUnit properties of generated items.

Units of the report's data model and writer, then a run of the sample families (one model
broken and baselined, another broken anew) under ``-n 2`` whose pages are parsed with
lxml.html, in subprocesses (the run loads plugins and boots phones).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree, html

from pytest_provd import tree
from pytest_provd.report import payload
from pytest_provd.report.html import ReportError, write_report
from pytest_provd.report.html_model import Records, build_pages, slug
from pytest_provd.suite import target_models
from tests.test_tree import make_family

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data" / "current" / "plugins"
BASELINED_TPL = "plugins/wazo_cisco_spa/v7_6_2/templates/SPA504G.tpl"
BROKEN_TPL = "plugins/wazo_snom/common/templates/D785.tpl"


def report(
    nodeid: str,
    when: str,
    outcome: str,
    props: list[tuple[str, Any]],
    longrepr: Any = None,
    **extra: Any,
) -> pytest.TestReport:
    made = pytest.TestReport(
        nodeid,
        ("x", None, nodeid),
        {"provd": 1},
        outcome,  # type: ignore[arg-type]
        longrepr,
        when,  # type: ignore[arg-type]
        duration=0.5,
        user_properties=props,
    )
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def ident(target: str, model: str | None, check: str) -> list[tuple[str, Any]]:
    props = [(payload.TARGET_KEY, target), (payload.TIER_KEY, "provd_load")]
    if model is not None:
        props.append((payload.MODEL_KEY, model))
    return [*props, (payload.VENDOR_KEY, "Acme"), (payload.CHECK_KEY, check)]


def test_records_merge_phases_and_rank_verdicts() -> None:
    records = Records()
    phases = ("setup", "call", "teardown")
    for when in phases:
        records.add(report("t-1::load", when, "passed", ident("t-1", None, "load")))
    problem = {"path": "a.tpl", "line": 3, "message": "bad", "fingerprint": "f" * 16}
    call_props = [*ident("t-1", "X1", "wellformed"), (payload.PROBLEMS_KEY, [problem])]
    records.add(report("t-1::X1::wellformed", "setup", "passed", ident("t-1", "X1", "wellformed")))
    records.add(report("t-1::X1::wellformed", "call", "failed", call_props, "a.tpl:3: bad"))
    records.add(
        report(
            "t-1::X2::wellformed",
            "call",
            "skipped",
            ident("t-1", "X2", "wellformed"),
            wasxfail="baselined: a.tpl:3: bad",
        )
    )
    records.add(
        report(
            "t-1::X3::provision",
            "setup",
            "passed",
            ident("t-1", "X3", "provision"),
        )
    )
    records.add(
        report(
            "t-1::X3::provision",
            "call",
            "skipped",
            ident("t-1", "X3", "provision"),
            ("x", 1, "Skipped: no phone emulator"),
        )
    )
    records.add(report("plain_test.py::test_x", "call", "passed", [], keywords={}))
    records.add(report("dhcp::snom::D785", "call", "passed", []))
    items = records.items
    assert "plain_test.py::test_x" not in items  # not a generated item
    assert items["t-1::load"].verdict == "passed"
    assert items["t-1::load"].duration == 1.5
    assert items["t-1::X1::wellformed"].verdict == "failed"
    assert items["t-1::X1::wellformed"].problems == [problem]
    assert items["t-1::X2::wellformed"].verdict == "baselined"
    assert items["t-1::X3::provision"].verdict == "skipped"
    assert items["t-1::X3::provision"].text == "no phone emulator"
    pages, others = build_pages(records.items.values(), ["t-1"])
    (page,) = pages
    assert [(c.name, c.verdict) for c in page.models] == [
        ("X1", "failed"),
        ("X2", "baselined"),
        ("X3", "skipped"),
    ]
    assert page.verdict == "failed"
    assert page.checks.verdict == "passed"
    assert [(g.name, g.kind, len(g.items)) for g in others] == [("dhcp", "other", 1)]


def test_slugs_are_safe_and_distinct() -> None:
    assert slug("wazo-snom-10.1.215.13") == "wazo-snom-10.1.215.13"
    assert slug("6920(w)") != slug("6920[w]")
    assert all(c.isalnum() or c in "._-" for c in slug("a b/c(d)"))


def test_rendered_files_are_capped_with_a_note() -> None:
    big = payload.file_entry("big.xml", b"x" * (payload.MAX_FILE_BYTES + 10))
    assert len(big["text"]) == payload.MAX_FILE_BYTES
    assert big["note"] == f"cut at {payload.MAX_FILE_BYTES} B of {payload.MAX_FILE_BYTES + 10} B"
    cut = payload.file_entry("u.txt", "é".encode() * payload.MAX_FILE_BYTES)
    assert cut["text"] and cut["size"] == 2 * payload.MAX_FILE_BYTES
    binary = payload.file_entry("f.bin", b"\xff\x00" * 10)
    assert binary["text"] is None and binary["note"] == "binary content, not shown"


def test_pages_escape_content_and_load_nothing_from_outside(tmp_path: Path) -> None:
    records = Records()
    evil = "<script>alert(1)</script>"
    props = [
        *ident("t-1", "X1", "configure"),
        (payload.FILES_KEY, [payload.file_entry("a.xml", evil.encode())]),
    ]
    records.add(report("t-1::X1::configure", "call", "passed", props))
    pages, groups = build_pages(records.items.values(), ["t-1"])
    head = {k: "x" for k in ("commit", "base_ref", "backend", "options", "started", "version")} | {
        "duration": 1.0,
        "workers": None,
    }
    data = {
        "head": head,
        "pages": pages,
        "groups": groups,
        "counts": {"failed": 0, "baselined": 0, "passed": 1, "skipped": 0},
        "models": 1,
        "changed": 0,
        "verdicts": ("failed", "baselined", "passed", "skipped"),
    }
    index = write_report(tmp_path / "r", data)
    page = (tmp_path / "r" / "targets" / "t-1.html").read_text()
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for path in (index, tmp_path / "r" / "targets" / "t-1.html"):
        doc = html.parse(str(path)).getroot()
        assert not doc.xpath("//script[@src] | //link | //img | //iframe")
        assert not [a for a in doc.xpath("//a/@href") if "://" in a]


# --- a run of the sample families ---------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t.invalid", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip()


def break_template(path: Path) -> None:
    """An unclosed element in the model's own settings: its file is no longer XML."""
    text = path.read_text()
    start = text.index("%}", text.index("block model_settings")) + 2
    path.write_text(text[:start] + "\n<broken>" + text[start:])


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    shutil.copytree(DATA, pytester.path / "plugins")
    (pytester.path / ".gitignore").write_text(".cache/\nreport/\njunit.xml\nbaseline.json\n")
    git(pytester.path, "init", "-q", "-b", "main")
    git(pytester.path, "add", "-A")
    git(pytester.path, "commit", "-q", "-m", "base")
    return pytester.path


def test_report_under_xdist_shows_every_target_and_model_and_links_failures(
    pytester: pytest.Pytester, repo: Path
) -> None:
    common = ("-p", "no:cacheprovider")
    break_template(repo / BASELINED_TPL)
    known = pytester.runpytest_subprocess(
        "--provd-plugin", "wazo-cisco-spa-7.6.2", "-k", "SPA504G",
        "--provd-write-baseline", "baseline.json", *common,
    )  # fmt: skip
    assert known.ret == pytest.ExitCode.OK, known.stdout.str()
    break_template(repo / BROKEN_TPL)
    result = pytester.runpytest_subprocess(
        "--provd-plugin", "all", "-n", "2", "--provd-baseline", "baseline.json",
        "--provd-report", "report", "--junitxml", "junit.xml", *common,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["provd report: *report/index.html (*s to write)"])
    index = html.parse(str(repo / "report" / "index.html")).getroot()
    head = index.xpath("string(//header)")
    assert git(repo, "rev-parse", "--short=12", "HEAD") in head
    assert "embedded" in head and "--provd-report report" in head
    found = tree.discover(repo / "plugins")
    assert len(found.targets) == 6
    failing = []
    for plugin_id, target in found.targets.items():
        (row,) = index.xpath(f'//tr[@id="t-{slug(plugin_id)}"]')
        cells = {a.get("data-model"): a for a in row.xpath(".//a[@data-model]")}
        assert set(cells) == set(target_models(target)), plugin_id
        for model, cell in cells.items():
            verdict = next(c for c in cell.get("class").split() if c.startswith("v-"))
            if verdict in ("v-failed", "v-baselined"):
                failing.append((plugin_id, model, verdict, cell.get("href")))
    assert sorted((p, m, v) for p, m, v, _ in failing) == [
        ("wazo-cisco-spa-7.6.2", "SPA504G", "v-baselined"),
        ("wazo-snom-10.1.200.1", "D785", "v-failed"),
        ("wazo-snom-10.1.215.13", "D785", "v-failed"),
    ]
    for plugin_id, model, _, href in failing:
        page_name, _, anchor = href.partition("#")
        assert page_name == f"targets/{slug(plugin_id)}.html"
        assert anchor == f"m-{slug(model)}-problems"
        page = html.parse(str(repo / "report" / page_name)).getroot()
        (problems,) = page.xpath(f'//*[@id="{anchor}"]')
        text = problems.text_content()
        assert "not well-formed XML" in text, text
        assert "fingerprint" in text
    snom = html.parse(str(repo / "report" / "targets" / "wazo-snom-10.1.215.13.html")).getroot()
    (d735,) = snom.xpath('//section[@id="m-D735"]')
    fetched = d735.xpath('.//table[@class="fetches"]//tr[td]')
    assert fetched and all(row.xpath("string(td[4])") for row in fetched)
    assert "\u2192" in d735.xpath("string(.//p[starts-with(., 'firmware:')])")
    assert d735.xpath(".//details/summary/code")  # the rendered files
    # JUnit: every generated testcase names its target, tier and check; model items their
    # model and vendor; failures their problem fingerprints.
    junit = etree.parse(str(repo / "junit.xml"))
    cases = junit.xpath("//testcase")
    assert cases
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.xpath("properties/property")}
        assert {"provd_target", "provd_tier", "provd_check"} <= set(props), case.get("name")
        assert props.get("provd_vendor") in ("Aastra", "Cisco", "Snom")
        if case.xpath("failure"):
            assert case.xpath("properties/property[@name='provd_fingerprint']")
    d785 = [
        c
        for c in cases
        if c.xpath("properties/property[@name='provd_model' and @value='D785']")
        and c.xpath("failure")
    ]
    assert d785


def test_junit_properties_of_static_and_family_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In process: the static tier starts no server, and properties are set at collection."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    make_family(pytester.path / "plugins", "broken_phone", build_py="@target(\n")
    result = pytester.runpytest(
        "--provd-plugin", "all", "-m", "provd_static", "--junitxml", "junit.xml",
        "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    cases = {
        f"{c.get('classname')}::{c.get('name')}": {
            p.get("name"): p.get("value") for p in c.xpath("properties/property")
        }
        for c in etree.parse(str(pytester.path / "junit.xml")).xpath("//testcase")
    }
    build = next(props for name, props in cases.items() if name.endswith("::build"))
    assert build == {
        "provd_target": build["provd_target"],
        "provd_vendor": "Acme",
        "provd_tier": "provd_static",
        "provd_check": "build",
    }
    broken = next(props for name, props in cases.items() if "broken_phone" in name)
    assert broken["provd_family"] == "broken_phone"
    assert broken["provd_check"] == "build.py"
    assert len(broken["provd_fingerprint"]) == 16


def test_a_template_error_is_a_report_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="UndefinedError"):
        write_report(tmp_path, {"pages": [], "head": {}})
