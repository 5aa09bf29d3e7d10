"""FastAPI dependencies shared by every router: the process context, its settings, a session.

Who is calling (``CurrentPrincipal``, ``OperatorDep``, ``AdminDep``, ``require_role``) is auth's:
``email_engine.auth.deps``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.context import AppContext

__all__ = ["ContextDep", "SessionDep", "SettingsDep"]


def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


def get_settings_dep(ctx: ContextDep) -> Settings:
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_session(ctx: ContextDep) -> Iterator[Session]:
    """A session per request. Routers commit explicitly; anything uncommitted is rolled back."""
    session = ctx.session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
