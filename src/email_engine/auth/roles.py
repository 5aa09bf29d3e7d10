"""Named roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # read everything
    INGEST = "ingest"  # only post accounting records (PowerMTA pipe keys)
    OPERATOR = "operator"  # read and write inventory, warmup, checks
    ADMIN = "admin"  # everything, including users and keys


_RANK = {Role.INGEST: 0, Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


def role_allows(held: Role, needed: Role) -> bool:
    """Whether a principal holding ``held`` may do what needs ``needed``.

    The ingest role is a narrow side door: it may ingest and nothing else, while operators and
    admins may ingest too.
    """
    if needed is Role.INGEST:
        return held in (Role.INGEST, Role.OPERATOR, Role.ADMIN)
    if held is Role.INGEST:
        return False
    return _RANK[held] >= _RANK[needed]
