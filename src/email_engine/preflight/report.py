"""The GO/NO-GO verdict over checklist items (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from email_engine.platform.preflight import Item


def verdict(items: Sequence[Item]) -> bool:
    """GO only when nothing failed. Skipped items (not configured) do not block, but are listed."""
    return bool(items) and all(item.status != "fail" for item in items)


def summary(items: Sequence[Item]) -> dict[str, Any]:
    counts = {
        status: sum(1 for item in items if item.status == status) for status in ("pass", "fail", "skip")
    }
    return {"go": verdict(items), "counts": counts, "items": [item.as_dict() for item in items]}
