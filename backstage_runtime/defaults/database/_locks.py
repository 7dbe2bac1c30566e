"""Locks that keep concurrent starts from stepping on each other."""

from __future__ import annotations

import asyncio
import hashlib
import weakref

__all__ = ["advisory_lock_key", "alembic_lock", "quote_identifier"]

_ALEMBIC_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def advisory_lock_key(*parts: str) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) naming ``parts``.

    Hashing keeps keys stable across processes and Python versions (``hash()`` is salted),
    so every instance of a deployment agrees on the key for, say, one plugin's migrations.
    """
    text = "\x1f".join(("backstage-runtime", *parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


def alembic_lock() -> asyncio.Lock:
    """The lock every Alembic run of this event loop holds.

    Alembic publishes the running migration through module globals (``alembic.op``,
    ``alembic.context``); two plugins migrating at once in one event loop would interleave at
    each database round trip and run each other's operations. One lock per event loop, because
    an asyncio lock belongs to a single loop (tests run one loop per test).
    """
    loop = asyncio.get_running_loop()
    lock = _ALEMBIC_LOCKS.get(loop)
    if lock is None:
        lock = _ALEMBIC_LOCKS[loop] = asyncio.Lock()
    return lock


def quote_identifier(name: str) -> str:
    """``name`` as a quoted PostgreSQL identifier (for DDL, where parameters are not allowed)."""
    return '"' + name.replace('"', '""') + '"'
