"""The provd names plugins import must exist in our compat namespace.

The contract is the static list below (checked everywhere) plus, when the real plugins tree
is present, every ``from (wazo_)provd... import ...`` and ``module.attribute`` use found in it.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

from pytest_provd.compat import activate

REAL = Path(os.environ.get("PYTEST_PROVD_REAL_TREE", "/tmp/real/plugins-repo"))

# (module, attribute) pairs real plugins use, measured on wazo-provd-plugins.
CONTRACT: list[tuple[str, str]] = [
    ("wazo_provd.plugins", "Plugin"),
    ("wazo_provd.plugins", "StandardPlugin"),
    ("wazo_provd.plugins", "TemplatePluginHelper"),
    ("wazo_provd.plugins", "FetchfwPluginHelper"),
    ("wazo_provd.plugins", "add_xivo_phonebook_url"),
    ("wazo_provd.plugins", "add_xivo_phonebook_url_from_format"),
    ("wazo_provd.plugins", "add_wazo_phoned_user_service_url"),
    ("wazo_provd.devices.pgasso", "BasePgAssociator"),
    ("wazo_provd.devices.pgasso", "DeviceSupport"),
    ("wazo_provd.devices.ident", "RequestType"),
    ("wazo_provd.devices.ident", "DHCPRequest"),
    ("wazo_provd.devices.config", "RawConfigError"),
    ("wazo_provd.servers.http", "HTTPNoListingFileService"),
    ("wazo_provd.servers.http_site", "Request"),
    ("wazo_provd.servers.tftp.service", "TFTPFileService"),
    ("wazo_provd.servers.tftp.service", "TFTPNullService"),
    ("wazo_provd.servers.tftp.service", "TFTPRequest"),
    ("wazo_provd.servers.tftp.packet", "Packet"),
    ("wazo_provd.synchronize", "standard_sip_synchronize"),
    ("wazo_provd.tzinform", "get_timezone_info"),
    ("wazo_provd.tzinform", "TimezoneNotFoundError"),
    ("wazo_provd.tzinform", "Time"),
    ("wazo_provd.tzinform", "TextTimezoneInfoDB"),
    ("wazo_provd.tzinform", "week_start_on_monday"),
    ("wazo_provd.util", "format_mac"),
    ("wazo_provd.util", "norm_mac"),
    ("wazo_provd.util", "norm_uuid"),
    ("wazo_provd.util", "is_normed_uuid"),
    ("wazo_provd.services", "JsonConfigPersister"),
    ("wazo_provd.services", "PersistentConfigurationServiceDecorator"),
    ("wazo_provd", "plugins"),
    ("wazo_provd", "synchronize"),
    ("wazo_provd", "tzinform"),
]

# Names real plugins import that current wazo-provd does not provide: compat lacks them too,
# so such a plugin fails to load here exactly as it would on a real provd.
ABSENT_IN_PROVD: set[tuple[str, str]] = {
    ("wazo_provd.services", "PersistentConfigureServiceDecorator"),
}

# Methods plugins call on objects the compat layer hands them.
METHODS: list[tuple[str, str, str]] = [
    ("wazo_provd.plugins", "TemplatePluginHelper", "get_dev_template"),
    ("wazo_provd.plugins", "TemplatePluginHelper", "get_template"),
    ("wazo_provd.plugins", "TemplatePluginHelper", "dump"),
    ("wazo_provd.plugins", "TemplatePluginHelper", "render"),
    ("wazo_provd.plugins", "FetchfwPluginHelper", "new_downloaders"),
    ("wazo_provd.plugins", "FetchfwPluginHelper", "services"),
    ("wazo_provd.servers.http_site", "Request", "getHeader"),
    ("wazo_provd.servers.http_site", "Request", "setHeader"),
    ("wazo_provd.servers.http_site", "Request", "setResponseCode"),
]


def _resolve(module: str, name: str) -> object:
    # As ``from module import name`` does: a submodule not imported yet is imported (the
    # result must not depend on which test imported it first).
    parent = importlib.import_module(module)
    if not hasattr(parent, name) and hasattr(parent, "__path__"):
        importlib.import_module(f"{module}.{name}")
    return getattr(parent, name)


@pytest.fixture(scope="module", autouse=True)
def _compat() -> None:
    activate()


@pytest.mark.parametrize(("module", "name"), CONTRACT, ids=lambda v: str(v))
@pytest.mark.parametrize("prefix", ["wazo_provd", "provd"])
def test_static_contract(prefix: str, module: str, name: str) -> None:
    legacy = prefix + module.removeprefix("wazo_provd")
    assert _resolve(legacy, name) is _resolve(module, name)


@pytest.mark.parametrize(("module", "cls", "method"), METHODS)
def test_static_methods(module: str, cls: str, method: str) -> None:
    assert callable(getattr(_resolve(module, cls), method))


def test_static_contract_detects_missing_names() -> None:
    with pytest.raises(AttributeError):
        _resolve("wazo_provd.plugins", "NoSuchHelper")


def real_tree_uses(plugins_root: Path) -> set[tuple[str, str]]:
    """(module, name) of every provd import and ``provd_module.attr`` use in *plugins_root*."""
    found: set[tuple[str, str]] = set()
    for path in sorted(plugins_root.rglob("*.py")):
        if "tests" in path.parts or path.name.startswith("test_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                top = node.module.split(".")[0]
                if top not in ("wazo_provd", "provd"):
                    continue
                module = "wazo_provd" + node.module[len(top) :]
                for alias in node.names:
                    found.add((module, alias.name))
                    aliases[alias.asname or alias.name] = f"{module}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                module, _, name = aliases[node.value.id].rpartition(".")
                # Only attributes of provd *modules* (plugins.x, tzinform.y...) are contract.
                if isinstance(getattr(importlib.import_module(module), name, None), ModuleType):
                    found.add((f"{module}.{name}", node.attr))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not (REAL / "plugins").is_dir(), reason=f"no real tree at {REAL}")
def test_real_tree_contract() -> None:
    uses = real_tree_uses(REAL / "plugins")
    assert len(uses) >= 30, uses
    missing = []
    for module, name in sorted(uses - ABSENT_IN_PROVD):
        try:
            _resolve(module, name)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{name}")
    assert not missing, f"names real plugins use but compat lacks: {missing}"
    # The static list (what CI without the tree checks) must cover what the tree uses.
    uncovered = sorted(
        f"{m}.{n}" for m, n in uses - set(CONTRACT) - ABSENT_IN_PROVD if not n.startswith("wazo_")
    )
    assert not uncovered, f"add to CONTRACT: {uncovered}"


@pytest.mark.parametrize(("module", "name"), sorted(ABSENT_IN_PROVD))
def test_names_provd_lacks_are_absent(module: str, name: str) -> None:
    with pytest.raises((ImportError, AttributeError)):
        _resolve(module, name)
