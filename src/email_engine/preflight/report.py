"""Checklist items and the GO/NO-GO verdict (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

ItemStatus = Literal["pass", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist line. ``fix`` is one sentence saying what to do when it is not a pass."""

    name: str
    status: ItemStatus
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verdict(items: Sequence[Item]) -> bool:
    """GO only when nothing failed. Skipped items (not configured) do not block, but are listed."""
    return bool(items) and all(item.status != "fail" for item in items)


def summary(items: Sequence[Item]) -> dict[str, Any]:
    counts = {
        status: sum(1 for item in items if item.status == status) for status in ("pass", "fail", "skip")
    }
    return {"go": verdict(items), "counts": counts, "items": [item.as_dict() for item in items]}
