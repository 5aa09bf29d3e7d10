"""Settings composed once: the core keys and one section per domain, kept in one object.

:class:`ComposedSettings` is the base of ``email_engine.config.Settings``, the settings object a
context holds (``ctx.settings``). A domain keeps its keys in a ``BaseSettings`` section of its own
(``<domain>/settings.py``) and reads it with ``ctx.settings.section(WarmupSettings)``: the section
is read from the environment the first time it is asked for and kept with the settings object.
Tests (and embedding code) give their own with ``settings.install(section)`` instead of touching
``os.environ``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from pydantic import PrivateAttr, SecretStr, ValidationError
from pydantic_settings import BaseSettings
from sqlalchemy.orm import Session

from email_engine.plugins import domain_modules

__all__ = ["SESSION_SETTINGS", "ComposedSettings", "secret_fields", "section_classes", "session_section"]

S = TypeVar("S", bound=BaseSettings)


def section_classes() -> list[type[BaseSettings]]:
    """Every section the domains define (the ``BaseSettings`` classes of each ``<domain>/settings.py``)."""
    return [
        value
        for module in domain_modules("settings")
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == module.__name__
    ]


def secret_fields(cls: type[BaseSettings]) -> list[str]:
    """Names of the fields of ``cls`` that hold a secret (typed ``SecretStr``)."""
    return [
        name
        for name, info in cls.model_fields.items()
        if info.annotation is SecretStr or SecretStr in getattr(info.annotation, "__args__", ())
    ]


class ComposedSettings(BaseSettings):
    _sections: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    def section(self, cls: type[S]) -> S:
        """The domain's settings section: read from the environment once, then kept here."""
        found = self._sections.get(cls)
        if not isinstance(found, cls):
            found = cls()
            self._sections[cls] = found
        return found

    def install(self, *sections: BaseSettings) -> None:
        """Use these sections instead of reading them from the environment."""
        for value in sections:
            self._sections[type(value)] = value

    def secret_values(self) -> list[str]:
        """The value of every secret setting, core and sections, for redaction.

        A section that does not build (a malformed value) is left out: the check that reads it
        reports why, and pydantic never echoes the input of the sections that hold secrets.
        """
        return [value for owner in self._owners() for value in _secrets_of(owner)]

    def _owners(self) -> Iterator[BaseSettings]:
        yield self
        for cls in section_classes():
            try:
                yield self.section(cls)
            except ValidationError:
                continue


def _secrets_of(owner: BaseSettings) -> Iterator[str]:
    for name in secret_fields(type(owner)):
        value = getattr(owner, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            yield value.get_secret_value()


#: The ``Session.info`` key under which a context's sessions carry its settings (``build_context``).
SESSION_SETTINGS = "settings"


def session_section(session: Session, cls: type[S]) -> S:
    """A section for code that holds only a session: the settings of the context that opened it.

    A session opened outside a context (the pipe's own factory) reads the section from the environment.
    """
    settings = session.info.get(SESSION_SETTINGS)
    return settings.section(cls) if isinstance(settings, ComposedSettings) else cls()
