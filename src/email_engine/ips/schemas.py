"""Request and response bodies for the inventory API (validated at the door, see ``validators``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from email_engine.ips import validators as v
from email_engine.ips.lifecycle import IpState, parse_state
from email_engine.ips.validators import IpPurpose
from email_engine.platform.schemas import StrictModel

__all__ = [
    "ActuationPublic",
    "DomainCreate",
    "DomainPublic",
    "DomainUpdate",
    "IpCreate",
    "IpPublic",
    "IpUpdate",
    "PoolCreate",
    "PoolPublic",
    "PoolUpdate",
    "TransitionPublic",
    "TransitionRequest",
]


# MailWizz's delivery_server.server_id is INT(11) (signed): keep ids in 1..2^31-1.
MAX_MAILWIZZ_ID = 2**31 - 1

Address = Annotated[str, Field(max_length=64), AfterValidator(v.normalise_address)]
Hostname = Annotated[str, Field(max_length=260), AfterValidator(v.normalise_hostname)]
DomainName = Annotated[str, Field(max_length=260), AfterValidator(v.normalise_domain)]
Selector = Annotated[str, Field(max_length=70), AfterValidator(v.normalise_dkim_selector)]
VmtaName = Annotated[
    str, Field(max_length=70), AfterValidator(lambda s: v.normalise_slug(s, what="VMTA name"))
]
PoolName = Annotated[
    str, Field(max_length=70), AfterValidator(lambda s: v.normalise_slug(s, what="pool name"))
]
Notes = Annotated[str, Field(max_length=v.MAX_NOTES + 100), AfterValidator(v.clean_notes)]
Reason = Annotated[str, Field(max_length=v.MAX_REASON + 100), AfterValidator(v.clean_reason)]
MailwizzId = Annotated[int, Field(ge=1, le=MAX_MAILWIZZ_ID)]
StateName = Annotated[str, Field(max_length=32), AfterValidator(parse_state)]


class PoolCreate(StrictModel):
    name: PoolName
    purpose: IpPurpose
    notes: Notes | None = None


class PoolUpdate(StrictModel):
    name: PoolName | None = None
    purpose: IpPurpose | None = None
    notes: Notes | None = None


class PoolPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    purpose: str
    notes: str | None
    created_at: datetime
    updated_at: datetime


class IpCreate(StrictModel):
    address: Address
    hostname: Hostname
    purpose: IpPurpose | None = Field(
        default=None,
        description="transactional, marketing or cold. Omitted: the pool's purpose when pool_id is given, "
        "otherwise cold (the most conservative profile). Changeable later with PATCH.",
    )
    vmta_name: VmtaName | None = Field(
        default=None,
        description="PowerMTA virtual-MTA name ([a-z0-9-], at most 64 characters). Omitted: derived from the "
        "hostname (mta1.example.com gives vmta-mta1-example-com; -2, -3 … when taken). Changeable later.",
    )
    pool_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    mailwizz_server_id: MailwizzId | None = None
    notes: Notes | None = None


class IpUpdate(StrictModel):
    """Fields that may change after creation. The state changes only through /transition."""

    hostname: Hostname | None = None
    purpose: IpPurpose | None = None
    vmta_name: VmtaName | None = None
    pool_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    mailwizz_server_id: MailwizzId | None = None
    notes: Notes | None = None


class IpPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    address: str
    hostname: str
    purpose: str
    pool_id: int | None
    vmta_name: str
    mailwizz_server_id: int | None
    state: IpState
    notes: str | None
    created_at: datetime
    updated_at: datetime


class DomainCreate(StrictModel):
    name: DomainName
    dkim_selector: Selector | None = None
    bounce_domain: DomainName | None = None
    tracking_domain: DomainName | None = None
    notes: Notes | None = None


class DomainUpdate(StrictModel):
    dkim_selector: Selector | None = None
    bounce_domain: DomainName | None = None
    tracking_domain: DomainName | None = None
    notes: Notes | None = None


class DomainPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    dkim_selector: str | None
    bounce_domain: str | None
    tracking_domain: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime


class TransitionRequest(StrictModel):
    to: StateName
    reason: Reason
    force: bool = False

    @property
    def state(self) -> IpState:
        return IpState(self.to)


class TransitionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ip_id: int
    from_state: IpState | None
    to_state: IpState
    reason: str
    actor: str
    forced: bool
    at: datetime
    mailwizz: dict[str, Any] | None = Field(
        default=None,
        description="When the IP stopped sending: the push that set its MailWizz server inactive "
        "(status applied/failed/skipped; a failed push is retried by the mailwizz-retry job).",
    )


class ActuationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ip_id: int
    target: str
    desired: dict[str, Any]
    applied: dict[str, Any] | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    applied_at: datetime | None
