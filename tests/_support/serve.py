"""``backstage-runtime serve`` in a subprocess, its JSON log lines read as they come."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream

CLI = Path(sys.executable).with_name("backstage-runtime")
REPO = Path(__file__).resolve().parents[2]


class ServeProcess:
    """A running ``backstage-runtime serve``; every stdout line must be a JSON log entry."""

    def __init__(self, process: Process) -> None:
        self.process = process
        assert process.stdout is not None
        self._stdout = BufferedByteReceiveStream(process.stdout)
        self.lines: list[dict[str, Any]] = []

    @classmethod
    async def start(
        cls, cwd: Path, args: Sequence[str] = (), env: Mapping[str, str] | None = None
    ) -> ServeProcess:
        """Start ``serve`` in ``cwd`` with JSON logs."""
        process = await anyio.open_process(
            [str(CLI), "serve", *args],
            cwd=cwd,
            stderr=sys.stderr,
            env={**os.environ, "LOG_FORMAT": "json", **(env or {})},
        )
        return cls(process)

    async def _next_line(self) -> dict[str, Any] | None:
        try:
            raw = await self._stdout.receive_until(b"\n", 1 << 20)
        except (anyio.EndOfStream, anyio.IncompleteRead):
            return None
        entry: dict[str, Any] = json.loads(raw)
        self.lines.append(entry)
        return entry

    async def read_until(self, message_start: str, timeout: float = 30) -> dict[str, Any]:
        """The first (further) entry whose message starts with ``message_start``."""
        try:
            with anyio.fail_after(timeout):
                while True:
                    entry = await self._next_line()
                    if entry is None:
                        raise AssertionError(
                            f"serve exited before {message_start!r}: {self.lines}"
                        )
                    if entry["message"].startswith(message_start):
                        return entry
        except TimeoutError:
            # Say what did arrive: a missing line is otherwise a bare timeout.
            seen = [(e.get("pid"), e.get("worker"), e["message"]) for e in self.lines[-30:]]
            raise AssertionError(
                f"no {message_start!r} within {timeout:g}s; the last lines: {seen}"
            ) from None

    async def drain(self) -> None:
        """Read (and keep) every further line until the process closes its output: a process
        whose log lines nobody reads blocks on its full stdout pipe and stops serving.
        """
        while await self._next_line() is not None:
            pass

    def send_signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the process."""
        self.process.send_signal(sig)

    async def wait(self, timeout: float = 30) -> int:
        """Read the remaining lines and return the exit status."""
        with anyio.fail_after(timeout):
            while await self._next_line() is not None:
                pass
            return await self.process.wait()

    async def kill(self) -> None:
        """Make sure the process is gone (test cleanup)."""
        if self.process.returncode is None:
            self.process.kill()
            with anyio.move_on_after(10):
                await self.process.wait()
        await self.process.aclose()


def install_fake_distribution(site: Path, name: str, module_source: str, entry: str) -> None:
    """Make ``site`` hold a module ``<name>.py`` and a ``.dist-info`` advertising ``entry``
    (``"<entry name> = <module>:<attr>"``) in the ``backstage_runtime.features`` group; put
    ``site`` on ``PYTHONPATH`` and ``importlib.metadata`` finds it like an installed package.
    """
    site.mkdir(parents=True, exist_ok=True)
    (site / f"{name}.py").write_text(module_source)
    dist_info = site / f"{name}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[backstage_runtime.features]\n{entry}\n")


def install_contrib_distribution(site: Path, name: str) -> None:
    """Install the distribution ``contrib/<name>`` into the folder ``site`` (its dependencies
    are the running environment's; nothing is downloaded, nothing installed into it): with
    ``site`` on ``PYTHONPATH``, a ``serve`` subprocess finds its entry points.
    """
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(REPO / "contrib" / name),
        ],
        check=True,
    )
