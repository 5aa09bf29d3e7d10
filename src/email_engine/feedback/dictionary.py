"""Dictionary tables: values that repeat across accounting records are stored once and referenced.

A record's outcome (type, DSN status, diagnostic, classification), its route (label, VMTA, source
IP, sender domain) and its recipient domain each live in a small table keyed by a 16-byte digest of
the values (:func:`value_digest`). Ingestion asks :class:`Dictionary` for the ids of a batch's values:
known ones come from a per-engine cache, new ones are inserted (``ON CONFLICT DO NOTHING``, so
concurrent writers agree on one row).

Each entry has ``last_day``: the latest day a record referencing it was stored or logged. Retention
deletes entries whose ``last_day`` is older than the oldest record kept, so the dictionaries shrink
with the records. A cached id is used without asking the database only while its confirmed
``last_day`` is today or later (retention never deletes those); otherwise one ``UPDATE … RETURNING``
moves ``last_day`` forward, which also locks the row against a concurrent purge, and an id that is
gone is looked up again.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Mapping, Sequence
from datetime import date

from sqlalchemy import Engine, Table, select, update
from sqlalchemy.orm import Session

from email_engine.platform.upsert import greatest, insert_for

__all__ = ["Dictionary", "value_digest"]

_SEPARATOR = "\x1f"
_NULL = "\x1e"
_CACHE_LIMIT = 100_000  # entries per table and database (~20 MiB); cleared when full
_PAGE = 500  # rows per statement (9 values each: well under SQLite's and PostgreSQL's bind limits)


def value_digest(values: Sequence[str | None]) -> bytes:
    """16 bytes of SHA-256 over the values joined by U+001F, None written as U+001E.

    The migration that converted stored records computes the same in SQL
    (``substring(sha256(convert_to(concat_ws(E'\\x1f', coalesce(v, E'\\x1e'), …), 'UTF8')) for 16)``).
    """
    text = _SEPARATOR.join(_NULL if value is None else value for value in values)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).digest()[:16]


class Dictionary:
    """Ids for values of one dictionary table (columns ``id``, ``digest``, ``last_day`` and ``columns``)."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        # Per engine: ids differ between databases (tests run several in one process).
        self._caches: weakref.WeakKeyDictionary[Engine, dict[bytes, tuple[int, date]]] = (
            weakref.WeakKeyDictionary()
        )

    def _cache(self, session: Session) -> dict[bytes, tuple[int, date]]:
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        cache = self._caches.get(engine)
        if cache is None or len(cache) > _CACHE_LIMIT:
            cache = {}
            self._caches[engine] = cache
        return cache

    def forget(self, session: Session) -> None:
        """Drop the cache for this session's engine (after a purge in the same process)."""
        engine = session.get_bind()
        if isinstance(engine, Engine):
            self._caches.pop(engine, None)

    def ids(
        self, session: Session, entries: Mapping[bytes, Sequence[str | None]], *, day: date
    ) -> dict[bytes, int]:
        """The id of each digest's entry (inserting new ones), with ``last_day`` at least ``day``."""
        cache = self._cache(session)
        found: dict[bytes, int] = {}
        stale: dict[int, bytes] = {}
        missing: list[bytes] = []
        for digest in entries:
            hit = cache.get(digest)
            if hit is None:
                missing.append(digest)
            elif hit[1] >= day:
                found[digest] = hit[0]
            else:
                stale[hit[0]] = digest
        if stale:
            missing.extend(self._refresh(session, stale, day=day, cache=cache, found=found))
        if missing:
            self._insert(session, missing, entries, day=day, cache=cache, found=found)
        return found

    def _refresh(
        self,
        session: Session,
        stale: dict[int, bytes],
        *,
        day: date,
        cache: dict[bytes, tuple[int, date]],
        found: dict[bytes, int],
    ) -> list[bytes]:
        table = self.table
        kept: set[int] = set()
        ids = list(stale)
        for start in range(0, len(ids), _PAGE):
            page = ids[start : start + _PAGE]
            kept.update(
                session.scalars(
                    update(table)
                    .where(table.c.id.in_(page), table.c.last_day < day)
                    .values(last_day=day)
                    .returning(table.c.id)
                )
            )
            others = [item for item in page if item not in kept]
            if others:  # moved forward by another writer already, or purged
                kept.update(session.scalars(select(table.c.id).where(table.c.id.in_(others))))
        gone: list[bytes] = []
        for item, digest in stale.items():
            if item in kept:
                found[digest] = item
                cache[digest] = (item, day)
            else:
                cache.pop(digest, None)
                gone.append(digest)
        return gone

    def _insert(
        self,
        session: Session,
        missing: list[bytes],
        entries: Mapping[bytes, Sequence[str | None]],
        *,
        day: date,
        cache: dict[bytes, tuple[int, date]],
        found: dict[bytes, int],
    ) -> None:
        for _attempt in range(3):
            self._insert_once(session, missing, entries, day=day, cache=cache, found=found)
            # Purged between our insert and our read (a concurrent retention run): insert again.
            missing = [digest for digest in missing if digest not in found]
            if not missing:
                return
        raise RuntimeError(
            f"{len(missing)} entries of {self.table.name} vanished during ingestion three times"
        )

    def _insert_once(
        self,
        session: Session,
        missing: list[bytes],
        entries: Mapping[bytes, Sequence[str | None]],
        *,
        day: date,
        cache: dict[bytes, tuple[int, date]],
        found: dict[bytes, int],
    ) -> None:
        table = self.table
        for start in range(0, len(missing), _PAGE):
            page = missing[start : start + _PAGE]
            rows = [
                {"digest": digest, "last_day": day, **dict(zip(self.columns, entries[digest], strict=True))}
                for digest in page
            ]
            # One statement: new entries are inserted, known ones get last_day moved forward (and are
            # locked until commit, so a concurrent purge leaves them); both come back with their ids.
            insert = insert_for(session, table)
            stmt = insert.on_conflict_do_update(
                index_elements=["digest"],
                set_={"last_day": greatest(session, table.c.last_day, insert.excluded.last_day)},
            ).returning(table.c.id, table.c.digest)
            # Executemany with RETURNING: SQLAlchemy batches the rows into multi-row statements
            # ("insertmanyvalues") compiled once, instead of one statement text per page.
            for item, digest in session.execute(stmt, rows):
                found[bytes(digest)] = item
                cache[bytes(digest)] = (item, day)
