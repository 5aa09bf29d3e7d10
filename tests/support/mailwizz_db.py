"""A throwaway MailWizz-shaped database on the local MariaDB (127.0.0.1:3306, root, no password).

The delivery-server tables come from ``mailwizz_schema.sql`` (MailWizz's own install DDL). Each
:class:`MailwizzTestDb` is a fresh database ``ee_test_<random>``, dropped afterwards.

:meth:`MailwizzTestDb.mailwizz_send_ends` runs the statement MailWizz itself runs when a send ends:
``DeliveryServer::setIsNotInUse()`` calls ``saveStatus('active')`` when the object it loaded is
``in-use`` (apps/common/models/DeliveryServer.php), ``BaseActiveRecord::saveStatus()`` calls
``saveAttributes(['status' => …, 'last_updated' => MW_DATETIME_NOW])`` (MW_DATETIME_NOW: the UTC
time as ``Y-m-d H:i:s``, apps/init.php), and Yii's ``CActiveRecord::saveAttributes()`` is an
``updateByPk``: ``UPDATE … SET status, last_updated WHERE server_id = pk``, with no condition on the
status in the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from email_engine.integrations.mailwizz.database import MailwizzDatabase
from tests.support.databases import MARIADB

SCHEMA = Path(__file__).with_name("mailwizz_schema.sql")


class MailwizzTestDb:
    def __init__(self, name: str, prefix: str) -> None:
        self.name = name
        self.prefix = prefix
        self.table = f"`{prefix}delivery_server`"

    def connect(self) -> pymysql.connections.Connection[pymysql.cursors.DictCursor]:
        return pymysql.connect(
            **MARIADB, database=self.name, autocommit=True, cursorclass=pymysql.cursors.DictCursor
        )

    def adapter(self, **overrides: Any) -> MailwizzDatabase:
        params: dict[str, Any] = {
            "host": MARIADB["host"],
            "port": MARIADB["port"],
            "user": MARIADB["user"],
            "password": MARIADB["password"],
            "database": self.name,
            "table_prefix": self.prefix,
            "connect_timeout": 3.0,
        }
        params.update(overrides)
        return MailwizzDatabase(**params)

    def add_server(self, *, status: str = "inactive", hourly: int = 0, daily: int = 0, **extra: Any) -> int:
        values: dict[str, Any] = {
            "type": "smtp",
            "name": "pmta-test",
            "hostname": "mta1.example.test",
            "username": "mailer",
            "password": "not-a-real-password",
            "from_email": "sender@example.com",
            "hourly_quota": hourly,
            "daily_quota": daily,
            "status": status,
            "date_added": "2026-01-01 00:00:00",
            "last_updated": "2026-01-01 00:00:00",
        }
        values.update(extra)
        columns = ", ".join(f"`{key}`" for key in values)
        marks = ", ".join(["%s"] * len(values))
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"INSERT INTO {self.table} ({columns}) VALUES ({marks})", tuple(values.values()))
            return int(cursor.lastrowid)

    def add_warmup_plan(self, name: str = "MailWizz warmup", status: str = "active") -> int:
        """A row of MailWizz's own ``delivery_server_warmup_plan`` (2.1.10+)."""
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO `{self.prefix}delivery_server_warmup_plan` "
                "(name, sending_limit, sending_quota_type, status, date_added, last_updated) "
                "VALUES (%s, 5000, 'daily', %s, NOW(), NOW())",
                (name, status),
            )
            return int(cursor.lastrowid)

    def mailwizz_send_starts(self, server_id: int) -> None:
        """``setIsInUse()``: MailWizz marks the server it is sending through."""
        self._save_status(server_id, "in-use")

    def mailwizz_send_ends(self, server_id: int) -> None:
        """``setIsNotInUse()`` of an object loaded while ``in-use`` (see the module docstring)."""
        self._save_status(server_id, "active")

    def _save_status(self, server_id: int, status: str) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET `status` = %s, `last_updated` = %s WHERE `server_id` = %s",
                (status, now, server_id),
            )

    def add_campaign(self, uid: str, *, status: str = "sending", name: str | None = None) -> int:
        """A row of MailWizz's ``campaign`` (customer and list ids are plain numbers here: the
        schema file carries no ``customer``/``list`` tables)."""
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO `{self.prefix}campaign` (campaign_uid, customer_id, list_id, name, from_email, "
                "status, date_added, last_updated) VALUES (%s, 1, 1, %s, 'news@example.com', %s, NOW(), NOW())",
                (uid, name or f"Campaign {uid}", status),
            )
            return int(cursor.lastrowid)

    def log_delivery(self, campaign_id: int, server_id: int, at: datetime, count: int = 1) -> None:
        """``count`` rows of ``campaign_delivery_log`` as SendCampaignsCommand::logDelivery writes them
        (status ``success``, the server used, ``date_added`` in UTC)."""
        stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO `{self.prefix}campaign_delivery_log` (campaign_id, subscriber_id, server_id, "
                "message, processed, status, date_added) VALUES (%s, %s, %s, 'OK', 'yes', 'success', %s)",
                [(campaign_id, 1000 + n, server_id, stamp) for n in range(count)],
            )

    def campaign_status(self, campaign_uid: str) -> str | None:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"SELECT status FROM `{self.prefix}campaign` WHERE campaign_uid = %s AND status <> "
                "'pending-delete'",
                (campaign_uid,),
            )
            row = cursor.fetchone()
            return None if row is None else str(row["status"])

    def set_campaign_status(self, campaign_uid: str, status: str) -> None:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE `{self.prefix}campaign` SET status = %s, last_updated = NOW() WHERE campaign_uid = %s",
                (status, campaign_uid),
            )

    def row(self, server_id: int) -> dict[str, Any]:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {self.table} WHERE server_id = %s", (server_id,))
            row = cursor.fetchone()
            assert row is not None, f"no delivery server {server_id}"
            return dict(row)

    def all_rows(self) -> list[dict[str, Any]]:
        with self.connect() as conn, conn.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {self.table} ORDER BY server_id")
            return [dict(row) for row in cursor.fetchall()]


@contextmanager
def throwaway_mailwizz_db(prefix: str = "mw_") -> Iterator[MailwizzTestDb]:
    name = f"ee_test_{uuid.uuid4().hex[:12]}"
    admin = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(f"USE `{name}`")
            for statement in SCHEMA.read_text().replace("{prefix}", prefix).split(";\n"):
                if statement.strip() and not all(
                    line.startswith("--") for line in statement.strip().splitlines()
                ):
                    cursor.execute(statement)
        yield MailwizzTestDb(name, prefix)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()
