"""``provd-harness serve``: the embedded provd with working-tree plugins, for a real phone.

Builds the selected targets, installs them in an embedded provd, prints the addresses to give
the phone, and rebuilds + reloads a target whenever its family directory changes (polled,
once a second), which replaces provd's ``plugins.reload(...)`` / ``cache_plugin`` routine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_provd import tree
from pytest_provd.problems import SourceError

if TYPE_CHECKING:
    from pytest_provd.provd.server import EmbeddedProvd

_POLL_S = 1.0


def serve(
    targets: list[tree.Target],
    *,
    bind: str = "127.0.0.1",
    rest_port: int = 0,
    http_port: int = 0,
    tftp_port: int = 0,
    duration: float | None = None,
) -> int:
    """Run until Ctrl-C (or *duration* seconds); returns an exit status."""
    # Lazy: the CLI's other commands must not pay for aiohttp and twisted.
    from pytest_provd.provd.server import EmbeddedProvd

    if bind != "127.0.0.1":
        print(
            f"warning: binding {bind}: the REST API is then reachable from the network; "
            "it has no authentication unless you front it",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="provd-serve-") as tmp:
        provd = EmbeddedProvd(
            Path(tmp) / "state",
            bind=bind,
            rest_port=rest_port,
            http_port=http_port,
            tftp_port=tftp_port,
        )
        with provd:
            digests = {}
            for target in targets:
                _install(provd, target, Path(tmp))
                digests[target.plugin_id] = tree.family_digest(target.family)
            print(f"REST {provd.rest_url}")
            print(f"HTTP {provd.http_url}")
            print(f"TFTP tftp://{provd.tftp_address[0]}:{provd.tftp_address[1]}/")
            sys.stdout.flush()
            deadline = None if duration is None else time.monotonic() + duration
            try:
                while deadline is None or time.monotonic() < deadline:
                    time.sleep(_POLL_S if deadline is None else min(_POLL_S, duration or 0))
                    for target in targets:
                        digest = tree.family_digest(target.family)
                        if digest != digests[target.plugin_id]:
                            digests[target.plugin_id] = digest
                            _install(provd, target, Path(tmp))
                            print(f"reloaded {target.plugin_id}", flush=True)
            except KeyboardInterrupt:
                pass
    return 0


def _install(provd: EmbeddedProvd, target: tree.Target, tmp: Path) -> None:
    # Lazy, as in serve(): loaded with the server anyway.
    from pytest_provd.provd.plugins.errors import PluginError

    try:
        built = tree.build(target, tmp / "built")
        provd.install_plugin_dir(built)
    except (SourceError, PluginError) as exc:
        print(f"error: {target.plugin_id}: {exc}", file=sys.stderr, flush=True)
