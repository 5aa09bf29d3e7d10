"""A lease kept in a database row: one holder at a time, taken over once it expires.

The leader lease (``scheduler_lease``) and the per-job locks (``job_lock``) are both taken this way:
one conditional ``UPDATE`` (the row is free, ours, or expired), else an
``INSERT … ON CONFLICT DO NOTHING`` for a row nobody made yet, so two processes racing for a missing
row cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import or_, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from email_engine.platform.upsert import insert_for

__all__ = ["take_lease"]


def take_lease(
    session: Session,
    *,
    key: InstrumentedAttribute[str],
    name: str,
    holder: InstrumentedAttribute[Any],
    identity: str,
    expires: InstrumentedAttribute[Any],
    now: datetime,
    renew: Mapping[str, Any],
    create: Mapping[str, Any] | None = None,
) -> bool:
    """Take or renew the lease row ``key == name`` for ``identity``; False while another holder's runs.

    ``renew`` are the columns written when the row exists (besides ``holder``), ``create`` those of a
    new row (``renew`` when not given); both carry the new expiry.
    """
    table = cast("type[Any]", key.class_)
    taken = session.execute(
        update(table)
        .where(key == name, or_(holder.is_(None), holder == identity, expires < now))
        .values({holder.key: identity, **renew})
        .returning(key)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if taken is not None:
        return True
    inserted = session.execute(
        insert_for(session, table)
        .values({key.key: name, holder.key: identity, **(renew if create is None else create)})
        .on_conflict_do_nothing(index_elements=[key.key])
        .returning(key)
    ).scalar_one_or_none()
    return inserted is not None
