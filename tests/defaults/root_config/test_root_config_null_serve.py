"""A real ``serve`` whose later config file nulls a section the earlier one set.

Node starts with such a file (``null`` hides the earlier value); this used to exit 1 with
``got null, wanted object``.
"""

from __future__ import annotations

import signal
import textwrap
from pathlib import Path

import aiohttp
import pytest
from _support.serve import ServeProcess

pytestmark = pytest.mark.anyio

BASE = textwrap.dedent(
    """
    backend:
      baseUrl: http://localhost:7007
      listen: {host: 127.0.0.1, port: 0}
      cors:
        origin: http://localhost:3000
      csp:
        connect-src: ["'self'", 'http:', 'https:']
      auth:
        externalAccess:
          - type: static
            options: {token: abcdefghijklmnop, subject: ci}
    """
)


@pytest.mark.parametrize(
    "nulls",
    [
        "backend:\n  cors:\n",
        "backend:\n  csp:\n",
        "backend:\n  auth:\n    # externalAccess: []\n",
        "backend:\n  auth:\n    externalAccess:\n",
    ],
    ids=["cors", "csp", "auth", "externalAccess"],
)
async def test_serve_reaches_readiness_with_a_nulled_section(tmp_path: Path, nulls: str) -> None:
    (tmp_path / "app-config.yaml").write_text(BASE)
    (tmp_path / "n.yaml").write_text(nulls)
    serve = await ServeProcess.start(
        tmp_path, ["--config", "app-config.yaml", "--config", "n.yaml"]
    )
    try:
        port = (await serve.read_until("Listening on"))["port"]
        await serve.read_until("Backend started")
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/.backstage/health/v1/readiness") as response,
        ):
            readiness = (response.status, await response.json())
        serve.send_signal(signal.SIGTERM)
        status = await serve.wait()
    finally:
        await serve.kill()
    assert readiness == (200, {"status": "ok"})
    assert status == 0
