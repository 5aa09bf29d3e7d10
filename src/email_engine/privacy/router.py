"""``DELETE /api/v1/privacy/addresses/{address}``: the right to be forgotten (admin only, audited)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Request

from email_engine.auth.deps import AdminDep
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.feedback.pseudonym import pseudonym_key
from email_engine.privacy.schemas import ForgetResult
from email_engine.privacy.service import forget_address, require_key
from email_engine.validation.settings import ValidationSettings

__all__ = ["router"]

log = structlog.get_logger("email_engine.privacy")

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


@router.delete(
    "/addresses/{address}",
    summary="Forget an address everywhere it is stored (admin)",
)
def forget(
    address: Annotated[str, Path(max_length=320, description="The address to erase (local@domain)")],
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    _admin: AdminDep,
) -> ForgetResult:
    """Replaces the address with its keyed pseudonym in accounting records, stored diagnostics, dead
    letters, outbox payloads, audit entries and validation job files, and keeps it on the suppression
    list as that pseudonym so it is never mailed again (docs/data-lifecycle.md, "Privacy"). The audit
    entry of this request names the pseudonym, not the address. 409 when PRIVACY_HASH_KEY is not set."""
    key = require_key(pseudonym_key(ctx.settings))
    report = forget_address(
        session,
        address=address,
        key=key,
        validation_dir=ctx.settings.section(ValidationSettings).jobs_dir,
        now=utcnow(),
    )
    counts = report.as_dict()
    request.state.audit_target = f"/api/v1/privacy/addresses/{report.pseudonym}"
    request.state.audit_details = {"event": "address_forgotten", **counts}
    session.commit()
    log.info("address_forgotten", **counts)
    return ForgetResult(**counts)
