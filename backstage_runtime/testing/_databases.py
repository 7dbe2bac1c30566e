"""Databases for tests: every supported engine (``TestDatabases``) and an in-memory mock.

Backstage's ``TestDatabases`` in Python. Parametrize a test over the engines and ask for a
database of the one at hand; PostgreSQL comes from
``BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING`` (default: ``postgres`` on localhost),
MySQL or MariaDB from ``BACKSTAGE_TEST_DATABASE_MYSQL8_CONNECTION_STRING`` (default: ``root``
without a password on localhost)::

    @pytest.mark.parametrize("database_id", TestDatabases.each_supported_id())
    async def test_stores_todos(database_id: str, test_databases: TestDatabases) -> None:
        config = await test_databases.backend_config(database_id)
        async with start_test_backend(
            features=[database_service_factory(), todo_plugin],
            config={"backend": {"database": config}},
        ) as backend:
            ...

When a server is unreachable the test is skipped, or fails when ``CI`` is set. The pytest
plugin's ``test_databases`` fixture is ``async with TestDatabases.create() as databases``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable
from types import TracebackType
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from ..api import (
    RootLifecycleService,
    ServiceFactory,
    core_services,
    create_service_factory,
)
from ..api.services.database import DatabaseService
from ..api.services.logger import LoggerService
from ..defaults.database import DatabaseManager, PluginDatabase
from ._infrastructure import infrastructure_missing
from ._mock_logger import MockRootLogger
from ._service_mock import ServiceMock, create_service_mock

__all__ = [
    "ALL_DATABASE_IDS",
    "MYSQL_CONNECTION_ENV",
    "POSTGRES_CONNECTION_ENV",
    "MockDatabase",
    "MockPluginDatabase",
    "TestDatabaseId",
    "TestDatabases",
    "mock_database",
]

#: The engines a test can run against (``MYSQL_8`` as Backstage names it; MariaDB serves too).
TestDatabaseId = Literal["SQLITE_3", "POSTGRES", "MYSQL_8"]
ALL_DATABASE_IDS: tuple[TestDatabaseId, ...] = ("SQLITE_3", "POSTGRES", "MYSQL_8")
#: Where the test PostgreSQL server is; any database on it (the helper creates its own).
POSTGRES_CONNECTION_ENV = "BACKSTAGE_TEST_DATABASE_POSTGRES_CONNECTION_STRING"
#: Where the test MySQL/MariaDB server is (``mysql://user[:password]@host[:port]``).
MYSQL_CONNECTION_ENV = "BACKSTAGE_TEST_DATABASE_MYSQL8_CONNECTION_STRING"
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
        ids: Iterable[TestDatabaseId] = ALL_DATABASE_IDS,
        *,
        postgres_url: str | None = None,
        mysql_url: str | None = None,
    ) -> None:
        self._ids = tuple(ids)
        for database_id in self._ids:
            _check_id(database_id)
        self._postgres_url = make_url(
            postgres_url or os.environ.get(POSTGRES_CONNECTION_ENV) or _DEFAULT_POSTGRES
        ).set(drivername="postgresql+asyncpg")
        self._mysql_url = _mysql_server_url(
            mysql_url or os.environ.get(MYSQL_CONNECTION_ENV) or _DEFAULT_MYSQL
        )
        self._token = uuid.uuid4().hex[:12]
        self._counter = 0
        self._admins: dict[str, AsyncEngine] = {}
        self._engines: list[AsyncEngine] = []
        self._databases: dict[str, list[str]] = {"POSTGRES": [], "MYSQL_8": []}
        self._prefixes: list[str] = []

    @classmethod
    def create(cls, ids: Iterable[TestDatabaseId] | None = None) -> TestDatabases:
        """Databases for ``ids`` (default: every engine); close them with :meth:`close`."""
        return cls(ALL_DATABASE_IDS if ids is None else ids)

    @staticmethod
    def each_supported_id(
        ids: Iterable[TestDatabaseId] | None = None,
    ) -> list[TestDatabaseId]:
        """The ids to parametrize a test with. The servers are always listed: when one is down
        the test says so (skip, or fail on CI) rather than silently running on SQLite alone.
        """
        return list(ALL_DATABASE_IDS if ids is None else ids)

    def supports(self, database_id: str) -> bool:
        """Whether ``database_id`` is among this instance's engines."""
        return database_id in self._ids

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
        if database_id == "SQLITE_3":
            # One pooled connection: an in-memory database lives exactly as long as it.
            engine = create_async_engine(
                "sqlite+aiosqlite://", poolclass=AsyncAdaptedQueuePool, pool_size=1, max_overflow=0
            )
        elif database_id == "MYSQL_8":
            name = await self.create_mysql_database()
            engine = create_async_engine(
                self._mysql_url.set(database=name), pool_size=5, max_overflow=0
            )
        else:
            name = await self.create_postgres_database()
            engine = create_async_engine(
                self._postgres_url.set(database=name), pool_size=5, max_overflow=0
            )
        self._engines.append(engine)
        return engine

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
        if database_id == "SQLITE_3":
            if division_mode != "database":
                raise ValueError("SQLite only supports the 'database' plugin division mode")
            return {"client": "better-sqlite3", "connection": ":memory:"}
        if database_id == "MYSQL_8":
            if division_mode != "database":
                raise ValueError("MySQL only supports the 'database' plugin division mode")
            await self._admin_engine("MYSQL_8")
            return {
                "client": "mysql2",
                "connection": self.mysql_connection(),
                "knexConfig": {"pool": dict(_TEST_POOL)},
                "prefix": self._new_prefix(),
            }
        await self._admin_engine("POSTGRES")
        config: dict[str, Any] = {
            "client": "pg",
            "connection": self.postgres_connection(),
            "knexConfig": {"pool": dict(_TEST_POOL)},
        }
        if division_mode == "schema":
            config["pluginDivisionMode"] = "schema"
            config["connection"]["database"] = await self.create_postgres_database()
        else:
            config["prefix"] = self._new_prefix()
        return config

    def postgres_connection(self) -> dict[str, Any]:
        """The server's ``connection`` object, in ``backend.database`` form (no database)."""
        return _connection(self._postgres_url, 5432)

    def mysql_connection(self) -> dict[str, Any]:
        """The MySQL server's ``connection`` object, in ``backend.database`` form (no
        database; the password is given even when empty, as a passwordless root needs)."""
        connection = _connection(self._mysql_url, 3306)
        connection.setdefault("password", self._mysql_url.password or "")
        return connection

    async def create_postgres_database(self) -> str:
        """Create an empty PostgreSQL database (dropped at :meth:`close`); its name."""
        return await self._create_database("POSTGRES", _PG_QUOTE)

    async def create_mysql_database(self) -> str:
        """Create an empty MySQL database (dropped at :meth:`close`); its name."""
        return await self._create_database("MYSQL_8", _MYSQL_QUOTE)

    def track_prefix(self, prefix: str) -> None:
        """Also drop, at :meth:`close`, every database on the servers whose name starts with
        ``prefix`` (for configs built by hand)."""
        self._prefixes.append(prefix)

    async def close(self) -> None:
        """Dispose every engine handed out and drop every database created."""
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
            names = list(self._databases[server])
            for prefix in self._prefixes:
                result = await conn.execute(text(_LIST_DATABASES[server]), {"p": prefix})
                names.extend(result.scalars())
            for name in dict.fromkeys(names):
                await _DROPS[server](conn, name)

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
        self._databases[server].append(name)
        async with admin.connect() as conn:
            await conn.execute(text(f"CREATE DATABASE {_quote(name, quote)}"))
        return name

    def _check_supported(self, database_id: str) -> None:
        _check_id(database_id)
        if not self.supports(database_id):
            raise ValueError(f"Database id '{database_id}' is not among {list(self._ids)}")

    async def _admin_engine(self, server: str) -> AsyncEngine:
        admin = self._admins.get(server)
        if admin is None:
            url, what, env = (
                (self._mysql_url, "MySQL", MYSQL_CONNECTION_ENV)
                if server == "MYSQL_8"
                else (self._postgres_url, "PostgreSQL", POSTGRES_CONNECTION_ENV)
            )
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


# Names starting with :p (LIKE would treat the prefix's "_" as a wildcard).
_LIST_DATABASES = {
    "POSTGRES": "SELECT datname FROM pg_database WHERE left(datname, length(:p)) = :p",
    "MYSQL_8": (
        "SELECT schema_name FROM information_schema.schemata "
        "WHERE LEFT(schema_name, CHAR_LENGTH(:p)) = :p"
    ),
}


async def _drop_postgres_database(conn: AsyncConnection, name: str) -> None:
    # Engines a test forgot to dispose would keep the database busy: end their sessions.
    await conn.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"
        ),
        {"name": name},
    )
    await conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(name, _PG_QUOTE)}"))


async def _drop_mysql_database(conn: AsyncConnection, name: str) -> None:
    # A forgotten session in a transaction would hold a metadata lock and block DROP forever.
    sessions = await conn.execute(
        text(
            "SELECT id FROM information_schema.processlist "
            "WHERE db = :name AND id <> CONNECTION_ID()"
        ),
        {"name": name},
    )
    for session in sessions.scalars().all():
        with contextlib.suppress(DBAPIError):  # it may have ended on its own meanwhile
            await conn.execute(text(f"KILL {int(session)}"))
    await conn.execute(text(f"DROP DATABASE IF EXISTS {_quote(name, _MYSQL_QUOTE)}"))


_PG_QUOTE, _MYSQL_QUOTE = '"', "`"


def _quote(name: str, quote: str) -> str:
    # Names come from prefixes found on the server, possibly built by hand: quote them.
    return quote + name.replace(quote, quote * 2) + quote


_DROPS = {"POSTGRES": _drop_postgres_database, "MYSQL_8": _drop_mysql_database}


def _check_id(database_id: str) -> None:
    if database_id not in ALL_DATABASE_IDS:
        raise ValueError(
            f"Unknown test database id '{database_id}', expected one of "
            f"{', '.join(ALL_DATABASE_IDS)}"
        )


# -- the mock -------------------------------------------------------------------------------


class MockPluginDatabase(PluginDatabase):
    """A plugin database on a private in-memory SQLite; close it with :meth:`aclose` or use it
    as ``async with``."""

    def __init__(self, manager: DatabaseManager, plugin_id: str) -> None:
        database = manager.for_plugin(plugin_id)
        super().__init__(database.settings, database.get_client, _quiet_logger())
        self._manager = manager

    async def aclose(self) -> None:
        """Dispose the engine (idempotent)."""
        await self._manager.dispose()

    async def __aenter__(self) -> MockPluginDatabase:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class MockDatabase:
    """``mock_services.database``: in-memory SQLite databases, whatever the config says."""

    def __call__(
        self, plugin_id: str = "test", *, skip_migrations: bool = False
    ) -> MockPluginDatabase:
        """A database service for ``plugin_id``; ``async with`` it (or ``await aclose()``)."""
        manager = DatabaseManager(None, logger=_quiet_logger(), skip_migrations=skip_migrations)
        return MockPluginDatabase(manager, plugin_id)

    def factory(self, *, skip_migrations: bool | None = None) -> ServiceFactory[DatabaseService]:
        """A ``core.database`` factory giving each plugin its own in-memory SQLite database,
        ignoring ``backend.database``; the engines are disposed when the backend stops."""

        def create_root_context(
            *, root_logger: LoggerService, root_lifecycle: RootLifecycleService
        ) -> DatabaseManager:
            manager = DatabaseManager(
                None,
                logger=root_logger.child({"type": "database"}),
                skip_migrations=skip_migrations,
            )
            root_lifecycle.add_shutdown_hook(manager.dispose)
            return manager

        def factory(
            manager: DatabaseManager, *, plugin_metadata: Any, logger: LoggerService, **_: object
        ) -> PluginDatabase:
            return manager.for_plugin(plugin_metadata.get_id(), logger=logger)

        return create_service_factory(
            service=core_services.database,
            deps={
                "root_logger": core_services.root_logger,
                "root_lifecycle": core_services.root_lifecycle,
                "plugin_metadata": core_services.plugin_metadata,
                "logger": core_services.logger,
            },
            create_root_context=create_root_context,
            factory=factory,
        )

    def mock(self, **implementations: Any) -> ServiceMock:
        """A double of ``core.database``: ``get_client`` and the rest record their calls;
        ``skip_migrations`` and ``migrations`` are None unless given.
        """
        return create_service_mock(core_services.database, DatabaseService, implementations)


def _quiet_logger() -> LoggerService:
    return MockRootLogger(level="warn")


#: The mock database service; exposed as ``mock_services.database``.
mock_database = MockDatabase()
