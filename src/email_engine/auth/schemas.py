from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, computed_field, model_validator

from email_engine.auth.roles import Role
from email_engine.platform.schemas import StrictModel, Trimmed

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class LoginRequest(StrictModel):
    email: EmailStr
    password: Trimmed = Field(min_length=1, max_length=1024)


class RefreshRequest(StrictModel):
    refresh_token: Trimmed = Field(min_length=1, max_length=4096)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth2 token type, not a secret
    expires_in: int


class UserCreate(StrictModel):
    email: EmailStr
    username: Trimmed = Field(pattern=NAME_PATTERN)
    password: Trimmed = Field(min_length=12, max_length=1024)
    role: Role = Role.VIEWER


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    username: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def disabled(self) -> bool:
        return not self.is_active


class UserUpdate(StrictModel):
    """Disable or enable a user, or change the role. Disabling and a role change end the user's tokens."""

    disabled: bool | None = None
    role: Role | None = None

    @model_validator(mode="after")
    def _something(self) -> UserUpdate:
        if self.disabled is None and self.role is None:
            raise ValueError('send "disabled" (true or false), "role", or both')
        return self


class PasswordReset(StrictModel):
    password: Trimmed = Field(
        min_length=12, max_length=1024, description="The new password (at least 12 characters)"
    )


class PasswordChange(StrictModel):
    current_password: Trimmed = Field(min_length=1, max_length=1024)
    new_password: Trimmed = Field(min_length=12, max_length=1024)


class ApiKeyCreate(StrictModel):
    name: Trimmed = Field(pattern=NAME_PATTERN)
    role: Role = Role.VIEWER
    expires_at: datetime | None = None


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself. It is shown once and stored only as a hash.")


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_kind: str
    action: str
    target: str
    status_code: int
    client_address: str | None
    details: dict[str, Any] | None
