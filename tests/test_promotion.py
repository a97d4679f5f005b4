"""The testing → stable promotion check and the provd-harness CLI around it."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_provd import tree
from pytest_provd.cli import main
from pytest_provd.tree.promotion import check_promotion, check_server


def make_server(root: Path, plugins: dict[str, str]) -> Path:
    for plugin_id, version in plugins.items():
        plugin = root / "src" / f"{plugin_id}-{version}" / plugin_id
        plugin.mkdir(parents=True)
        info = {"version": version, "description": plugin_id, "capabilities": {}}
        (plugin / "plugin-info").write_text(json.dumps(info))
        (plugin / "entry.py").write_text(f"# {plugin_id} {version}\n")
        tree.package(plugin, root)
    tree.write_plugins_db(root)
    return root


def test_clean_promotion_passes(tmp_path: Path) -> None:
    stable = make_server(tmp_path / "stable", {"a": "0.4", "b": "1.0"})
    testing = make_server(tmp_path / "testing", {"a": "0.5", "b": "1.0", "c": "0.1"})
    assert check_promotion(stable, testing) == []


def test_disappearing_plugin_needs_archive(tmp_path: Path) -> None:
    stable = make_server(tmp_path / "stable", {"a": "0.4", "gone": "1.0"})
    testing = make_server(tmp_path / "testing", {"a": "0.4"})
    (problem,) = check_promotion(stable, testing)
    assert "gone 1.0 disappears without being archived" in problem.message
    archive = make_server(tmp_path / "archive", {"gone": "1.0"})
    assert check_promotion(stable, testing, archive) == []


def test_changed_plugin_must_increase_version(tmp_path: Path) -> None:
    stable = make_server(tmp_path / "stable", {"a": "0.10"})
    testing = make_server(tmp_path / "testing", {"a": "0.9"})
    (problem,) = check_promotion(stable, testing)
    assert "does not increase (stable 0.10, testing 0.9)" in problem.message


def test_tarball_must_match_plugins_db(tmp_path: Path) -> None:
    server = make_server(tmp_path / "s", {"a": "0.4"})
    db = json.loads((server / "plugins.db").read_text())
    db["a"]["sha1sum"] = "0" * 40
    db["a"]["dsize"] = 1
    (server / "plugins.db").write_text(json.dumps(db))
    (server / "stray-1.tar.bz2").write_bytes(b"x")
    messages = [p.message for p in check_server(server)]
    assert any(m.startswith("dsize 1 but") for m in messages)
    assert any(m.startswith("sha1sum '000") for m in messages)
    assert "tarball is not listed in plugins.db" in messages


def test_cli_promote_check_exit_codes(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    stable = make_server(tmp_path / "stable", {"a": "0.4"})
    testing = make_server(tmp_path / "testing", {"a": "0.4.01"})
    assert main(["promote-check", "--stable", str(stable), "--testing", str(testing)]) == 0
    assert "promotion check passed" in capsys.readouterr().out
    (testing / "plugins.db").write_text("{bad")
    assert main(["promote-check", "--stable", str(stable), "--testing", str(testing)]) == 2
    assert "plugins.db:1: invalid JSON" in capsys.readouterr().err
