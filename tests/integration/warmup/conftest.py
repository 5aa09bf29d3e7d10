"""Warmup fixtures: a MailWizz-shaped MariaDB database (the inventory engineer's schema)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db


@pytest.fixture(scope="module")
def mw_database() -> Iterator[MailwizzTestDb]:
    with throwaway_mailwizz_db() as db:
        yield db


@pytest.fixture
def mw(mw_database: MailwizzTestDb) -> Iterator[MailwizzTestDb]:
    yield mw_database
    with mw_database.connect() as conn, conn.cursor() as cursor:
        cursor.execute(f"DELETE FROM `{mw_database.prefix}campaign`")  # cascades to the delivery log
        cursor.execute(f"DELETE FROM {mw_database.table}")
