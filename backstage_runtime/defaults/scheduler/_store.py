"""The tasks table: every statement the scheduler sends to the database.

Each statement stands alone (autocommit) and is atomic by itself: a claim is one conditional
``UPDATE``, so two instances can never both hold a task, and no statement waits on a lock held
across round trips. MySQL has no ``RETURNING``: there a claim reads back the rows holding its
own ticket, and the janitor locks the rows it frees in a short transaction.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...api.errors import ConflictError, NotFoundError
from ._cron import next_fire_time
from ._dialect import Dialect, dialect_for
from ._invoke import CANCELLED, TIMED_OUT, error_json
from ._settings import TaskSettings

__all__ = ["TABLE", "PolledTask", "StoredTask", "TaskStore"]

#: Backstage's table name, so that Node and Python instances can share it.
TABLE = "backstage_backend_tasks__tasks"
# The longest a single statement may take before the scheduler gives up on it.
_STATEMENT_TIMEOUT = 30.0
# Large enough to claim a burst of due tasks at once, small enough for every driver's limit on
# bound parameters.
_CLAIM_CHUNK = 500


@dataclass(frozen=True)
class PolledTask:
    """One row as the poller sees it; times are seconds from the database's now."""

    id: str
    settings_json: str
    ticket: str | None
    #: Seconds until ``next_run_start_at`` (negative: overdue); None for an untriggered manual task.
    due_in: float | None
    #: Seconds until the lease expires, while one is held.
    lease_left: float | None


@dataclass(frozen=True)
class StoredTask:
    """A whole row, for the task listing."""

    id: str
    settings_json: str
    next_run_start_at: datetime | None
    current_run_started_at: datetime | None
    current_run_expires_at: datetime | None
    last_run_error_json: str | None
    last_run_ended_at: datetime | None


class TaskStore:
    """The plugin's ``backstage_backend_tasks__tasks`` table.

    Also keeps the offset between the database clock and this process's clock, learnt from every
    poll, so that cron times can be computed on the database's clock without asking it each time.
    """

    def __init__(self, engine: AsyncEngine, *, concurrency: int = 4) -> None:
        # Every statement is a single atomic one: no transaction needed around it.
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        # Except where MySQL, lacking RETURNING, needs a read and a write to stay together;
        # READ COMMITTED, so that InnoDB's locking scan keeps only the rows it matched locked.
        self._transactional = engine.execution_options(isolation_level="READ COMMITTED")
        self._dialect: Dialect = dialect_for(engine.dialect.name)
        # The plugin shares the engine's pool: leave it connections of its own in a burst.
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._clock_offset = 0.0
        self._statements: dict[str, TextClause] = {}

    def database_now(self) -> datetime:
        """The database's current time, from the offset measured at the last poll."""
        return datetime.fromtimestamp(time.time() + self._clock_offset, UTC)

    async def _execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        async with self._connection() as conn:
            return await conn.execute(self._text(sql), params or {})

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        # Shielded: a statement cancelled half-way (the scheduler stopping) can leave its pooled
        # connection neither in use nor back in the pool, and with SQLite's single connection
        # the next statement, a lease release at shutdown say, would wait for it forever. The
        # bound keeps a hung database from holding shutdown.
        with anyio.move_on_after(_STATEMENT_TIMEOUT, shield=True) as scope:
            async with self._limiter, self._engine.connect() as conn:
                yield conn
        if scope.cancelled_caught:
            raise TimeoutError(f"A scheduler statement took over {_STATEMENT_TIMEOUT:g}s")

    def _text(self, sql: str, *, expanding: str | None = None) -> TextClause:
        # The statements are a handful of fixed strings: parse each once, not at every run.
        clause = self._statements.get(sql)
        if clause is None:
            clause = text(sql)
            if expanding is not None:
                clause = clause.bindparams(bindparam(expanding, expanding=True))
            self._statements[sql] = clause
        return clause

    async def sync_clock(self) -> None:
        """Measure the database clock's offset now."""
        async with self._connection() as conn:
            await self._measure_clock(conn)

    async def _measure_clock(self, conn: AsyncConnection) -> None:
        before = time.time()
        value = (await conn.execute(text(f"SELECT {self._dialect.epoch_now}"))).scalar_one()
        self._clock_offset = float(value) - (before + time.time()) / 2

    # -- registration ----------------------------------------------------------------------------

    async def register(self, task_id: str, settings: TaskSettings) -> PolledTask:
        """Insert the task, or update its settings keeping the earlier of the stored and the newly
        computed next run, so that a restart neither skips nor repeats a run (a manual task's
        next run is cleared). Returns the row as a poll would see it."""
        d = self._dialect
        params: dict[str, Any] = {"id": task_id, "settings": settings.dumps()}
        kind = settings.kind
        if kind == "duration":
            params["cadence"] = d.seconds(settings.cadence_seconds or 0.0)
            computed = d.now_plus("cadence")
            first = d.now
        elif kind == "cron":
            params["fire"] = d.time(next_fire_time(settings.cadence, self.database_now()))
            computed = first = d.time_param("fire")
        else:
            computed = first = "NULL"
        if settings.initial_delay is not None:
            params["delay"] = d.seconds(settings.initial_delay_seconds)
            first = d.now_plus("delay")
        stored = f"{TABLE}.next_run_start_at"
        merged = (
            "NULL"
            if kind == "manual"
            else f"CASE WHEN {stored} IS NULL OR {computed} < {stored} THEN {computed} "
            f"ELSE {stored} END"
        )
        insert = (
            f"INSERT INTO {TABLE} (id, settings_json, next_run_start_at) "
            f"VALUES (:id, :settings, {first}) "
        )
        if d.returning:
            result = await self._execute(
                f"{insert}ON CONFLICT (id) DO UPDATE SET settings_json = excluded.settings_json, "
                f"next_run_start_at = {merged} RETURNING {self._timing_columns}",
                params,
            )
            return _polled(result.one())
        # MySQL: the upsert, then the row as it is now (its own statement: no RETURNING).
        async with self._connection() as conn:
            await conn.execute(
                self._text(
                    f"{insert}ON DUPLICATE KEY UPDATE settings_json = VALUES(settings_json), "
                    f"next_run_start_at = {merged}"
                ),
                params,
            )
            sql = f"SELECT {self._timing_columns} FROM {TABLE} WHERE id = :id"
            return _polled((await conn.execute(self._text(sql), {"id": task_id})).one())

    @property
    def _timing_columns(self) -> str:
        d = self._dialect
        return (
            f"id, settings_json, current_run_ticket, "
            f"{d.seconds_until('next_run_start_at')} AS due_in, "
            f"{d.seconds_until('current_run_expires_at')} AS lease_left"
        )

    # -- polling and leases ----------------------------------------------------------------------

    async def poll(self) -> list[PolledTask]:
        """Every row with its timing on the database clock; refreshes the clock offset."""
        sql = f"SELECT {self._timing_columns}, {self._dialect.epoch_now} AS db_now FROM {TABLE}"
        async with self._connection() as conn:
            before = time.time()
            rows = (await conn.execute(self._text(sql))).all()
            after = time.time()
        if rows:
            self._clock_offset = float(rows[0].db_now) - (before + after) / 2
        return [_polled(row) for row in rows]

    async def claim(self, task_ids: Sequence[str], ticket: str, timeout: float) -> set[str]:
        """Take the lease of those of ``task_ids`` that are due and free (or whose lease
        expired); the ids claimed. All get ``ticket`` and the same expiry, now + ``timeout``."""
        d = self._dialect
        claimed: set[str] = set()
        for start in range(0, len(task_ids), _CLAIM_CHUNK):
            chunk = list(task_ids[start : start + _CLAIM_CHUNK])
            statement = self._text(
                # next_run_start_at first: MySQL's SET sees the columns assigned before it.
                # Taking over an expired lease re-plans from now: the lost run's planned time is
                # a timeout old, and the next run must come a cadence after this one, not at once.
                f"UPDATE {TABLE} SET next_run_start_at = CASE WHEN current_run_ticket IS NULL "
                f"THEN next_run_start_at ELSE {d.now} END, "
                "current_run_ticket = :ticket, "
                f"current_run_started_at = {d.now}, "
                f"current_run_expires_at = {d.now_plus('timeout')} "
                f"WHERE id IN :ids AND next_run_start_at <= {d.now} "
                f"AND (current_run_ticket IS NULL OR current_run_expires_at < {d.now})"
                + (" RETURNING id" if d.returning else ""),
                expanding="ids",
            )
            params = {"ticket": ticket, "timeout": d.seconds(timeout), "ids": chunk}
            async with self._connection() as conn:
                result = await conn.execute(statement, params)
                if not d.returning:
                    # The ticket is this claim's own: the rows holding it are the ones it took.
                    result = await conn.execute(
                        self._text(
                            f"SELECT id FROM {TABLE} "
                            "WHERE id IN :ids AND current_run_ticket = :ticket",
                            expanding="ids",
                        ),
                        {"ids": chunk, "ticket": ticket},
                    )
                claimed.update(row.id for row in result)
        return claimed

    async def release(
        self, task_id: str, ticket: str, settings: TaskSettings, error: str | None
    ) -> tuple[bool, float | None]:
        """End a run: free the lease (only if ``ticket`` still holds it), record the outcome and
        set the next run: duration → ``max(planned start + cadence, now)`` (fixed rate on the
        planned time), cron → the next fire time, manual → none. Returns whether the lease was
        still held and the seconds until the next run."""
        d = self._dialect
        params: dict[str, Any] = {"id": task_id, "ticket": ticket, "error": error}
        next_run = self._next_run(settings, params)
        sql = (
            f"UPDATE {TABLE} SET next_run_start_at = {next_run}, current_run_ticket = NULL, "
            "current_run_started_at = NULL, current_run_expires_at = NULL, "
            f"last_run_ended_at = {d.now}, last_run_error_json = :error "
            "WHERE id = :id AND current_run_ticket = :ticket"
        )
        due_in = f"{d.seconds_until('next_run_start_at')} AS due_in"
        if d.returning:
            row = (await self._execute(f"{sql} RETURNING {due_in}", params)).first()
        else:
            async with self._connection() as conn:
                if (await conn.execute(self._text(sql), params)).rowcount < 1:
                    return False, None
                select = f"SELECT {due_in} FROM {TABLE} WHERE id = :id"
                row = (await conn.execute(self._text(select), {"id": task_id})).first()
        if row is None:
            return False, None
        return True, None if row.due_in is None else float(row.due_in)

    async def unclaim(self, task_id: str, ticket: str) -> None:
        """Give a lease back untouched (a claim that must not run after all)."""
        await self._execute(
            f"UPDATE {TABLE} SET current_run_ticket = NULL, current_run_started_at = NULL, "
            "current_run_expires_at = NULL WHERE id = :id AND current_run_ticket = :ticket",
            {"id": task_id, "ticket": ticket},
        )

    def _next_run(self, settings: TaskSettings, params: dict[str, Any]) -> str:
        d = self._dialect
        if settings.kind == "duration":
            params["cadence"] = d.seconds(settings.cadence_seconds or 0.0)
            return d.greatest(d.column_plus("next_run_start_at", "cadence"), d.now)
        if settings.kind == "cron":
            params["fire"] = d.time(next_fire_time(settings.cadence, self.database_now()))
            return d.time_param("fire")
        return "NULL"

    # -- manual control ----------------------------------------------------------------------------

    async def trigger(self, task_id: str) -> None:
        """Make the task due now; :class:`NotFoundError` if there is no such task,
        :class:`ConflictError` while it runs."""
        await self._require(task_id)
        result = await self._execute(
            f"UPDATE {TABLE} SET next_run_start_at = {self._dialect.now} "
            "WHERE id = :id AND current_run_ticket IS NULL",
            {"id": task_id},
        )
        if result.rowcount < 1:
            raise ConflictError(f"Task {task_id} is currently running")

    async def cancel(self, task_id: str) -> None:
        """Take the lease away from whoever runs the task (the holder notices at its next poll)
        and schedule the next run; :class:`NotFoundError` / :class:`ConflictError` (not
        running)."""
        settings_json = await self._require(task_id)
        params: dict[str, Any] = {"id": task_id, "error": error_json(CANCELLED)}
        try:
            next_run = self._next_run(TaskSettings.loads(settings_json), params)
        except ValueError:
            next_run = "next_run_start_at"  # settings of another version: leave its plan alone
        result = await self._execute(
            f"UPDATE {TABLE} SET next_run_start_at = {next_run}, current_run_ticket = NULL, "
            "current_run_started_at = NULL, current_run_expires_at = NULL, "
            f"last_run_ended_at = {self._dialect.now}, last_run_error_json = :error "
            "WHERE id = :id AND current_run_ticket IS NOT NULL",
            params,
        )
        if result.rowcount < 1:
            raise ConflictError(f"Task {task_id} is not running")

    async def _require(self, task_id: str) -> str:
        sql = f"SELECT settings_json FROM {TABLE} WHERE id = :id"
        row = (await self._execute(sql, {"id": task_id})).first()
        if row is None:
            raise NotFoundError(f"Task {task_id} does not exist")
        return str(row.settings_json)

    # -- janitor and listing ---------------------------------------------------------------------

    async def free_expired(self) -> list[str]:
        """Free the leases whose holder outlived its timeout (it died, or ignores cancellation);
        the ids freed. The lost run is due again at once (planned from now, so that the run after
        it comes a cadence later)."""
        now = self._dialect.now
        sql = (
            f"UPDATE {TABLE} SET current_run_ticket = NULL, current_run_started_at = NULL, "
            f"current_run_expires_at = NULL, last_run_ended_at = {now}, "
            f"next_run_start_at = CASE WHEN next_run_start_at IS NULL THEN NULL ELSE {now} END, "
            f"last_run_error_json = :error WHERE current_run_expires_at < {now}"
        )
        params = {"error": error_json(TIMED_OUT)}
        if self._dialect.returning:
            return [row.id for row in await self._execute(f"{sql} RETURNING id", params)]
        # MySQL: lock the expired rows, free exactly those, in one transaction.
        with anyio.move_on_after(_STATEMENT_TIMEOUT, shield=True) as scope:
            async with self._limiter, self._transactional.begin() as conn:
                select = f"SELECT id FROM {TABLE} WHERE current_run_expires_at < {now} FOR UPDATE"
                ids = list((await conn.execute(self._text(select))).scalars())
                if ids:
                    await conn.execute(
                        self._text(f"{sql} AND id IN :ids", expanding="ids"),
                        {**params, "ids": ids},
                    )
        if scope.cancelled_caught:
            raise TimeoutError(f"A scheduler statement took over {_STATEMENT_TIMEOUT:g}s")
        return ids

    async def rows(self, task_ids: Iterable[str] | None = None) -> dict[str, StoredTask]:
        """The rows of ``task_ids`` (every row when None), by id."""
        read = self._dialect.read_time
        result = await self._execute(
            "SELECT id, settings_json, next_run_start_at, current_run_started_at, "
            "current_run_expires_at, last_run_error_json, last_run_ended_at "
            f"FROM {TABLE}"
        )
        wanted = None if task_ids is None else set(task_ids)
        return {
            row.id: StoredTask(
                id=row.id,
                settings_json=row.settings_json,
                next_run_start_at=read(row.next_run_start_at),
                current_run_started_at=read(row.current_run_started_at),
                current_run_expires_at=read(row.current_run_expires_at),
                last_run_error_json=row.last_run_error_json,
                last_run_ended_at=read(row.last_run_ended_at),
            )
            for row in result
            if wanted is None or row.id in wanted
        }


def _polled(row: Any) -> PolledTask:
    return PolledTask(
        id=row.id,
        settings_json=row.settings_json,
        ticket=row.current_run_ticket,
        due_in=None if row.due_in is None else float(row.due_in),
        lease_left=None if row.lease_left is None else float(row.lease_left),
    )
