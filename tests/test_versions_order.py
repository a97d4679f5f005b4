"""The one version order: the documented examples and agreement with PEP 440."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version as Pep440

from pytest_provd.versions import Version, VersionError, compare, is_newer, parse_version

CHAINS = [
    ["0.4", "0.4.01", "0.4.02", "0.5"],
    ["0.9", "0.10", "1.0.0", "1.0.1"],
    ["8.7.3.25", "8.7.3.25.5", "10.1.215.13"],
    ["6.4.0", "6.4.0-SP2", "6.4.0.1"],
    ["3.3.1", "3.3.1-SP3", "3.3.1-SP4", "3.3.2"],
    ["6.1.5a", "6.1.5", "6.1.5.post1", "6.1.6"],
]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda c: " < ".join(c))
def test_documented_chains(chain: list[str]) -> None:
    for older, newer in itertools.pairwise(chain):
        assert compare(older, newer) == -1
        assert is_newer(newer, older)


@pytest.mark.parametrize(
    ("a", "b"), [("0.4.1", "0.4.01"), ("1.0", "1.0.0"), ("1.0-SP1", "1.0.sp1")]
)
def test_equal_spellings(a: str, b: str) -> None:
    assert parse_version(a) == parse_version(b)
    assert hash(parse_version(a)) == hash(parse_version(b))
    assert str(parse_version(a)) == a


@pytest.mark.parametrize("bad", ["", "1..2", "1.2 beta", "1/2", ".1", "1.", "v1.0!"])
def test_invalid_versions(bad: str) -> None:
    with pytest.raises(VersionError, match="invalid version"):
        parse_version(bad)


pep440 = st.builds(
    lambda release, pre, post, dev: (
        ".".join(map(str, release))
        + (f"{pre[0]}{pre[1]}" if pre else "")
        + (f".post{post}" if post is not None else "")
        + (f".dev{dev}" if dev is not None and not pre and post is None else "")
    ),
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 3)),
    st.none() | st.integers(0, 3),
    st.none() | st.integers(0, 3),
)


@given(pep440, pep440)
def test_agrees_with_packaging(a: str, b: str) -> None:
    expected = (Pep440(a) > Pep440(b)) - (Pep440(a) < Pep440(b))
    assert compare(a, b) == expected


@given(st.lists(pep440, min_size=3, max_size=3))
def test_total_order(vs: list[str]) -> None:
    a, b, c = map(Version, vs)
    assert (a <= b) or (b <= a)
    if a <= b and b <= a:
        assert a == b
    if a <= b <= c:
        assert a <= c


def test_real_tree_spellings_parse() -> None:
    samples = "01.133 1.3.5p 11-3-1MSR3-3 12-0-1MPP0001-245 83.V2.39.0 P0.16.5-1.12.2 6.4.SP3"
    for text in samples.split():
        assert str(parse_version(text)) == text
    assert sorted(map(Version, ["1.0.10", "1.0.9", "1.0.10-SP1"])) == list(
        map(Version, ["1.0.9", "1.0.10", "1.0.10-SP1"])
    )
    assert all(compare(x, x) == 0 for x in itertools.islice(samples.split(), 3))


@pytest.mark.parametrize("text", ["0a", "0.0-rc1", "0", "0.0"])
def test_canonical_of_a_zero_version_is_a_version_equal_to_it(text: str) -> None:
    version = parse_version(text)
    assert parse_version(version.canonical) == version
