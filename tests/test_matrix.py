"""The config matrix (pytest_provd.rendering.matrix) and template branch coverage
(pytest_provd.rendering.branches): configs provd's schema accepts, every variant rendered,
values the templates compare with, hits that leave the output unchanged, and the coverage
summary joined across models."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest

from pytest_provd.provd.domain.rawschema import validate_raw_config
from pytest_provd.provd.plugins import renders
from pytest_provd.rendering import branches, matrix
from pytest_provd.rendering.literals import template_values
from pytest_provd.tiers._coverage import BranchSummary
from pytest_provd.tiers._run import TargetRun

TEMPLATES = {
    "base.tpl": (
        "{% if a == 'x' and b['k'] %}A{% elif c|length > 2 %}B{% else %}C{% endif %}\n"
        "{% for k, v in d.items() if v %}{{ k }}{% if k %}K{% endif %}{% else %}E{% endfor %}\n"
        "{% block x %}{% if z %}Z{% endif %}{% endblock %}{% include 'inc.tpl' %}"
    ),
    "child.tpl": (
        "{% extends 'base.tpl' %}{% block x %}{% if y %}Y{% else %}{% endif %}"
        "{{ super() }}{% endblock %}"
    ),
    "inc.tpl": (
        "{% macro m(q) %}{% if q %}Q{% endif %}{% endmacro %}{{ m(1) }}"
        "{% set t %}{% for i in range(n or 0) recursive %}{{ i }}{% endfor %}{% endset %}{{ t }}"
        "{% macro c() %}[{{ caller() }}]{% endmacro %}{% call c() %}{% if v %}v{% endif %}"
        "{% endcall %}{% filter upper %}{% if w %}w{% endif %}{% endfilter %}"
    ),
    "unused.tpl": "{% if never %}N{% endif %}",
}
VARS: list[dict[str, Any]] = [
    {"a": "x", "b": {"k": 1}, "d": {"p": 1}, "y": 1, "n": 2, "w": 1},
    {"c": [1, 2, 3], "d": {}, "z": 1},
    {"d": {}},
]


def env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES))


# -- branches


def test_instrumented_templates_render_the_same_text() -> None:
    plain, instrumented = env(), env()
    assert branches.instrument(instrumented)
    for name in ("base.tpl", "child.tpl", "inc.tpl"):
        for values in VARS:
            with branches.collecting():
                got = instrumented.get_template(name).render(**values)
            assert got == plain.get_template(name).render(**values)


EMPTY_LOOP = "taken when the loop is empty"


def test_branches_are_listed_with_their_line_and_condition() -> None:
    instrumented = env()
    branches.instrument(instrumented)
    filename, found = branches.template_branches(instrumented, "base.tpl")
    assert filename is None  # a DictLoader has no files
    assert [(b.index, b.kind, b.line, b.describe()) for b in found] == [
        (1, "if", 1, "if a == 'x' and b['k']"),
        (2, "elif", 1, "elif c|length > 2"),
        (3, "else", 1, "else of if a == 'x' and b['k'] (line 1)"),
        (4, "for", 2, "for k, v in d.items() if v"),
        (
            5,
            "for-else",
            2,
            "else of for k, v in d.items() if v (line 2, taken when the loop is empty)",
        ),
        (6, "if", 2, "if k"),
        (7, "if", 3, "if z"),
    ]
    # An empty else is no branch: nothing to render or to skip.
    assert [b.kind for b in branches.template_branches(instrumented, "child.tpl")[1]] == ["if"]


def test_else_lines_are_the_else_tags() -> None:
    source = "{% if a %}\nA\n{% elif b %}\nB\n{% else %}\nC\n{% endif %}\n"
    instrumented = jinja2.Environment(loader=jinja2.DictLoader({"t": source}))
    found = branches.template_branches(instrumented, "t")[1]
    assert [(b.kind, b.line, b.opener_line) for b in found] == [
        ("if", 1, 1),
        ("elif", 3, 1),
        ("else", 5, 1),
    ]


def test_hits_name_the_branches_taken_and_the_templates_entered() -> None:
    instrumented = env()
    branches.instrument(instrumented)
    with branches.collecting() as hits:
        instrumented.get_template("child.tpl").render(**VARS[0])
    assert ("child.tpl", branches.ENTERED) in hits
    assert ("base.tpl", branches.ENTERED) in hits
    assert ("inc.tpl", branches.ENTERED) in hits
    assert ("unused.tpl", branches.ENTERED) not in hits
    base = {index for name, index in hits if name == "base.tpl"}
    assert base == {0, 1, 4, 6}  # if a..., the for body, if k (block x is the child's)
    assert ("child.tpl", 1) in hits
    inc = {index for name, index in hits if name == "inc.tpl"}
    # if q (the macro called with 1), the recursive for body, if w inside the filter; not
    # if v in the call block
    assert inc == {0, 1, 2, 4}
    with branches.collecting() as hits:
        instrumented.get_template("base.tpl").render(**VARS[2])
    assert {i for n, i in hits if n == "base.tpl"} == {0, 3, 5}  # else, for-else


def test_hits_outside_collecting_are_dropped_and_nesting_keeps_them() -> None:
    instrumented = env()
    branches.instrument(instrumented)
    instrumented.get_template("base.tpl").render(d={})
    with branches.collecting() as outer:
        with branches.collecting() as inner:
            instrumented.get_template("base.tpl").render(d={})
        assert inner
    assert inner <= outer


def test_environments_compiling_their_own_way_are_left_alone() -> None:
    class OwnGenerator(jinja2.compiler.CodeGenerator):
        pass

    own = env()
    own.code_generator_class = OwnGenerator
    assert not branches.instrument(own)
    assert own.code_generator_class is OwnGenerator
    cached = jinja2.Environment(bytecode_cache=jinja2.FileSystemBytecodeCache())
    assert not branches.instrument(cached)
    # Templates made from strings are not the plugin's files: nothing to count.
    instrumented = env()
    branches.instrument(instrumented)
    with branches.collecting() as hits:
        assert instrumented.from_string("{% if 1 %}x{% endif %}").render() == "x"
    assert hits == set()


def test_templates_compiled_before_instrumenting_are_compiled_again() -> None:
    early = env()
    early.get_template("unused.tpl")
    branches.instrument(early)
    with branches.collecting() as hits:
        early.get_template("unused.tpl").render(d={})
    assert ("unused.tpl", branches.ENTERED) in hits


def test_a_broken_template_has_no_branches() -> None:
    broken = jinja2.Environment(loader=jinja2.DictLoader({"t": "{% if %}"}))
    assert branches.template_branches(broken, "t") == (None, [])
    assert branches.template_branches(broken, "missing") == (None, [])


def test_environment_of_finds_the_template_helper() -> None:
    own = env()
    helper = SimpleNamespace(_env=own)
    assert branches.environment_of(SimpleNamespace(_tpl_helper=helper, x=1)) is own
    assert branches.environment_of(SimpleNamespace(e=own)) is own
    assert branches.environment_of(SimpleNamespace(x=1)) is None
    assert branches.environment_of(1) is None


# -- renders can be paused


def test_paused_renders_are_not_recorded() -> None:
    recorded = env()
    renders.watch_environment(recorded)
    with renders.paused():
        text = recorded.get_template("base.tpl").render(d={"paused-render-only": 1})
    assert "paused-render-only" in text
    assert renders.find(text.encode()) is None
    text = recorded.get_template("base.tpl").render(a="x", b={"k": "recorded"}, d={"zz": 1})
    assert renders.find(text.encode()) is not None


# -- the matrix


SHAPES = [
    matrix.ModelShape(),
    matrix.ModelShape(max_lines=1),
    matrix.ModelShape(max_lines=6, function_keys=12),
    matrix.ModelShape(max_lines=2, sccp=True, literals={"lines": {"1"}, "srtp": {"required"}}),
]


@pytest.mark.parametrize("shape", SHAPES, ids=["two-lines", "one-line", "six-lines", "sccp"])
def test_every_config_is_one_provd_accepts(shape: matrix.ModelShape) -> None:
    for config in matrix.model_matrix(shape):
        validate_raw_config(config.raw_config)
        assert config.raw_config["funckeys"] is not None


@pytest.mark.parametrize("shape", SHAPES, ids=["two-lines", "one-line", "six-lines", "sccp"])
def test_every_variant_is_rendered_and_the_matrix_is_small(shape: matrix.ModelShape) -> None:
    configs = matrix.model_matrix(shape)
    axes = matrix.axes(shape)
    rendered = {v.label for c in configs for v in c.variants}
    assert rendered == {v.label for variants in axes.values() for v in variants}
    # As long as the longest axis (locales), plus the rich config.
    assert len(configs) == max(len(v) for v in axes.values())
    for config in configs:
        axis_names = [v.axis for v in config.variants]
        assert len(axis_names) == len(set(axis_names)), config.label


def test_the_matrix_covers_what_the_task_names() -> None:
    labels = {v.label for c in matrix.model_matrix(SHAPES[2]) for v in c.variants}
    assert {"backup", "outbound", "tcp", "tls", "srtp=preferred", "srtp=required"} <= labels
    assert {"dtmf=RTP-in-band", "dtmf=SIP-INFO", "funckeys=speeddial", "funckeys=blf"} <= labels
    assert {"funckeys=park", "funckeys=12", "funckeys=none", "no-phonebook", "no-ntp"} <= labels
    assert {"vlan", "syslog", "dns", "no-admin", "lines=1", "lines=6", "lines=autoprov"} <= labels
    assert {"name=empty", "name=long", "tz=Asia/Tokyo", "tz=Australia/Sydney", "no-tz"} <= labels
    sample_locale = matrix.sample_raw_config()["locale"]
    assert {f"locale={loc}" for loc in matrix.LOCALES if loc != sample_locale} <= labels
    assert "callmanagers=3" not in labels  # SIP only
    assert "callmanagers=3" in {v.label for c in matrix.model_matrix(SHAPES[3]) for v in c.variants}


def test_the_first_config_is_the_rich_one() -> None:
    first = matrix.model_matrix(SHAPES[2])[0]
    raw = first.raw_config
    assert raw["sip_transport"] == "tls" and raw["sip_srtp_mode"] == "required"
    assert raw["sip_backup_proxy_ip"] and raw["sip_outbound_proxy_ip"]
    assert len(raw["sip_lines"]) == 6 and len(raw["funckeys"]) == 12
    assert all(line["backup_proxy_ip"] for line in raw["sip_lines"].values())
    assert {k["type"] for k in raw["funckeys"].values()} == {"speeddial", "blf", "park"}
    assert all(int(k["line"]) <= 6 for k in raw["funckeys"].values())


def test_the_matrix_is_the_same_every_time() -> None:
    def labels() -> list[tuple[str, Any]]:
        return [(c.label, c.raw_config) for c in matrix.model_matrix(SHAPES[2])]

    assert labels() == labels()


def test_variants_alone_change_only_what_their_label_says() -> None:
    sample = matrix.sample_raw_config()
    park = matrix.single(matrix.variant("funckeys", "funckeys=park")).raw_config
    assert {k["type"] for k in park["funckeys"].values()} == {"park"}
    assert {k: v for k, v in park.items() if k != "funckeys"} == {
        k: v for k, v in sample.items() if k != "funckeys"
    }
    one = matrix.single(matrix.variant("lines", "lines=1")).raw_config
    assert list(one["sip_lines"]) == ["1"] and one["sip_lines"]["1"] == sample["sip_lines"]["1"]
    six = matrix.single(matrix.variant("lines", "lines=6")).raw_config
    assert matrix.line_usernames(six)[:2] == ["alice1001", "bob1002"]
    assert len(set(matrix.line_usernames(six))) == 6
    autoprov = matrix.single(matrix.variant("lines", "lines=autoprov")).raw_config
    assert autoprov["sip_lines"]["1"]["number"] == "autoprov"
    with pytest.raises(ValueError, match="no matrix variant 'lines=many'"):
        matrix.variant("lines", "lines=many")


def test_values_the_templates_compare_with_join_the_axes() -> None:
    source = (
        "{% if sip_srtp_mode == 'preferred' %}{% endif %}"
        "{% if line['dtmf_mode'] in ('SIP-INFO', 'RTP-in-band') %}{% endif %}"
        "{% if '1' in sip_lines %}{% endif %}{% if '4' in sip_lines %}{% endif %}"
        "{% if locale == 'ja_JP' %}{% endif %}{% if timezone == 'Asia/Kolkata' %}{% endif %}"
        "{% if sip_transport == 'sctp' %}{% endif %}{% if locale == 'klingon' %}{% endif %}"
        "{% if timezone == 'Mars/Olympus' %}{% endif %}{% if XX_x == 'tls' %}{% endif %}"
    )
    parsed = jinja2.Environment().parse(source)
    found = template_values([parsed])
    assert found == {
        "srtp": {"preferred"},
        "dtmf": {"SIP-INFO", "RTP-in-band"},
        "lines": {"1", "4"},
        "locale": {"ja_JP"},
        "tz": {"Asia/Kolkata"},
    }
    shape = matrix.ModelShape(max_lines=6, literals=found)
    labels = {v.label for c in matrix.model_matrix(shape) for v in c.variants}
    # '1' in sip_lines is false only without lines; '4' is told apart by lines=1 and lines=6.
    assert {"lines=0", "lines=1", "lines=6", "locale=ja_JP", "tz=Asia/Kolkata"} <= labels
    assert not {"lines=3", "lines=4"} & labels


# -- the coverage summary, joined across models (as the controller sees reports)


def _report(nodeid: str, payload: dict[str, Any]) -> Any:
    return SimpleNamespace(nodeid=nodeid, when="call", provd_branches=payload)


def test_the_summary_joins_the_models_of_a_target() -> None:
    session = SimpleNamespace(targets=[SimpleNamespace(plugin_id="wazo-x-1")])
    summary = BranchSummary(session)  # type: ignore[arg-type]
    missed_1 = {"2": "t/base.tpl:5 if backup", "3": "t/base.tpl:9 if sctp"}
    summary.pytest_runtest_logreport(
        _report(
            "wazo-x-1::A::matrix",
            {
                "templates": {"base.tpl": {"total": 3, "hit": [1], "missed": missed_1}},
                "shipped": ["base.tpl", "old.tpl"],
            },
        )
    )
    summary.pytest_runtest_logreport(
        _report(
            "wazo-x-1::B::matrix",
            {
                "templates": {
                    "base.tpl": {"total": 3, "hit": [1, 2], "missed": {"3": missed_1["3"]}},
                    "B.tpl": {"total": 1, "hit": [1], "missed": {}},
                },
                "shipped": ["base.tpl", "B.tpl", "old.tpl"],
            },
        )
    )
    summary.pytest_runtest_logreport(SimpleNamespace(nodeid="wazo-x-1::load", when="call"))  # type: ignore[arg-type]
    assert summary.line("wazo-x-1") == (
        "wazo-x-1: branches 3/4 in 2 rendered template(s); 1 shipped template(s) no model rendered"
    )
    assert summary.missed("wazo-x-1") == ["t/base.tpl:9 if sctp"]
    assert summary.line("wazo-y-1") is None


# -- snapshots read only what changed


def test_snapshots_read_again_what_changed_even_within_a_second(tmp_path: Path) -> None:
    run = TargetRun.__new__(TargetRun)
    run._files = {}
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.xml").write_bytes(b"one")
    (tmp_path / "sub" / "b.cfg").write_bytes(b"two")
    os.symlink(tmp_path / "a.xml", tmp_path / "link.xml")
    assert run.snapshot(tmp_path) == {"a.xml": b"one", "sub/b.cfg": b"two"}
    # Same size, same second (coarse timestamps): read again all the same.
    (tmp_path / "a.xml").write_bytes(b"ONE")
    assert run.snapshot(tmp_path)["a.xml"] == b"ONE"
    old = time.time() - 60
    os.utime(tmp_path / "sub" / "b.cfg", (old, old))
    assert run.snapshot(tmp_path)["sub/b.cfg"] == b"two"
    assert run.snapshot(tmp_path / "missing") == {}


def _rewrite_keeping_stamp(path: Path, data: bytes) -> None:
    stamp = path.stat().st_mtime_ns
    path.write_bytes(data)
    os.utime(path, ns=(stamp, stamp))


def test_snapshots_trust_a_fine_stamp_past_a_tick_and_a_whole_second_one_past_a_second(
    tmp_path: Path,
) -> None:
    run = TargetRun.__new__(TargetRun)
    run._files = {}
    fine, whole = tmp_path / "fine.xml", tmp_path / "whole.xml"
    fine.write_bytes(b"one")
    whole.write_bytes(b"one")
    now = time.time_ns()
    os.utime(fine, ns=(now - 200_000_000 + 1, now - 200_000_000 + 1))
    second = now // 1_000_000_000 * 1_000_000_000
    os.utime(whole, ns=(second, second))
    assert run.snapshot(tmp_path) == {"fine.xml": b"one", "whole.xml": b"one"}
    _rewrite_keeping_stamp(fine, b"two")
    _rewrite_keeping_stamp(whole, b"two")
    # The fine stamp is 200 ms old: no change since can keep it.  The whole-second one may.
    assert run.snapshot(tmp_path) == {"fine.xml": b"one", "whole.xml": b"two"}
