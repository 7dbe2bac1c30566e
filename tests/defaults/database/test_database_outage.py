"""A PostgreSQL server that stops answering: requests fail with 503 in time, then recover.

The server is "frozen" by a proxy of the test's own that stops forwarding bytes (what a server
under SIGSTOP looks like from the client: connections are accepted, nothing is answered); the
shared server behind it keeps running.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from _support.features import plugin_with_init
from quart import Blueprint
from sqlalchemy import text

from backstage_runtime import core_services
from backstage_runtime.defaults.database import (
    DatabaseUnavailableError,
    _postgres,
    database_service_factory,
)
from backstage_runtime.testing import start_test_backend

from ._freezable_proxy import FreezableProxy
from ._support import database_plugin, table_names

pytestmark = pytest.mark.anyio

# Generous bounds on a 1 s timeout: slow enough machines still pass, a hang still fails.
_TIMEOUT_MS = 1000
_AT_MOST_SECONDS = 5.0


def notes_plugin(seen: dict[str, Any]) -> Any:
    """GET /api/notes/count runs one statement on the plugin's database."""

    def init(database: Any, http: Any) -> None:
        routes = Blueprint("notes", __name__)

        @routes.get("/count")
        async def count() -> Any:
            async with database.connect() as conn:
                return {"count": (await conn.execute(text("SELECT 41 + 1"))).scalar_one()}

        http.use(routes)
        http.add_auth_policy(path="/count", allow="unauthenticated")
        seen["database"] = database

    return plugin_with_init(
        "notes", {"database": core_services.database, "http": core_services.http_router}, init
    )


@pytest.fixture
async def proxy(postgres_config: dict[str, Any]) -> AsyncIterator[FreezableProxy]:
    connection = postgres_config["connection"]
    async with FreezableProxy(connection["host"], int(connection["port"])).running() as running:
        yield running


def frozen_config(
    postgres_config: dict[str, Any], proxy: FreezableProxy, **connection: Any
) -> dict[str, Any]:
    return {
        "backend": {
            "database": {
                **postgres_config,
                "connection": {
                    **postgres_config["connection"],
                    "host": "127.0.0.1",
                    "port": proxy.port,
                    **connection,
                },
                "knexConfig": {"acquireConnectionTimeout": _TIMEOUT_MS, "pool": {"max": 2}},
            }
        }
    }


async def get_count(url: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body: dict[str, Any] = await response.json()
        return response.status, body, time.monotonic() - started


async def test_a_frozen_database_fails_requests_with_503_in_time_and_they_recover(
    postgres_config: dict[str, Any], proxy: FreezableProxy
) -> None:
    seen: dict[str, Any] = {}
    config = frozen_config(postgres_config, proxy, query_timeout=_TIMEOUT_MS)
    async with start_test_backend(
        features=[database_service_factory(), notes_plugin(seen)], config=config
    ) as backend:
        url = await backend.url("/api/notes/count")
        status, body, _ = await get_count(url)
        assert (status, body) == (200, {"count": 42})
        engine = await seen["database"].get_client()
        assert engine.pool.checkedin() == 1  # the next request reuses this connection

        proxy.freeze()
        # On the pooled connection: the statement times out.
        status, body, elapsed = await get_count(url)
        assert status == 503
        assert body["error"]["name"] == "ServiceUnavailableError"
        assert body["error"]["message"] == (
            "The database of plugin 'notes' is unavailable: a statement timed out"
        )
        assert _TIMEOUT_MS / 1000 * 0.9 <= elapsed < _AT_MOST_SECONDS
        # The timed-out connection was dropped: the next request opens a new one, in vain.
        status, body, elapsed = await get_count(url)
        assert status == 503
        assert body["error"]["message"] == (
            "The database of plugin 'notes' is unavailable: timed out opening a connection"
        )
        assert _TIMEOUT_MS / 1000 * 0.9 <= elapsed < _AT_MOST_SECONDS

        proxy.thaw()
        status, body, elapsed = await get_count(url)
        assert (status, body) == (200, {"count": 42})
        assert elapsed < _TIMEOUT_MS / 1000


async def test_without_query_timeout_statements_time_out_by_default(
    postgres_config: dict[str, Any], proxy: FreezableProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default (60 s) shortened, so that the test shows it applies without waiting for it.
    monkeypatch.setattr(_postgres, "DEFAULT_STATEMENT_TIMEOUT", _TIMEOUT_MS / 1000)
    async with start_test_backend(
        features=[database_service_factory(), notes_plugin({})],
        config=frozen_config(postgres_config, proxy),
    ) as backend:
        url = await backend.url("/api/notes/count")
        assert (await get_count(url))[0] == 200
        proxy.freeze()
        status, body, elapsed = await get_count(url)
        assert status == 503
        assert body["error"]["message"].endswith("a statement timed out")
        assert elapsed < _AT_MOST_SECONDS


async def test_query_timeout_0_lets_a_statement_wait_for_the_server(
    postgres_config: dict[str, Any], proxy: FreezableProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_postgres, "DEFAULT_STATEMENT_TIMEOUT", _TIMEOUT_MS / 1000)
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[database_service_factory(), notes_plugin(seen)],
        config=frozen_config(postgres_config, proxy, query_timeout=0),
    ):
        engine = await seen["database"].get_client()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            proxy.freeze()
            async with anyio.create_task_group() as group:

                async def thaw_later() -> None:
                    await anyio.sleep(3 * _TIMEOUT_MS / 1000)  # well past the default timeout
                    proxy.thaw()

                group.start_soon(thaw_later)
                assert (await conn.execute(text("SELECT 2"))).scalar_one() == 2


async def test_a_raw_engine_statement_on_a_frozen_database_raises_the_503_error(
    postgres_config: dict[str, Any], proxy: FreezableProxy
) -> None:
    seen: dict[str, Any] = {}
    config = frozen_config(postgres_config, proxy, query_timeout=_TIMEOUT_MS)
    async with start_test_backend(
        features=[database_service_factory(), notes_plugin(seen)], config=config
    ):
        engine = await seen["database"].get_client()
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            proxy.freeze()
            with anyio.fail_after(_AT_MOST_SECONDS), pytest.raises(DatabaseUnavailableError):
                await conn.execute(text("SELECT 2"))
        proxy.thaw()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 3"))).scalar_one() == 3


async def test_a_postgres_migration_may_run_longer_than_the_statement_timeout(
    postgres_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_postgres, "DEFAULT_STATEMENT_TIMEOUT", 0.2)
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "0001_slow.py").write_text(
        'from alembic import op\n\nrevision = "0001"\ndown_revision = None\n\n\n'
        "def upgrade() -> None:\n"
        '    op.execute("SELECT pg_sleep(0.6)")\n'
        '    op.execute("CREATE TABLE slow (id INTEGER)")\n'
    )
    seen: dict[str, Any] = {}
    async with start_test_backend(
        features=[
            database_service_factory(),
            database_plugin("slow", migrations=tmp_path, seen=seen),
        ],
        config={"backend": {"database": postgres_config}},
    ):
        engine = await seen["slow"].get_client()
        assert "slow" in await table_names(engine)
        async with engine.connect() as conn:
            # Requests keep the short timeout.
            with pytest.raises(DatabaseUnavailableError):
                await conn.execute(text("SELECT pg_sleep(0.6)"))
