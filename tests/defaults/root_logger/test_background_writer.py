"""Lines to the process's stdout are written by a thread: a blocked stdout never blocks the
logger's caller, and nothing queued is lost when the backend stops or the process exits.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Generator

import pytest

from backstage_runtime.defaults.root_logger import BackstageLogger, root_logger_service_factory

from .fakes import FakeConfig


class BlockedStream(io.StringIO):
    """A stream whose writes wait until :attr:`open` is set (a pipe nobody reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.open = threading.Event()
        self.entered = threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        assert self.open.wait(10), "the stream was never opened"
        return super().write(text)


def messages(text: str) -> list[str]:
    return [json.loads(line)["message"] for line in text.splitlines()]


def test_logging_returns_while_the_stream_is_blocked() -> None:
    stream = BlockedStream()
    logger = BackstageLogger(stream=stream, format="json", background=True)

    logger.info("first")
    assert stream.entered.wait(5)  # the writer thread is stuck in write()
    began = time.monotonic()
    for index in range(100):
        logger.info(f"line {index}")
    assert time.monotonic() - began < 5  # none of them waited for the stream
    stream.open.set()
    logger.flush()

    assert messages(stream.getvalue()) == ["first", *(f"line {i}" for i in range(100))]


def test_logging_after_a_flush_starts_the_writer_again() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(stream=stream, format="json", background=True)

    logger.info("before")
    logger.flush()
    assert messages(stream.getvalue()) == ["before"]
    logger.warn("after")
    logger.flush()

    assert messages(stream.getvalue()) == ["before", "after"]


def test_other_streams_are_written_synchronously() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(stream=stream, format="json")

    logger.info("at once")

    assert messages(stream.getvalue()) == ["at once"]


def _run(code: str) -> list[str]:
    env = {**os.environ, "LOG_FORMAT": "json", "LOG_LEVEL": "warn"}
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    return completed.stdout.splitlines()


def test_a_process_that_exits_without_stopping_writes_every_line() -> None:
    lines = _run(
        "from backstage_runtime.defaults.root_logger import BackstageLogger\n"
        "logger = BackstageLogger(format='json')\n"
        "assert logger._output.background is not None\n"
        "for index in range(2000):\n"
        "    logger.warn(f'line {index}')\n"
    )

    assert messages("\n".join(lines)) == [f"line {i}" for i in range(2000)]


def test_the_root_logger_service_writes_out_its_queue_when_the_backend_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The process's stdout, as a pipe nobody reads yet.
    stdout = BlockedStream()
    monkeypatch.setattr(sys, "__stdout__", stdout)
    factory = root_logger_service_factory(stream=stdout, env={"LOG_FORMAT": "json"})
    service = factory.factory(config=FakeConfig({}))
    assert isinstance(service, Generator)
    logger = next(service)
    for index in range(100):
        logger.info(f"line {index}")  # queued: the writer thread waits on the stream

    # Closing the generator is what the backend's stop does with the service.
    stop = threading.Thread(target=service.close)
    stop.start()
    stop.join(0.2)
    assert stop.is_alive(), "the stop returned with lines still queued"
    stdout.open.set()
    stop.join(5)

    assert not stop.is_alive()
    assert messages(stdout.getvalue()) == [f"line {i}" for i in range(100)]


def test_lines_from_many_threads_are_all_written_each_threads_in_its_order() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(stream=stream, format="json", background=True)
    start = threading.Barrier(8)

    def log_from(thread: int) -> None:
        start.wait()
        for index in range(300):
            logger.info(f"{thread} {index}")

    threads = [threading.Thread(target=log_from, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    logger.flush()

    written = [message.split(" ") for message in messages(stream.getvalue())]
    assert len(written) == 8 * 300
    for number in range(8):
        assert [int(i) for t, i in written if t == str(number)] == list(range(300))


def test_lines_logged_while_a_flush_waits_are_written_after_the_earlier_ones() -> None:
    stream = BlockedStream()
    logger = BackstageLogger(stream=stream, format="json", background=True)
    logger.info("before 0")
    assert stream.entered.wait(5)  # the writer thread is stuck in write()
    logger.info("before 1")
    flushing = threading.Thread(target=logger.flush)
    flushing.start()
    flushing.join(0.1)
    assert flushing.is_alive(), "the flush returned with lines still queued"

    logger.info("during")  # queued behind the flush's wait
    stream.open.set()
    flushing.join(5)
    logger.flush()

    assert not flushing.is_alive()
    assert messages(stream.getvalue()) == ["before 0", "before 1", "during"]


def test_a_line_written_as_the_writer_stops_is_not_stranded() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(stream=stream, format="json", background=True)

    # Each flush stops the writer thread; the next line must start one again (or find the
    # stopping one still able to take it), however close to the stop it comes.
    for index in range(200):
        logger.info(f"line {index}")
        stopper = threading.Thread(target=logger.flush)
        stopper.start()
        logger.info(f"racing {index}")
        stopper.join(5)
    logger.flush()

    expected = [line for i in range(200) for line in (f"line {i}", f"racing {i}")]
    assert messages(stream.getvalue()) == expected


class CountingStream(io.StringIO):
    """A stream that records each write and signals the first one."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []
        self.written = threading.Event()

    def write(self, text: str) -> int:
        self.writes.append(text)
        self.written.set()
        return super().write(text)


def test_lines_logged_together_share_one_write_and_a_flush_does_not_wait_for_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backstage_runtime.defaults.root_logger import _writer

    # A wait longer than the test: only the flush can end it.
    monkeypatch.setattr(_writer, "LINGER_SECONDS", 60.0)
    stream = CountingStream()
    logger = BackstageLogger(stream=stream, format="json", background=True)
    for index in range(50):
        logger.info(f"line {index}")
    began = time.monotonic()
    logger.flush()

    assert time.monotonic() - began < 30
    assert len(stream.writes) == 1
    assert messages(stream.getvalue()) == [f"line {i}" for i in range(50)]


def test_a_line_is_written_without_a_flush() -> None:
    stream = CountingStream()
    logger = BackstageLogger(stream=stream, format="json", background=True)

    logger.info("soon")

    assert stream.written.wait(5)
    assert messages(stream.getvalue()) == ["soon"]
    logger.flush()
