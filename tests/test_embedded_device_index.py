"""The embedded provd's device and config indexes answer every look-up exactly as a scan would."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_provd.provd.domain.configs import ConfigManager
from pytest_provd.provd.domain.devices import DeviceManager, UnknownDevice

VALUES = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]), st.just(1), st.just(True))
UNHASHABLE = st.sampled_from([["a"], {"x": 1}])
KEYS = ("mac", "ip", "plugin", "config", "vendor")
DEVICE = st.dictionaries(st.sampled_from(KEYS), st.one_of(VALUES, UNHASHABLE), max_size=4)
OPS = st.lists(
    st.tuples(st.sampled_from(["insert", "update", "delete"]), st.integers(0, 5), DEVICE),
    max_size=30,
)
QUERY = st.dictionaries(st.sampled_from(KEYS), st.one_of(VALUES, UNHASHABLE), max_size=2)


def _scan(model: dict[str, dict[str, Any]], query: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for d in model.values() if all(d.get(k) == v for k, v in query.items())]


@settings(max_examples=300, deadline=None)
@given(OPS, st.lists(QUERY, min_size=1, max_size=5))
def test_find_matches_a_scan_in_order(ops: list[Any], queries: list[Any]) -> None:
    manager = DeviceManager()
    model: dict[str, dict[str, Any]] = {}  # a plain dict keeps provd's insertion order
    for op, n, fields in ops:
        device_id = f"d{n}"
        device = {**copy.deepcopy(fields), "id": device_id}
        if op == "insert" and device_id not in model:
            manager.insert(copy.deepcopy(device))
            model[device_id] = device
        elif op == "update" and device_id in model:
            manager.update(copy.deepcopy(device))
            model[device_id] = device
        elif op == "delete" and device_id in model:
            assert manager.delete(device_id) == model.pop(device_id)
    for query in queries:
        assert manager.find(**query) == _scan(model, query)
        for key, value in query.items():
            values = [value, "a"]
            expected = [d for d in model.values() if any(d.get(key) == v for v in values)]
            assert manager.find_in(key, values) == expected
    assert manager.all() == list(model.values())


def test_found_devices_are_copies() -> None:
    manager = DeviceManager()
    manager.insert({"id": "d1", "mac": "00:00:00:00:00:01", "options": {"switchboard": True}})
    found = manager.find(mac="00:00:00:00:00:01")[0]
    found["options"]["switchboard"] = False
    del found["mac"]
    assert manager.get("d1") == {
        "id": "d1",
        "mac": "00:00:00:00:00:01",
        "options": {"switchboard": True},
    }
    assert manager.find(mac="00:00:00:00:00:01")[0]["id"] == "d1"


def test_a_changed_field_leaves_the_old_index_entry() -> None:
    manager = DeviceManager()
    manager.insert({"id": "d1", "ip": "192.0.2.1"})
    manager.insert({"id": "d2", "ip": "192.0.2.2"})
    manager.update({"id": "d1", "ip": "192.0.2.2"})
    assert manager.find(ip="192.0.2.1") == []
    assert [d["id"] for d in manager.find(ip="192.0.2.2")] == ["d1", "d2"]
    manager.clear()
    assert manager.find(ip="192.0.2.2") == []
    try:
        manager.update({"id": "d1"})
    except UnknownDevice:
        pass
    else:
        raise AssertionError("update of a forgotten device succeeded")


CONFIG_OPS = st.lists(
    st.tuples(
        st.sampled_from(["insert", "update", "delete", "clear"]),
        st.integers(0, 5),
        st.lists(st.sampled_from([f"c{n}" for n in range(6)] + ["base"]), max_size=3),
    ),
    max_size=30,
)


def _descendants_by_scan(configs: dict[str, list[str]], config_id: str) -> set[str]:
    found: set[str] = set()
    stack = [config_id]
    while stack:
        current = stack.pop()
        for cid, parents in configs.items():
            if current in parents and cid not in found:
                found.add(cid)
                stack.append(cid)
    return found


@settings(max_examples=300, deadline=None)
@given(CONFIG_OPS)
def test_config_descendants_match_a_scan(ops: list[Any]) -> None:
    manager = ConfigManager()
    model: dict[str, list[str]] = {}
    for op, n, parents in ops:
        config_id = f"c{n}"
        config = {"id": config_id, "parent_ids": list(parents), "raw_config": {}}
        if op == "insert" and config_id not in model:
            manager.insert(config)
            model[config_id] = list(parents)
        elif op == "update" and config_id in model:
            manager.update(config)
            model[config_id] = list(parents)
        elif op == "delete" and config_id in model:
            manager.delete(config_id)
            del model[config_id]
        elif op == "clear":
            manager.clear()
            model.clear()
    for config_id in [f"c{n}" for n in range(6)] + ["base"]:
        assert manager.descendants(config_id) == _descendants_by_scan(model, config_id)
