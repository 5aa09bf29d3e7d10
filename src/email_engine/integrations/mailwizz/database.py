"""MailWizz's MySQL side: read a delivery server, set its quotas and status (PyMySQL).

MailWizz's REST API cannot change delivery servers, so the engine writes the
``{prefix}delivery_server`` table directly, touching only ``hourly_quota``, ``daily_quota``,
``status`` and ``last_updated`` (and ``warmup_plan_id``, set to NULL, only when the operator lets the
engine take a server over from a MailWizz warmup plan). It also reads (never writes)
``{prefix}campaign`` joined with ``{prefix}campaign_delivery_log`` to find the campaigns that were
sending through a server (:meth:`MailwizzDatabase.campaigns_sending_through`). Each change is one ``UPDATE`` inside a
transaction that first locks the row (``SELECT … FOR UPDATE``): it happens completely or not at
all, and nothing is written when the row already holds the wanted values. What MailWizz does to
these columns on its own is in :mod:`quota`.

Errors::

    InvalidInput           a quota or status the engine refuses to write (checked before connecting)
    NotFound               no delivery server with that server_id
    Conflict               the server was disabled/hidden/deleted in MailWizz (not reactivated), or
                           it follows a MailWizz warmup plan (NativeWarmupConflict)
    ConfigurationError     settings missing, bad table prefix, or the table does not exist
    DependencyUnavailable  MariaDB/MySQL unreachable, refused the login, or timed out
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymysql
import pymysql.cursors
import structlog

from email_engine.errors import ConfigurationError, DependencyUnavailable, NotFound
from email_engine.integrations.mailwizz.quota import DesiredServer, plan_server_update
from email_engine.integrations.mailwizz.settings import MailwizzSettings

__all__ = [
    "PAUSABLE_CAMPAIGN_STATUSES",
    "DeliveryServer",
    "MailwizzDatabase",
    "SendingCampaign",
    "ServerUpdate",
    "check_table_prefix",
]

log = structlog.get_logger(__name__)

_PREFIX = re.compile(r"^[A-Za-z0-9_]{0,32}$")
_COLUMNS = (
    "server_id",
    "name",
    "hostname",
    "type",
    "status",
    "hourly_quota",
    "daily_quota",
    "monthly_quota",
    "last_updated",
)
# MailWizz 2.1.10+ only; older installs have no such column.
_PLAN_COLUMN = "warmup_plan_id"
#: The statuses ``Campaign::getCanBePaused()`` accepts (apps/common/models/Campaign.php):
#: ``STATUS_SENDING``, ``STATUS_PROCESSING``, ``STATUS_PENDING_SENDING``.
PAUSABLE_CAMPAIGN_STATUSES = ("sending", "processing", "pending-sending")
# MySQL error codes that mean "the table is not there" / "no such column".
_NO_TABLE, _NO_COLUMN = 1146, 1054
# … and "SELECT command denied" for a table / a column (a user granted only the delivery servers).
_CAMPAIGN_READ_REFUSED = (_NO_TABLE, _NO_COLUMN, 1142, 1143)


def check_table_prefix(prefix: str) -> str:
    """The prefix if it is safe to put in a table name (letters, digits, underscore; max 32)."""
    if not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            f"MAILWIZZ_DB_TABLE_PREFIX {prefix!r} is not valid: use letters, digits and underscores only "
            "(MailWizz's default is mw_)."
        )
    return prefix


@dataclass(frozen=True)
class DeliveryServer:
    server_id: int
    name: str | None
    hostname: str
    type: str
    status: str
    hourly_quota: int
    daily_quota: int
    monthly_quota: int
    last_updated: datetime | None
    #: MailWizz's native warmup plan (2.1.10+); None when there is none or the column does not exist.
    warmup_plan_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "server_id": self.server_id,
            "name": self.name,
            "hostname": self.hostname,
            "type": self.type,
            "status": self.status,
            "hourly_quota": self.hourly_quota,
            "daily_quota": self.daily_quota,
            "monthly_quota": self.monthly_quota,
            "warmup_plan_id": self.warmup_plan_id,
        }


@dataclass(frozen=True)
class SendingCampaign:
    """A MailWizz campaign that logged deliveries through a server and can still be paused."""

    campaign_uid: str
    name: str
    status: str


@dataclass(frozen=True)
class ServerUpdate:
    """The outcome of a write: what changed (column -> [old, new]) and the row afterwards."""

    server: DeliveryServer
    changed: dict[str, list[Any]]
    #: The status before the write (``in-use``: MailWizz may put its own status back afterwards).
    previous_status: str = ""

    @property
    def wrote(self) -> bool:
        return bool(self.changed)


class MailwizzDatabase:
    """Connections are opened per call: the engine writes a few rows a day, never in a hot loop."""

    def __init__(
        self,
        *,
        host: str,
        user: str,
        password: str,
        database: str,
        port: int = 3306,
        table_prefix: str = "mw_",
        connect_timeout: float = 5.0,
        take_over_warmup: bool = False,
    ) -> None:
        self._params: dict[str, Any] = {
            "host": host,
            "port": port,
            "user": user,
            "password": password,
            "database": database,
            "connect_timeout": connect_timeout,
            "read_timeout": max(connect_timeout, 10.0),
            "write_timeout": max(connect_timeout, 10.0),
            "charset": "utf8mb4",
            "autocommit": False,
            "cursorclass": pymysql.cursors.DictCursor,
        }
        self.table = f"`{check_table_prefix(table_prefix)}delivery_server`"
        self._campaigns = f"`{table_prefix}campaign`"
        self._delivery_log = f"`{table_prefix}campaign_delivery_log`"
        self.where = f"{host}:{port}/{database}"
        self.take_over_warmup = take_over_warmup
        self._has_plan_column = True

    @classmethod
    def from_settings(cls, settings: MailwizzSettings) -> MailwizzDatabase:
        missing = [
            name
            for name, value in (
                ("MAILWIZZ_DB_HOST", settings.db_host),
                ("MAILWIZZ_DB_USER", settings.db_user),
                ("MAILWIZZ_DB_NAME", settings.db_name),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "The MailWizz database is not configured: set " + ", ".join(missing) + "."
            )
        password = settings.db_password
        return cls(
            host=str(settings.db_host),
            port=settings.db_port,
            user=str(settings.db_user),
            password=password.get_secret_value() if password else "",
            database=str(settings.db_name),
            table_prefix=settings.db_table_prefix,
            connect_timeout=settings.db_connect_timeout,
            take_over_warmup=settings.take_over_warmup_plans,
        )

    @contextmanager
    def _connection(self) -> Iterator[pymysql.connections.Connection[pymysql.cursors.DictCursor]]:
        try:
            connection = pymysql.connect(**self._params)
        except pymysql.err.OperationalError as exc:
            raise DependencyUnavailable(
                f"The MailWizz database at {self.where} is not reachable ({_reason(exc)}); "
                "nothing was written. The next run retries."
            ) from None
        try:
            yield connection
        except (
            pymysql.err.ProgrammingError,
            pymysql.err.OperationalError,
            pymysql.err.InterfaceError,
        ) as exc:
            _rollback_quietly(connection)
            # "No such table" (1146) is a ProgrammingError, "Unknown column" (1054) an OperationalError.
            if exc.args and exc.args[0] in (_NO_TABLE, _NO_COLUMN):
                raise ConfigurationError(
                    f"The MailWizz table {self.table} at {self.where} is missing or not MailWizz's "
                    f"({_reason(exc)}); check MAILWIZZ_DB_NAME and MAILWIZZ_DB_TABLE_PREFIX."
                ) from None
            if isinstance(exc, pymysql.err.ProgrammingError):
                raise
            raise DependencyUnavailable(
                f"The MailWizz database at {self.where} failed mid-way ({_reason(exc)}); "
                "the change was rolled back and nothing was written."
            ) from None
        except BaseException:
            _rollback_quietly(connection)
            raise
        finally:
            _close_quietly(connection)

    def _select(self, cursor: pymysql.cursors.DictCursor, server_id: int, *, lock: bool) -> dict[str, Any]:
        names = (*_COLUMNS, _PLAN_COLUMN) if self._has_plan_column else _COLUMNS
        columns = ", ".join(f"`{name}`" for name in names)
        sql = f"SELECT {columns} FROM {self.table} WHERE `server_id` = %s"  # noqa: S608 - fixed names
        try:
            cursor.execute(sql + (" FOR UPDATE" if lock else ""), (server_id,))
        except pymysql.err.OperationalError as exc:
            # 1054 "Unknown column": a MailWizz older than 2.1.10 has no warmup plans to respect.
            if not (
                self._has_plan_column and exc.args and exc.args[0] == _NO_COLUMN and _PLAN_COLUMN in str(exc)
            ):
                raise
            self._has_plan_column = False
            return self._select(cursor, server_id, lock=lock)
        row = cursor.fetchone()
        if row is None:
            raise NotFound(
                f"MailWizz has no delivery server with server_id {server_id} in {self.table}; "
                "check the IP's mailwizz_server_id."
            )
        return dict(row)

    def read_server(self, server_id: int) -> DeliveryServer:
        with self._connection() as connection, connection.cursor() as cursor:
            row = self._select(cursor, server_id, lock=False)
            connection.rollback()
        return _server(row)

    def apply(self, server_id: int, desired: DesiredServer) -> ServerUpdate:
        """Make the row hold ``desired`` (quotas and/or status); write only what differs."""
        with self._connection() as connection, connection.cursor() as cursor:
            current = self._select(cursor, server_id, lock=True)
            changes = plan_server_update(current, desired, take_over_warmup=self.take_over_warmup)
            previous = str(current["status"])
            if not changes:
                connection.rollback()
                return ServerUpdate(server=_server(current), changed={}, previous_status=previous)
            assignments = ", ".join(f"`{column}` = %s" for column in changes)
            sql = (
                f"UPDATE {self.table} SET {assignments}, `last_updated` = NOW() "  # noqa: S608 - fixed names
                "WHERE `server_id` = %s"
            )
            cursor.execute(sql, (*changes.values(), server_id))
            after = self._select(cursor, server_id, lock=False)
            connection.commit()
        changed = {column: [current[column], value] for column, value in changes.items()}
        log.info("mailwizz.server_updated", server_id=server_id, changed=changed, previous_status=previous)
        return ServerUpdate(server=_server(after), changed=changed, previous_status=previous)

    def set_quotas(self, server_id: int, *, hourly: int | None, daily: int | None) -> ServerUpdate:
        return self.apply(server_id, DesiredServer(hourly_quota=hourly, daily_quota=daily))

    def set_status(self, server_id: int, status: str) -> ServerUpdate:
        return self.apply(server_id, DesiredServer(status=status))  # type: ignore[arg-type]

    def campaigns_sending_through(self, server_id: int, since: datetime) -> list[SendingCampaign]:
        """Campaigns that logged a delivery through ``server_id`` since ``since`` (naive UTC, as
        MailWizz stores ``date_added``: MW_DATETIME_NOW, apps/init.php) and are still in a status
        MailWizz can pause. MailWizz writes one ``campaign_delivery_log`` row per subscriber with the
        ``server_id`` it used (SendCampaignsCommand::logDelivery, apps/console/commands/); rows of
        archived logs (``campaign_delivery_log_archive``) belong to finished campaigns."""
        marks = ", ".join(["%s"] * len(PAUSABLE_CAMPAIGN_STATUSES))
        sql = (
            f"SELECT c.`campaign_uid`, c.`name`, c.`status` FROM {self._campaigns} c "  # noqa: S608 - fixed names
            f"WHERE c.`status` IN ({marks}) AND EXISTS (SELECT 1 FROM {self._delivery_log} l "
            "WHERE l.`campaign_id` = c.`campaign_id` AND l.`server_id` = %s AND l.`date_added` >= %s) "
            "ORDER BY c.`campaign_id`"
        )
        cutoff = since.astimezone(UTC).replace(tzinfo=None) if since.tzinfo else since
        with self._connection() as connection, connection.cursor() as cursor:
            try:
                cursor.execute(sql, (*PAUSABLE_CAMPAIGN_STATUSES, server_id, cutoff))
            except (pymysql.err.ProgrammingError, pymysql.err.OperationalError) as exc:
                if not (exc.args and exc.args[0] in _CAMPAIGN_READ_REFUSED):
                    raise
                raise ConfigurationError(
                    f"The MailWizz tables {self._campaigns} and {self._delivery_log} at {self.where} cannot "
                    f"be read ({_reason(exc)}); grant the engine's user SELECT on them (docs/mailwizz.md) so "
                    "the failover job can find the campaigns to pause."
                ) from None
            rows = cursor.fetchall()
            connection.rollback()
        return [
            SendingCampaign(str(row["campaign_uid"]), str(row["name"]), str(row["status"])) for row in rows
        ]

    def ping(self) -> None:
        """Connect and check the table exists (for health checks)."""
        with self._connection() as connection, connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {self.table} LIMIT 1")  # noqa: S608 - fixed names
            connection.rollback()


def _server(row: dict[str, Any]) -> DeliveryServer:
    return DeliveryServer(
        server_id=int(row["server_id"]),
        name=row["name"],
        hostname=str(row["hostname"]),
        type=str(row["type"]),
        status=str(row["status"]),
        hourly_quota=int(row["hourly_quota"]),
        daily_quota=int(row["daily_quota"]),
        monthly_quota=int(row["monthly_quota"]),
        last_updated=row["last_updated"],
        warmup_plan_id=int(row[_PLAN_COLUMN]) if row.get(_PLAN_COLUMN) is not None else None,
    )


def _reason(exc: BaseException) -> str:
    # PyMySQL errors are (code, message); the message never holds the password.
    if len(exc.args) >= 2:
        return f"MySQL error {exc.args[0]}: {exc.args[1]}"
    return str(exc) or type(exc).__name__


def _rollback_quietly(connection: Any) -> None:
    # The connection may already be broken; the original error is the one worth reporting.
    with suppress(Exception):
        connection.rollback()


def _close_quietly(connection: Any) -> None:
    with suppress(Exception):
        connection.close()
