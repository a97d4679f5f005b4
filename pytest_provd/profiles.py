"""Hypothesis profiles for property tests over :mod:`pytest_provd.strategies` and your own data.

``--hypothesis-profile=provd`` is the local budget and ``provd-ci`` the CI one (ten times the
examples, derandomized so that a CI failure replays).  Not the ``hostile-values`` item's: the
gate's budget is fixed (25 seeded examples), so a verdict is the same locally and in CI.

Registered by hypothesis itself, through our ``hypothesis`` entry point, whenever it is
imported: the gate does not import hypothesis at start-up (it costs a fifth of a second), yet
its pytest plugin finds the profiles when it loads ``--hypothesis-profile``.  This module
imports nothing of the harness.
"""

from __future__ import annotations

from typing import Any

PROFILES: dict[str, dict[str, Any]] = {
    "provd": {"max_examples": 50, "deadline": None, "derandomize": False},
    "provd-ci": {"max_examples": 500, "deadline": None, "derandomize": True, "print_blob": True},
}
"""The profiles' settings (besides the health checks they suppress)."""


def register_profiles() -> None:
    """Register :data:`PROFILES` with hypothesis.

    Their parent is hypothesis's ``default`` profile, not the loaded one: under ``CI=true``
    hypothesis loads its own ``ci`` profile (derandomized), which ``provd`` must not inherit."""
    from hypothesis import HealthCheck, settings

    parent = settings.get_profile("default")
    too_slow = [HealthCheck.too_slow, HealthCheck.data_too_large]
    for name, values in PROFILES.items():
        settings.register_profile(name, parent, suppress_health_check=too_slow, **values)
