"""Databases for tests: fresh databases on every supported engine (``TestDatabases``).

Backstage's ``TestDatabases`` in Python. Parametrize a test over the engines and ask for a
database of the one at hand; ``POSTGRES`` comes from
``BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING`` (default: ``postgres`` on localhost),
Backstage's versioned ``POSTGRES_<N>`` ids from
``BACKSTAGE_TEST_DATABASE_POSTGRES<N>_CONNECTION_STRING`` (listed only where set), MySQL or
MariaDB from
``BACKSTAGE_TEST_DATABASE_MYSQL8_CONNECTION_STRING`` (default: ``root`` without a password on
localhost)::

    @pytest.mark.parametrize("database_id", TestDatabases.each_supported_id())
    async def test_stores_todos(database_id: str, test_databases: TestDatabases) -> None:
        config = await test_databases.backend_config(database_id)
        async with start_test_backend(
            features=[database_service_factory(), todo_plugin],
            config={"backend": {"database": config}},
        ) as backend:
            ...

A plugin's own code (a store, say) is tested without a backend on the database *service* a
plugin would receive, migrations included::

    database = await test_databases.init_service(database_id, plugin_id="todo")
    store = await TodoStore.create(database)  # runs database.migrate(...), as at init

When a server is unreachable the test is skipped, or fails when ``CI`` is set. The pytest
plugin's ``test_databases`` fixture is ``async with TestDatabases.create() as databases``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from ..api.services.database import DatabaseService
from ..api.services.logger import LoggerService
from ..defaults.database import DatabaseManager
from ..defaults.root_config import create_config_from_data
from ._database_drops import DROPS, LIST_DATABASES, MYSQL_QUOTE, PG_QUOTE, quote_name
from ._database_ids import (
    ALL_DATABASE_IDS,
    MYSQL_CONNECTION_ENV,
    POSTGRES_CONNECTION_ENV,
    VERSIONED_POSTGRES_IDS,
    TestDatabaseId,
    check_id,
    configured,
    connection_env,
    engine_of,
)
from ._infrastructure import infrastructure_missing
from ._mock_logger import MockRootLogger

__all__ = [
    "ALL_DATABASE_IDS",
    "MYSQL_CONNECTION_ENV",
    "POSTGRES_CONNECTION_ENV",
    "TestDatabaseId",
    "TestDatabases",
]

_DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
_DEFAULT_MYSQL = "mysql://root@127.0.0.1:3306"
# Backstage's test pools: small and quick to give up, so a broken test fails fast.
_TEST_POOL = {"min": 0, "max": 5, "acquireTimeoutMillis": 10_000}


class TestDatabases:
    """Fresh databases on every supported engine, removed again by :meth:`close`.

    Each instance names what it creates with a random prefix, so tests sharing one server (in
    parallel runs, or beside other projects' tests) never see each other's data.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        ids: Iterable[TestDatabaseId] | None = None,
        *,
        postgres_url: str | None = None,
        mysql_url: str | None = None,
    ) -> None:
        self._ids = tuple((*ALL_DATABASE_IDS, *VERSIONED_POSTGRES_IDS) if ids is None else ids)
        for database_id in self._ids:
            check_id(database_id)
        self._postgres_url = make_url(
            postgres_url or os.environ.get(POSTGRES_CONNECTION_ENV) or _DEFAULT_POSTGRES
        ).set(drivername="postgresql+asyncpg")
        self._mysql_url = _mysql_server_url(
            mysql_url or os.environ.get(MYSQL_CONNECTION_ENV) or _DEFAULT_MYSQL
        )
        self._token = uuid.uuid4().hex[:12]
        self._counter = 0
        # Keyed by database id: each versioned PostgreSQL id is a server of its own.
        self._admins: dict[str, AsyncEngine] = {}
        self._engines: list[AsyncEngine] = []
        self._managers: list[DatabaseManager] = []
        self._databases: dict[str, list[str]] = {}
        self._prefixes: list[str] = []

    @classmethod
    def create(cls, ids: Iterable[TestDatabaseId] | None = None) -> TestDatabases:
        """Databases for ``ids`` (default: every id); close them with :meth:`close`."""
        return cls(ids)

    @staticmethod
    def each_supported_id(
        ids: Iterable[TestDatabaseId] | None = None,
    ) -> list[TestDatabaseId]:
        """The ids to parametrize a test with, among ``ids`` (default: every id).

        ``SQLITE_3``, ``POSTGRES`` and ``MYSQL_8`` are always listed: when a server is down the
        test says so (skip, or fail on CI) rather than silently running on SQLite alone. A
        versioned ``POSTGRES_<N>`` is listed where its variable names a server, as Backstage
        lists it when it cannot start a container.
        """
        candidates = (*ALL_DATABASE_IDS, *VERSIONED_POSTGRES_IDS) if ids is None else tuple(ids)
        for database_id in candidates:
            check_id(database_id)
        return [database_id for database_id in candidates if configured(database_id)]

    def supports(self, database_id: str) -> bool:
        """Whether ``database_id`` is among this instance's ids and has a server."""
        return database_id in self._ids and configured(database_id)

    @property
    def postgres_url(self) -> URL:
        """The PostgreSQL server the databases are created on."""
        return self._postgres_url

    @property
    def mysql_url(self) -> URL:
        """The MySQL/MariaDB server the databases are created on (aiomysql URL, no database)."""
        return self._mysql_url

    async def init(self, database_id: TestDatabaseId) -> AsyncEngine:
        """An engine on a new, empty database of ``database_id`` (SQLite: in memory)."""
        self._check_supported(database_id)
        engine_kind = engine_of(database_id)
        if engine_kind == "SQLITE_3":
            # One pooled connection: an in-memory database lives exactly as long as it.
            engine = create_async_engine(
                "sqlite+aiosqlite://", poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0
            )
        elif engine_kind == "MYSQL_8":
            name = await self.create_mysql_database()
            engine = create_async_engine(
                self._mysql_url.set(database=name), pool_size=5, max_overflow=0
            )
        else:
            name = await self.create_postgres_database(database_id)
            engine = create_async_engine(
                self._server_url(database_id).set(database=name), pool_size=5, max_overflow=0
            )
        self._engines.append(engine)
        return engine

    async def init_service(
        self,
        database_id: TestDatabaseId,
        *,
        plugin_id: str = "test",
        skip_migrations: bool = False,
        division_mode: Literal["database", "schema"] = "database",
        logger: LoggerService | None = None,
    ) -> DatabaseService:
        """The ``core.database`` service ``plugin_id`` would get on a new, empty database of
        ``database_id``: the real one, so ``get_client()``, ``migrate()`` (with its version
        table and its locks), ``connect()``, ``begin()`` and ``session()`` behave as in a
        deployment. Backstage's ``mockServices.database({ knex })`` over ``init(id)``.

        ``skip_migrations`` sets ``migrations.skip`` (``migrate()`` then does nothing);
        ``division_mode="schema"`` puts the plugin in a schema of one database (PostgreSQL
        only). ``logger`` gets what the service logs (migrations applied, say; by default
        only warnings, to a recording logger nobody reads). The engine is disposed and the
        database dropped at :meth:`close`. Raises :class:`ValueError` for an id that is not
        among this instance's ids, or for a division mode the engine does not have.
        """
        config = await self.backend_config(database_id, division_mode=division_mode)
        manager = DatabaseManager.from_config(
            create_config_from_data({"backend": {"database": config}}, context="test-databases"),
            logger=logger or MockRootLogger(level="warn"),
            skip_migrations=skip_migrations,
        )
        self._managers.append(manager)
        return manager.for_plugin(plugin_id)

    async def backend_config(
        self,
        database_id: TestDatabaseId,
        *,
        division_mode: Literal["database", "schema"] = "database",
    ) -> dict[str, Any]:
        """A ``backend.database`` config for ``database_id`` whose plugin databases (or, with
        ``division_mode="schema"``, whose one shared database) are removed at :meth:`close`.
        """
        self._check_supported(database_id)
        engine_kind = engine_of(database_id)
        if engine_kind == "SQLITE_3":
            if division_mode != "database":
                raise ValueError("SQLite only supports the 'database' plugin division mode")
            return {"client": "better-sqlite3", "connection": ":memory:"}
        if engine_kind == "MYSQL_8":
            if division_mode != "database":
                raise ValueError("MySQL only supports the 'database' plugin division mode")
            await self._admin_engine("MYSQL_8")
            return {
                "client": "mysql2",
                "connection": self.mysql_connection(),
                "knexConfig": {"pool": dict(_TEST_POOL)},
                "prefix": self._new_prefix(),
            }
        await self._admin_engine(database_id)
        config: dict[str, Any] = {
            "client": "pg",
            "connection": self.postgres_connection(database_id),
            "knexConfig": {"pool": dict(_TEST_POOL)},
        }
        if division_mode == "schema":
            config["pluginDivisionMode"] = "schema"
            config["connection"]["database"] = await self.create_postgres_database(database_id)
        else:
            config["prefix"] = self._new_prefix()
        return config

    def postgres_connection(self, database_id: TestDatabaseId = "POSTGRES") -> dict[str, Any]:
        """The ``connection`` object of ``database_id``'s server, in ``backend.database`` form
        (no database)."""
        return _connection(self._server_url(database_id), 5432)

    def mysql_connection(self) -> dict[str, Any]:
        """The MySQL server's ``connection`` object, in ``backend.database`` form (no
        database; the password is given even when empty, as a passwordless root needs)."""
        connection = _connection(self._mysql_url, 3306)
        connection.setdefault("password", self._mysql_url.password or "")
        return connection

    async def create_postgres_database(self, database_id: TestDatabaseId = "POSTGRES") -> str:
        """Create an empty database on ``database_id``'s PostgreSQL server (dropped at
        :meth:`close`); its name."""
        return await self._create_database(database_id, PG_QUOTE)

    async def create_mysql_database(self) -> str:
        """Create an empty MySQL database (dropped at :meth:`close`); its name."""
        return await self._create_database("MYSQL_8", MYSQL_QUOTE)

    def track_prefix(self, prefix: str) -> None:
        """Also drop, at :meth:`close`, every database on the servers whose name starts with
        ``prefix`` (for configs built by hand)."""
        self._prefixes.append(prefix)

    async def close(self) -> None:
        """Dispose every engine (and database service) handed out and drop every database
        created."""
        managers, self._managers = self._managers, []
        for manager in managers:
            await manager.dispose()
        engines, self._engines = self._engines, []
        for engine in engines:
            await engine.dispose()
        admins, self._admins = self._admins, {}
        errors: list[Exception] = []
        for server, admin in admins.items():
            try:
                await self._drop_databases(server, admin)
            except Exception as error:
                errors.append(error)  # still clean the other server up
            finally:
                await admin.dispose()
        if errors:
            raise errors[0]

    async def _drop_databases(self, server: str, admin: AsyncEngine) -> None:
        async with admin.connect() as conn:
            names = list(self._databases.get(server, ()))
            kind = engine_of(server)
            for prefix in self._prefixes:
                result = await conn.execute(text(LIST_DATABASES[kind]), {"p": prefix})
                names.extend(result.scalars())
            for name in dict.fromkeys(names):
                await DROPS[kind](conn, name)

    async def __aenter__(self) -> TestDatabases:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _new_prefix(self) -> str:
        # Lowercase letters, digits and "_" only: valid unquoted names on every server.
        self._counter += 1
        prefix = f"bst{self._token}_{self._counter}_"
        self._prefixes.append(prefix)
        return prefix

    async def _create_database(self, server: str, quote: str) -> str:
        admin = await self._admin_engine(server)
        name = f"{self._new_prefix()}db"
        self._databases.setdefault(server, []).append(name)
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {quote_name(name, quote)}"))
        return name

    def _check_supported(self, database_id: str) -> None:
        check_id(database_id)
        if database_id not in self._ids:
            raise ValueError(f"Database id '{database_id}' is not among {list(self._ids)}")

    def _server_url(self, database_id: str) -> URL:
        if database_id == "POSTGRES":
            return self._postgres_url
        if database_id == "MYSQL_8":
            return self._mysql_url
        env = connection_env(database_id)
        value = os.environ.get(env) if env else None
        if not value:
            infrastructure_missing(
                f"PostgreSQL ({database_id})", f"set {env} to the connection string of its server"
            )
        return make_url(value).set(drivername="postgresql+asyncpg")

    async def _admin_engine(self, server: str) -> AsyncEngine:
        admin = self._admins.get(server)
        if admin is None:
            url = self._server_url(server)
            env = connection_env(server)
            what = "MySQL" if server == "MYSQL_8" else "PostgreSQL"
            if server in VERSIONED_POSTGRES_IDS:
                what = f"PostgreSQL ({server})"
            admin = create_async_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
            try:
                async with admin.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            except Exception as error:
                await admin.dispose()
                where = url.render_as_string(hide_password=True)
                infrastructure_missing(
                    what,
                    f"{where} ({type(error).__name__}: {error}); set {env} to point the tests "
                    "at a server",
                )
            self._admins[server] = admin
        return admin


def _mysql_server_url(value: str) -> URL:
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError(
            f"{MYSQL_CONNECTION_ENV} is not a MySQL connection string "
            "(expected mysql://user[:password]@host[:port])"
        ) from None
    # The server only (each test database gets its own name): URL.set() cannot clear one.
    return URL.create(
        "mysql+aiomysql",
        username=url.username,
        password=url.password,
        host=url.host,
        port=url.port,
        query={"charset": "utf8mb4"},
    )


def _connection(url: URL, default_port: int) -> dict[str, Any]:
    connection: dict[str, Any] = {
        "host": url.host or "127.0.0.1",
        "port": url.port or default_port,
    }
    if url.username:
        connection["user"] = url.username
    if url.password:
        connection["password"] = url.password
    return connection
