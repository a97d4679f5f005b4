"""pytest entry point: options, hooks and fixtures of pytest-provd (wiring only)."""

from __future__ import annotations
