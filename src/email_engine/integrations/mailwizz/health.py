"""``/health`` check: can the engine reach MailWizz's delivery-server table? (not critical)"""

from __future__ import annotations

import asyncio

from email_engine.context import AppContext
from email_engine.errors import EmailEngineError
from email_engine.integrations.mailwizz.database import MailwizzDatabase
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.ops.domain_settings import domain_settings
from email_engine.ops.healthcheck import CheckResult, HealthCheck


async def check_mailwizz_database(ctx: AppContext) -> CheckResult:
    if not ctx.settings.mailwizz_db_host:
        return CheckResult("not_configured", "MAILWIZZ_DB_HOST is not set; quotas are not pushed to MailWizz")
    try:
        database = MailwizzDatabase.from_settings(ctx.settings, domain_settings(ctx, MailwizzSettings))
        await asyncio.wait_for(asyncio.to_thread(database.ping), timeout=10)
    except EmailEngineError as exc:
        return CheckResult("fail", exc.detail)
    except TimeoutError:
        return CheckResult("fail", "The MailWizz database did not answer within 10 s.")
    return CheckResult("ok", f"{database.table} reachable at {database.where}")


CHECKS = [HealthCheck("mailwizz_database", check_mailwizz_database, critical=False)]
