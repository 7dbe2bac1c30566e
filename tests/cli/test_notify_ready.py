"""A worker tells its supervisor it started, after writing out its queued log lines."""

from __future__ import annotations

import os

from backstage_runtime.cli._ready import LOG_FLUSH_TIMEOUT, READY_FD_ENV, notify_ready


def test_the_logs_are_written_out_before_the_supervisor_is_told() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    told_before_flush: list[bool] = []

    def flush(timeout: float) -> None:
        assert timeout == LOG_FLUSH_TIMEOUT
        try:
            told_before_flush.append(bool(os.read(read_end, 1)))
        except BlockingIOError:
            told_before_flush.append(False)

    try:
        notify_ready({READY_FD_ENV: str(write_end)}, flush_logs=flush)
        assert told_before_flush == [False]
        assert os.read(read_end, 1) == b"1"
        # The worker's end is closed: the supervisor sees end-of-file after the byte.
        assert os.read(read_end, 1) == b""
    finally:
        os.close(read_end)


def test_without_a_supervisor_nothing_is_flushed() -> None:
    flushed: list[float] = []
    notify_ready({}, flush_logs=flushed.append)
    assert flushed == []
