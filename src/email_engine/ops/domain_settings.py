"""Per-process settings objects of domains, kept in ``AppContext.extras``.

A domain's ``BaseSettings`` is read from the environment once per context. Tests (and embedding
code) install their own instance with :func:`install_settings` instead of touching ``os.environ``.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic_settings import BaseSettings

from email_engine.context import AppContext

__all__ = ["domain_settings", "install_settings"]

T = TypeVar("T", bound=BaseSettings)


def _key(cls: type[BaseSettings]) -> str:
    return f"settings:{cls.__module__}.{cls.__qualname__}"


def domain_settings(ctx: AppContext, cls: type[T]) -> T:
    value = ctx.extras.get(_key(cls))
    if not isinstance(value, cls):
        value = cls()
        ctx.extras[_key(cls)] = value
    return value


def install_settings(ctx: AppContext, value: BaseSettings) -> None:
    ctx.extras[_key(type(value))] = value
