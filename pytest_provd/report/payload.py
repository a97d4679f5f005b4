"""What generated items carry on their test reports for JUnit and ``--provd-report``.

Every value is JSON-serialisable and bounded, so it travels from pytest-xdist workers to the
controller.  Two kinds:

* identity properties, on every generated item (so in its JUnit ``<properties>``):
  :data:`TARGET_KEY`, :data:`MODEL_KEY`, :data:`VENDOR_KEY`, :data:`TIER_KEY`,
  :data:`CHECK_KEY` (or :data:`FAMILY_KEY` for a family's own items) and one
  :data:`FINGERPRINT_KEY` per distinct problem of a failure;
* evidence, on the call report only (never in JUnit), with ``--provd-report``: the
  problems in full (:data:`PROBLEMS_KEY`), the files a model was given (:data:`FILES_KEY`)
  and what its emulated phone did (:data:`PHONE_KEY`).
"""

from __future__ import annotations

from typing import Any

from pytest_provd.problems import Problem

TARGET_KEY = "provd_target"
MODEL_KEY = "provd_model"
VENDOR_KEY = "provd_vendor"
TIER_KEY = "provd_tier"
CHECK_KEY = "provd_check"
FAMILY_KEY = "provd_family"
FINGERPRINT_KEY = "provd_fingerprint"
PROBLEMS_KEY = "provd_problems"
FILES_KEY = "provd_files"
PHONE_KEY = "provd_phone"

MAX_FILE_BYTES = 64 * 1024
"""A rendered file is cut here in the report (with a note); its size is kept."""
MAX_FILES = 64
MAX_PROBLEMS = 50
MAX_TEXT_CHARS = 8 * 1024
MAX_FETCHES = 100


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """*text*, cut at *limit* characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters left out]"


def problem_entry(problem: Problem, fingerprint: str) -> dict[str, Any]:
    """A problem as the report shows it: where, the source line, what, the fix."""
    return {
        "path": str(problem.path),
        "line": problem.line,
        "section": problem.section,
        "message": clip(problem.message),
        "fix": clip(problem.fix) if problem.fix else None,
        "source": problem.source,
        "fingerprint": fingerprint,
    }


def file_entry(name: str, data: bytes, served: str | None = None) -> dict[str, Any]:
    """A rendered file: its name, size, how it is served, its text (cut at
    :data:`MAX_FILE_BYTES`; binary content is described, not shown)."""
    entry: dict[str, Any] = {"name": name, "size": len(data), "served": served, "note": None}
    head = data[:MAX_FILE_BYTES]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not merely a character cut in two at the limit
            entry["text"] = None
            entry["note"] = "binary content, not shown"
            return entry
        text = head[: exc.start].decode("utf-8")
    entry["text"] = text
    if len(data) > MAX_FILE_BYTES:
        entry["note"] = f"cut at {MAX_FILE_BYTES} B of {len(data)} B"
    return entry
