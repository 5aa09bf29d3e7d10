"""The MySQL adapter against a real MariaDB holding MailWizz's delivery-server table."""

from __future__ import annotations

from typing import Any

import pytest

from email_engine.errors import ConfigurationError, Conflict, DependencyUnavailable, InvalidInput, NotFound
from email_engine.integrations.mailwizz.database import MailwizzDatabase, check_table_prefix
from email_engine.integrations.mailwizz.quota import MAX_QUOTA, DesiredServer, UnlimitedQuotaRefused
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from tests.support.factories import free_port
from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db


def test_read_server_returns_mailwizz_columns(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=100, daily=1000)
    server = mw.adapter().read_server(server_id)
    assert (server.server_id, server.status, server.hourly_quota, server.daily_quota) == (
        server_id,
        "active",
        100,
        1000,
    )
    assert server.hostname == "mta1.example.test"


def test_apply_writes_quotas_status_and_last_updated(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="inactive", hourly=0, daily=0)
    update = mw.adapter().apply(server_id, DesiredServer(hourly_quota=5, daily_quota=50, status="active"))
    assert update.changed == {
        "hourly_quota": [0, 5],
        "daily_quota": [0, 50],
        "status": ["inactive", "active"],
    }
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"]) == (5, 50, "active")
    assert str(row["last_updated"]) != "2026-01-01 00:00:00"
    # Columns the engine does not own are untouched.
    assert (row["monthly_quota"], row["probability"], row["password"]) == (0, 100, "not-a-real-password")


def test_apply_is_idempotent_and_writes_nothing_when_equal(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=5, daily=50)
    before = mw.row(server_id)
    update = mw.adapter().apply(server_id, DesiredServer(hourly_quota=5, daily_quota=50, status="active"))
    assert update.changed == {}
    assert not update.wrote
    assert mw.row(server_id) == before  # not even last_updated moved


def test_only_named_fields_change(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=5, daily=50)
    update = mw.adapter().set_quotas(server_id, hourly=None, daily=80)
    assert update.changed == {"daily_quota": [50, 80]}
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"], row["status"]) == (5, 80, "active")


def test_in_use_counts_as_active_and_pausing_works(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="in-use", hourly=5, daily=50)
    assert mw.adapter().set_status(server_id, "active").changed == {}
    assert mw.adapter().set_status(server_id, "inactive").changed == {"status": ["in-use", "inactive"]}
    assert mw.row(server_id)["status"] == "inactive"


@pytest.mark.parametrize("status", ["disabled", "pending-delete", "hidden"])
def test_servers_switched_off_in_mailwizz_are_never_reactivated(mw: MailwizzTestDb, status: str) -> None:
    server_id = mw.add_server(status=status, hourly=5, daily=50)
    with pytest.raises(Conflict, match="Change it in MailWizz"):
        mw.adapter().set_status(server_id, "active")
    assert mw.row(server_id)["status"] == status
    # Pausing one is a no-op: it does not send anyway.
    assert mw.adapter().set_status(server_id, "inactive").changed == {}
    assert mw.row(server_id)["status"] == status


def test_a_refused_status_change_writes_no_quota_either(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="disabled", hourly=1, daily=10)
    with pytest.raises(Conflict):
        mw.adapter().apply(server_id, DesiredServer(hourly_quota=7, daily_quota=70, status="active"))
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"]) == (1, 10)


@pytest.mark.parametrize(
    ("status", "hourly", "daily", "desired"),
    [
        ("inactive", 0, 0, DesiredServer(status="active")),  # 0/0 is unlimited in MailWizz
        ("inactive", 0, 500, DesiredServer(daily_quota=800, status="active")),
        ("inactive", 40, 0, DesiredServer(hourly_quota=50, status="active")),
        ("active", 0, 500, DesiredServer(daily_quota=800)),  # a running server keeps running
        ("in-use", 40, 0, DesiredServer(hourly_quota=50)),
    ],
)
def test_a_server_never_sends_with_a_zero_quota(
    mw: MailwizzTestDb, status: str, hourly: int, daily: int, desired: DesiredServer
) -> None:
    server_id = mw.add_server(status=status, hourly=hourly, daily=daily)
    with pytest.raises(UnlimitedQuotaRefused, match="MailWizz reads as unlimited"):
        mw.adapter().apply(server_id, desired)
    row = mw.row(server_id)
    assert (row["status"], row["hourly_quota"], row["daily_quota"]) == (status, hourly, daily)
    # Pausing such a server is always allowed, and explicit quotas make it safe to run.
    assert (
        mw.adapter().set_status(server_id, "inactive").changed.get("status", [None, "inactive"])[1]
        == "inactive"
    )
    mw.adapter().apply(server_id, DesiredServer(hourly_quota=10, daily_quota=100, status="active"))
    row = mw.row(server_id)
    assert (row["status"], row["hourly_quota"], row["daily_quota"]) == ("active", 10, 100)


def test_missing_row_is_not_found(mw: MailwizzTestDb) -> None:
    with pytest.raises(NotFound, match="server_id 424242"):
        mw.adapter().read_server(424242)
    with pytest.raises(NotFound):
        mw.adapter().set_quotas(424242, hourly=1, daily=2)
    assert mw.all_rows() == []


@pytest.mark.parametrize(
    ("hourly", "daily", "message"),
    [
        (-1, 10, "at least 1"),
        (0, 10, "unlimited"),
        (10**12, 10**12, "over the maximum"),
        (5, MAX_QUOTA + 1, "over the maximum"),
        (50, 10, "larger than the daily"),
    ],
)
def test_bad_quotas_are_refused_before_connecting(
    mw: MailwizzTestDb, hourly: int, daily: int, message: str
) -> None:
    server_id = mw.add_server(status="active", hourly=3, daily=30)
    with pytest.raises(InvalidInput, match=message):
        mw.adapter().set_quotas(server_id, hourly=hourly, daily=daily)
    row = mw.row(server_id)
    assert (row["hourly_quota"], row["daily_quota"]) == (3, 30)


def test_bad_status_is_refused(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active")
    with pytest.raises(InvalidInput):
        mw.adapter().set_status(server_id, "active'; DROP TABLE mw_delivery_server; --")
    assert mw.row(server_id)["status"] == "active"


def test_unreachable_database_is_dependency_unavailable() -> None:
    adapter = MailwizzDatabase(
        host="127.0.0.1", port=free_port(), user="root", password="", database="nowhere", connect_timeout=1.0
    )
    with pytest.raises(DependencyUnavailable, match="not reachable"):
        adapter.read_server(1)
    with pytest.raises(DependencyUnavailable, match="nothing was written"):
        adapter.set_quotas(1, hourly=1, daily=2)


def test_refused_login_is_dependency_unavailable_without_the_password(mw: MailwizzTestDb) -> None:
    adapter = mw.adapter(user="no_such_user_ee", password="s3cr3t-value-never-logged")
    with pytest.raises(DependencyUnavailable) as info:
        adapter.read_server(1)
    assert "s3cr3t-value-never-logged" not in info.value.detail


def test_wrong_prefix_is_a_configuration_error(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server()
    with pytest.raises(ConfigurationError, match="MAILWIZZ_DB_TABLE_PREFIX"):
        mw.adapter(table_prefix="other_").read_server(server_id)


def test_custom_prefix_works() -> None:
    with throwaway_mailwizz_db(prefix="mwx_") as db:
        server_id = db.add_server(status="inactive", hourly=5, daily=50)
        db.adapter().set_status(server_id, "active")
        assert db.row(server_id)["status"] == "active"


@pytest.mark.parametrize(
    "prefix", ["mw_`; DROP TABLE x; --", "mw-", "mw ", "mw_\n", "a" * 33, "mw.", "`mw_`"]
)
def test_hostile_table_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(ConfigurationError):
        check_table_prefix(prefix)
    with pytest.raises(ConfigurationError):
        MailwizzDatabase(host="127.0.0.1", user="u", password="", database="d", table_prefix=prefix)


def test_from_settings_names_missing_variables() -> None:
    settings = MailwizzSettings(_env_file=None, MAILWIZZ_DB_HOST="127.0.0.1")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="MAILWIZZ_DB_USER, MAILWIZZ_DB_NAME"):
        MailwizzDatabase.from_settings(settings)


def test_from_settings_reaches_the_database(mw: MailwizzTestDb) -> None:
    server_id = mw.add_server(status="active", hourly=9, daily=90)
    settings = MailwizzSettings(  # type: ignore[call-arg]
        _env_file=None,
        MAILWIZZ_DB_HOST="127.0.0.1",
        MAILWIZZ_DB_USER="root",
        MAILWIZZ_DB_NAME=mw.name,
        MAILWIZZ_DB_TABLE_PREFIX=mw.prefix,
    )
    assert MailwizzDatabase.from_settings(settings).read_server(server_id).daily_quota == 90


def test_health_check(mw: MailwizzTestDb, ctx: Any) -> None:
    import asyncio

    from email_engine.integrations.mailwizz.health import check_mailwizz_database

    assert asyncio.run(check_mailwizz_database(ctx)).status == "not_configured"
    reachable = MailwizzSettings(  # type: ignore[call-arg]
        _env_file=None, MAILWIZZ_DB_HOST="127.0.0.1", MAILWIZZ_DB_USER="root", MAILWIZZ_DB_NAME=mw.name
    )
    ctx.settings.install(reachable)
    assert asyncio.run(check_mailwizz_database(ctx)).status == "ok"
    ctx.settings.install(reachable.model_copy(update={"db_table_prefix": "nope_"}))
    failed = asyncio.run(check_mailwizz_database(ctx))
    assert failed.status == "fail" and "MAILWIZZ_DB_TABLE_PREFIX" in failed.detail
