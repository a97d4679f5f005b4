"""Property tests over the public strategies: order, round trips, corruption detection."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pytest_provd import pkgsdb
from pytest_provd import strategies as pst
from pytest_provd.versions import Version, compare, parse_version


@given(st.lists(pst.versions(), min_size=3, max_size=3))
def test_version_order_is_total_and_transitive(vs: list[str]) -> None:
    a, b, c = map(Version, vs)
    assert (a <= b) or (b <= a)
    assert (a == b) == (compare(vs[0], vs[1]) == 0)
    if a <= b <= c:
        assert a <= c
    if a < b:
        assert not b < a


@given(pst.versions())
def test_version_text_round_trip(text: str) -> None:
    assert str(parse_version(text)) == text
    assert parse_version(parse_version(text).canonical) == parse_version(text)


@given(pst.pkgs_db_texts())
def test_valid_pkgs_db_passes_and_round_trips(text: str) -> None:
    db = pkgsdb.parse(text)
    assert pkgsdb.check(db) == []
    again = pkgsdb.parse(pkgsdb.dump(db))
    assert pkgsdb.dump(again) == pkgsdb.dump(db)
    assert {k: (p.version, p.files, p.install) for k, p in again.packages.items()} == {
        k: (p.version, p.files, p.install) for k, p in db.packages.items()
    }


@given(pst.corrupted_pkgs_db_texts())
def test_every_single_corruption_is_detected(case: tuple[str, str]) -> None:
    corruption, text = case
    problems = pkgsdb.check(pkgsdb.parse(text))
    assert problems, f"{corruption} went unnoticed:\n{text}"
    assert all(p.line is not None and p.section for p in problems)


@given(pst.plugin_infos())
def test_plugin_infos_have_capability_keys_of_three_parts(info: dict[str, object]) -> None:
    caps = info["capabilities"]
    assert isinstance(caps, dict) and caps
    assert all(len(key.split(", ")) == 3 for key in caps)
    parse_version(str(info["version"]))


@given(pst.mac_addresses())
def test_macs_are_unicast(mac: str) -> None:
    assert int(mac.split(":")[0], 16) & 1 == 0
