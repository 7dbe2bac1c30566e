"""A private redis-server for tests that stop, pause or restart Redis (never the shared one)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess

import anyio
from anyio.abc import Process
from redis.asyncio import Redis
from redis.exceptions import RedisError

from backstage_runtime.testing._infrastructure import infrastructure_missing

from ._polling import eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """``redis-server --port N`` without persistence; start/stop/pause it at will."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            infrastructure_missing("redis-server", "the binary is not on PATH")
        self._binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self._process: Process | None = None

    async def start(self) -> None:
        self._process = await anyio.open_process(
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await eventually(self.responds, what=f"redis-server on port {self.port} to start")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # in case it was paused
        process.terminate()
        await process.wait()

    def pause(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    async def connected_clients(self) -> int:
        """Clients connected besides the probe asking."""
        async with Redis.from_url(self.url, socket_timeout=2) as probe:
            info = await probe.info("clients")
        return int(info["connected_clients"]) - 1

    async def responds(self) -> bool:
        """Whether the server answers a PING."""
        try:
            async with Redis.from_url(self.url, socket_timeout=1) as probe:
                return bool(await probe.ping())
        except (RedisError, OSError):
            return False
