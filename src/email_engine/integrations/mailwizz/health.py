"""``/health`` checks of the MailWizz adapter (not critical; a failing one raises an alert through the
``health`` job): the API answers, the delivery-server table is reachable, and MailWizz accepts the API
credentials."""

from __future__ import annotations

import asyncio

from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, EmailEngineError
from email_engine.integrations.mailwizz.api import MailwizzApi
from email_engine.integrations.mailwizz.database import MailwizzDatabase
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.ops.settings import HealthSettings
from email_engine.platform.healthcheck import CheckResult, HealthCheck
from email_engine.platform.probes import reachable

#: The alert key the health job raises for the credentials check (``health:<check name>``); the
#: suppression sender raises the same key at once, so the job resolves it when MailWizz accepts again.
CREDENTIALS_CHECK = "mailwizz_api_credentials"


async def check_mailwizz_api(ctx: AppContext) -> CheckResult:
    url = ctx.settings.section(MailwizzSettings).api_url
    if not url:
        return CheckResult("not_configured", "MAILWIZZ_API_URL is not set")
    return await reachable(
        "The MailWizz API", url, ctx.settings.section(HealthSettings).check_timeout_seconds
    )


async def check_mailwizz_database(ctx: AppContext) -> CheckResult:
    if not ctx.settings.section(MailwizzSettings).db_host:
        return CheckResult("not_configured", "MAILWIZZ_DB_HOST is not set; quotas are not pushed to MailWizz")
    try:
        database = MailwizzDatabase.from_settings(ctx.settings.section(MailwizzSettings))
        await asyncio.wait_for(asyncio.to_thread(database.ping), timeout=10)
    except EmailEngineError as exc:
        return CheckResult("fail", exc.detail)
    except TimeoutError:
        return CheckResult("fail", "The MailWizz database did not answer within 10 s.")
    return CheckResult("ok", f"{database.table} reachable at {database.where}")


def _lists_seen(ctx: AppContext) -> int:
    with MailwizzApi.from_settings(ctx.settings.section(MailwizzSettings)) as api:
        return api.check_credentials()


async def check_mailwizz_credentials(ctx: AppContext) -> CheckResult:
    """MailWizz answers a wrong key or a refused address with HTTP 400; a sync that read that as
    "subscriber not found" would silently do nothing, so the credentials are checked on their own."""
    if not ctx.settings.section(MailwizzSettings).api_url:
        return CheckResult(
            "not_configured", "MAILWIZZ_API_URL is not set; suppressions are not synced to MailWizz"
        )
    if not ctx.settings.section(MailwizzSettings).sync_suppressions:
        return CheckResult(
            "not_configured", "MAILWIZZ_SYNC_SUPPRESSIONS is off; the engine does not call MailWizz's API"
        )
    try:
        lists = await asyncio.wait_for(asyncio.to_thread(_lists_seen, ctx), timeout=15)
    except ConfigurationError as exc:  # CredentialError included: refused key or address, or no key
        return CheckResult("fail", exc.detail)
    except (EmailEngineError, TimeoutError) as exc:  # unreachable: the mailwizz_api check says so
        detail = exc.detail if isinstance(exc, EmailEngineError) else "no answer within 15 s"
        return CheckResult("warn", f"The MailWizz API credentials could not be checked: {detail}")
    return CheckResult("ok", f"MailWizz accepts the API key ({lists} list(s) visible)", {"lists": lists})


CHECKS = [
    HealthCheck("mailwizz_api", check_mailwizz_api),
    HealthCheck("mailwizz_database", check_mailwizz_database, critical=False),
    HealthCheck(CREDENTIALS_CHECK, check_mailwizz_credentials, critical=False),
]
