"""The plugin tree: families and targets, builds, plugin-server packaging and git bases.

Re-exports :mod:`.model`, :mod:`.build` and :mod:`.packaging`; :mod:`.selection`,
:mod:`.gitbase`, :mod:`.promotion` and :mod:`.rsync_shim` are imported on their own.
"""

from pytest_provd.tree.build import (
    STD_DIRS,
    BuildError,
    build,
    build_cached,
    built_digest,
    built_files,
    default_cache_dir,
    family_digest,
    family_files,
    tool_path_prefix,
)
from pytest_provd.tree.model import (
    BUILD_FILENAME,
    PLUGIN_INFO,
    UNBUILT_MARKER,
    Family,
    PluginTree,
    Target,
    UnknownTargetError,
    declared_targets,
    discover,
    find_plugins_dir,
    model_variants,
    plugin_id_prefix,
    read_plugin_info,
)
from pytest_provd.tree.packaging import make_plugin_server, package, write_plugins_db

__all__ = [
    "BUILD_FILENAME",
    "PLUGIN_INFO",
    "STD_DIRS",
    "UNBUILT_MARKER",
    "BuildError",
    "Family",
    "PluginTree",
    "Target",
    "UnknownTargetError",
    "build",
    "build_cached",
    "built_digest",
    "built_files",
    "declared_targets",
    "default_cache_dir",
    "discover",
    "family_digest",
    "family_files",
    "find_plugins_dir",
    "make_plugin_server",
    "model_variants",
    "package",
    "plugin_id_prefix",
    "read_plugin_info",
    "tool_path_prefix",
    "write_plugins_db",
]
