"""``backend.eventLoop``: ``serve`` runs the backend on asyncio's loop or on uvloop."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from _support.serve import ServeProcess

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.cli._event_loop import read_event_loop
from backstage_runtime.defaults.root_config import create_config_from_data


def loop_of(value: object) -> str:
    data = {} if value is None else {"backend": {"eventLoop": value}}
    return read_event_loop(create_config_from_data(data))


def test_asyncio_is_the_default() -> None:
    assert loop_of(None) == "asyncio"
    assert loop_of("asyncio") == "asyncio"


def test_uvloop_and_auto_choose_uvloop_when_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert loop_of("uvloop") == "uvloop"
    assert loop_of("auto") == "uvloop"


def test_without_uvloop_auto_falls_back_and_uvloop_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if not installed
    assert loop_of("auto") == "asyncio"
    with pytest.raises(ConfigError, match=r"'backend.eventLoop': 'uvloop' is not installed"):
        loop_of("uvloop")


def test_an_unknown_loop_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"Invalid config at 'backend.eventLoop'.*got 'trio'"):
        loop_of("trio")


@pytest.mark.anyio
@pytest.mark.parametrize("choice", ["asyncio", "uvloop"])
async def test_serve_runs_the_backend_on_the_chosen_loop(tmp_path: Path, choice: str) -> None:
    if choice == "uvloop":
        pytest.importorskip("uvloop")
    (tmp_path / "app-config.yaml").write_text(
        "backend:\n"
        "  baseUrl: http://localhost:7007\n"
        "  listen: {host: 127.0.0.1, port: 0}\n"
        f"  eventLoop: {choice}\n"
        "  lifecycle: {serverShutdownDelay: 0s}\n"
    )
    serve = await ServeProcess.start(tmp_path)
    try:
        port = (await serve.read_until("Listening on"))["port"]
        started = await serve.read_until("Backend started")
        url = f"http://127.0.0.1:{port}/.backstage/health/v1/readiness"
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 200
        serve.send_signal(signal.SIGTERM)
        assert await serve.wait() == 0
    finally:
        await serve.kill()

    assert started["eventLoop"] == choice
