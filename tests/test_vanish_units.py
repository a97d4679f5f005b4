"""Units behind "nothing vanishes": broken families kept, glob-to-prefix matching, selection
of broken families, unbuilt version dirs, and removals told deliberate or not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.problems import SourceError
from pytest_provd.tree import gitbase, selection
from tests.test_tree import make_family

TARGET_2_0 = "@target('2.0', 'acme-phone-2.0', std_dirs=False)"


def test_plugin_id_prefix_of_current_and_legacy_names() -> None:
    assert tree.plugin_id_prefix("wazo_snom") == "wazo-snom-"
    assert tree.plugin_id_prefix("wazo-snom") == "wazo-snom-"
    assert tree.plugin_id_prefix("core") == "core-"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("wazo-snom-*", True),
        ("wazo-*", True),
        ("*", True),
        ("wazo-snom-10.1.215.13", True),
        ("wazo-snom-10.*", True),
        ("wazo-sno?-*", True),
        ("wazo-[rs]nom-*", True),
        ("wazo-[!s]nom-*", False),
        ("wazo-yealink-*", False),
        ("wazo-snom", False),  # ends before the prefix does: no id of the family
        ("wazo-snmo-*", False),
    ],
)
def test_glob_may_match_a_prefix(pattern: str, expected: bool) -> None:
    assert selection.glob_may_match(pattern, "wazo-snom-") is expected


@pytest.mark.parametrize(
    ("source", "line", "said"),
    [
        ("def f(:\n    pass\n", 1, "does not compile: SyntaxError: "),
        ("def f():\n    x = 1\n      y = 2\n", 3, "does not compile: IndentationError: "),
        ("x = 1\n  y = 2\n", 2, "does not compile: IndentationError: unexpected indent"),
        (
            "x = 1\n<<<<<<< HEAD\nx = 2\n=======\nx = 3\n>>>>>>> topic\n",
            2,
            "does not compile: unresolved merge conflict (marker '<<<<<<<'); "
            "Python says SyntaxError: invalid syntax at line 2",
        ),
        ("import sys\nsys.exit(3)\n", 2, "raised SystemExit: 3"),
        ("x = 1\nundefined_name\n", 2, "raised NameError: name 'undefined_name' is not defined"),
    ],
)
def test_declared_targets_errors_name_line_and_python_error(
    source: str, line: int, said: str
) -> None:
    with pytest.raises(SourceError) as info:
        tree.declared_targets(source, "fam/build.py")
    assert info.value.line == line
    assert info.value.message.startswith(said), info.value.message


def test_broken_family_is_kept_with_its_problem(tmp_path: Path) -> None:
    make_family(tmp_path, build_py="x = 1\n  y = 2\n")
    make_family(tmp_path, "other_phone", build_py="")
    found = tree.discover(tmp_path)
    assert list(found.broken) == ["acme_phone"] and list(found.families) == ["other_phone"]
    family = found.broken["acme_phone"]
    assert not family.loaded and not family.targets
    [problem] = family.problems
    assert problem.line == 2 and problem.fix == "fix the syntax error"
    assert found.errors == family.problems
    # a loaded family with no target at all: every version dir is unbuilt
    other = found.families["other_phone"]
    assert [d.name for d in other.unbuilt_dirs()] == ["v1_0", "v2_0"]


def test_duplicate_plugin_id_across_families_is_a_family_problem(tmp_path: Path) -> None:
    make_family(tmp_path)
    make_family(tmp_path, "acme_phone_bis")
    found = tree.discover(tmp_path)
    bis = found.families["acme_phone_bis"]
    assert [p.message.split(" is also")[0] for p in bis.problems] == [
        "plugin id 'acme-phone-1.0'",
        "plugin id 'acme-phone-2.0'",
    ]
    assert selection.family_checks(bis).problems == bis.problems


def test_select_broken_families_by_prefix_and_known_ids(tmp_path: Path) -> None:
    make_family(tmp_path)
    make_family(tmp_path, "wazo_snom", build_py="def f(:\n")
    make_family(tmp_path, "core", build_py="def f(:\n")
    found = tree.discover(tmp_path)

    def pick(*patterns: str, known: dict[str, list[str]] | None = None) -> tuple[list, list]:
        chosen = selection.select(found, patterns, known)
        return [t.plugin_id for t in chosen.targets], list(chosen.families)

    assert pick("all") == (
        ["acme-phone-1.0", "acme-phone-2.0"],
        ["acme_phone", "core", "wazo_snom"],
    )
    assert pick("wazo-snom-*") == ([], ["wazo_snom"])
    assert pick("wazo-snom-1.0") == ([], ["wazo_snom"])
    assert pick("acme-phone-2*") == (["acme-phone-2.0"], ["acme_phone"])
    # core builds "null": only what it is known to build tells
    with pytest.raises(tree.UnknownTargetError, match="no plugin null"):
        pick("null")
    assert pick("null", known={"core": ["null", "zero"]}) == ([], ["core"])
    assert pick("core-*") == ([], ["core"])


def test_unbuilt_dirs_and_opt_out(tmp_path: Path) -> None:
    family = make_family(tmp_path)
    shutil.copytree(family / "v2_0", family / "v3_0")
    shutil.copytree(family / "v2_0", family / "v4_0")
    (family / "notes").mkdir()  # no plugin-info: not a version dir
    build_py = family / "build.py"
    # named in build.py outside any target (a list for later): not "forgotten"
    build_py.write_text(build_py.read_text() + "\nNEXT = ['v4_0/']\n")
    found = tree.discover(tmp_path).families["acme_phone"]
    assert [d.name for d in found.unbuilt_dirs()] == ["v3_0"]
    (family / "v3_0" / tree.UNBUILT_MARKER).write_text("kept for reference\n")
    assert tree.discover(tmp_path).families["acme_phone"].unbuilt_dirs() == []


def test_source_dirs_follow_helper_calls(tmp_path: Path) -> None:
    build_py = """
from subprocess import check_call

def _copy(path, version_dir):
    check_call(['rsync', '-rlp', 'common/', path])
    check_call(['rsync', '-rlp', version_dir + '/', path])

def _old(path):
    _copy(path, 'v1_0')

@target('1.0', 'acme-phone-1.0')
def build_1_0(path):
    _old(path)

@target('2.0', 'acme-phone-2.0')
def build_2_0(path):
    _copy(path, 'v2_0')
"""
    make_family(tmp_path, build_py=build_py)
    found = tree.discover(tmp_path)
    one, two = found.targets["acme-phone-1.0"], found.targets["acme-phone-2.0"]
    assert [d.name for d in one.source_dirs] == ["v1_0"] and one.source_dir is None
    assert [d.name for d in two.source_dirs] == ["v2_0"] and two.source_dir == two.source_dirs[0]
    assert found.families["acme_phone"].unbuilt_dirs() == []


def _two_trees(tmp_path: Path) -> tuple[tree.PluginTree, Path]:
    base_dir = tmp_path / "base" / "plugins"
    make_family(base_dir)
    head_dir = tmp_path / "head" / "plugins"
    shutil.copytree(base_dir, head_dir)
    return tree.discover(base_dir), head_dir / "acme_phone"


def _removals(base: tree.PluginTree, head_family: Path) -> list[selection.Removal]:
    return gitbase.removals(base, tree.discover(head_family.parent), "origin/master")


def test_removal_with_dir_kept_is_an_error(tmp_path: Path) -> None:
    base, family = _two_trees(tmp_path)
    build_py = family / "build.py"
    build_py.write_text(build_py.read_text().split(TARGET_2_0)[0])
    [removal] = _removals(base, family)
    assert (removal.plugin_id, removal.family, removal.deliberate) == (
        "acme-phone-2.0",
        "acme_phone",
        False,
    )
    assert removal.problem is not None
    assert str(removal.problem) == (
        "plugins/acme_phone/build.py: plugin acme-phone-2.0 was built at origin/master by "
        "acme_phone/build.py:11 (@target '2.0'); no target builds it now, but its version dir "
        "plugins/acme_phone/v2_0 is still here (fix: restore the @target, or delete the "
        "version dir too if the plugin is retired)"
    )
    checks = selection.family_checks(tree.discover(family.parent).families["acme_phone"], [removal])
    assert checks.removed == [removal] and [d.name for d in checks.unbuilt] == ["v2_0"]


def test_removals_told_deliberate(tmp_path: Path) -> None:
    base, family = _two_trees(tmp_path)
    build_py = family / "build.py"
    text = build_py.read_text()
    # renamed plugin id, same version dir
    build_py.write_text(text.replace("'acme-phone-2.0'", "'acme-phone-2.0.1'"))
    [renamed] = _removals(base, family)
    assert renamed.deliberate and "renamed; its version dir is built by acme-phone-2.0.1" in (
        renamed.reason
    )
    # target and version dir deleted together
    build_py.write_text(text.split(TARGET_2_0)[0])
    shutil.rmtree(family / "v2_0")
    [retired] = _removals(base, family)
    assert retired.deliberate and retired.reason.endswith("plugins/acme_phone/v2_0 deleted with it")
    assert (
        selection.family_checks(tree.discover(family.parent).families["acme_phone"]).removed == []
    )
    # the whole family deleted
    shutil.rmtree(family)
    (family.parent / "keep").mkdir()
    gone = _removals(base, family)
    assert [(r.plugin_id, r.deliberate) for r in gone] == [
        ("acme-phone-1.0", True),
        ("acme-phone-2.0", True),
    ]
    assert gone[0].reason.endswith("family acme_phone was deleted")


def test_broken_family_removals_are_left_to_its_build_py_item(tmp_path: Path) -> None:
    base, family = _two_trees(tmp_path)
    (family / "build.py").write_text("def f(:\n")
    assert _removals(base, family) == []


def test_remember_and_recall_last_good_parse(tmp_path: Path) -> None:
    make_family(tmp_path / "plugins")
    found = tree.discover(tmp_path / "plugins")
    selection.remember(found, tmp_path / "cache")
    family = found.families["acme_phone"]
    assert selection.recall(family, tmp_path / "cache") == ["acme-phone-1.0", "acme-phone-2.0"]
    (tmp_path / "cache" / "known-targets.json").write_text("{not json")
    assert selection.recall(family, tmp_path / "cache") == []
