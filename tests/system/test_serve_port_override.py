"""``backstage-runtime serve --port`` over ``backend.listen: "host:port"`` in the config file."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from _support.http import request
from _support.serve import ServeProcess

pytestmark = pytest.mark.anyio


async def test_port_flag_overrides_a_string_listen_and_keeps_its_host(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text(
        'backend:\n  baseUrl: http://localhost:7007\n  listen: "127.0.0.1:1"\n'
    )
    serve = await ServeProcess.start(tmp_path, ["--port", "0"])
    try:
        listening = await serve.read_until("Listening on")
        await serve.read_until("Backend started")
        reply = await request(
            "GET", f"http://127.0.0.1:{listening['port']}/.backstage/health/v1/liveness"
        )
        serve.send_signal(signal.SIGTERM)
        status = await serve.wait()
    finally:
        await serve.kill()

    assert listening["message"].startswith("Listening on 127.0.0.1:")
    assert listening["host"] == "127.0.0.1"
    assert listening["port"] not in (0, 1)
    assert (reply.status, reply.json()) == (200, {"status": "ok"})
    assert status == 0
