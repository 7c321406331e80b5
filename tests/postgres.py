"""A fresh PostgreSQL database per test, on the server named by HEARTH_TEST_POSTGRES_URL (CI starts
one with .ci/postgres.sh); skipped without it, unless HEARTH_REQUIRE_POSTGRES=1 makes that a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

SERVER_URL = os.environ.get("HEARTH_TEST_POSTGRES_URL", "")
REQUIRED = os.environ.get("HEARTH_REQUIRE_POSTGRES") == "1"


@contextmanager
def fresh_database(prefix: str = "hearth_test") -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the test server, dropped afterwards."""
    if not SERVER_URL:
        if REQUIRED:
            pytest.fail("HEARTH_REQUIRE_POSTGRES=1 but HEARTH_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server (set HEARTH_TEST_POSTGRES_URL, see .ci/postgres.sh)")
    with fresh_database() as url:
        yield url
