"""The sockets a ``serve --workers`` supervisor hands its workers, on real sockets."""

from __future__ import annotations

import errno
import socket
from collections import Counter
from collections.abc import Iterator

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.cli._worker_sockets import WorkerSockets, balances_reuse_port
from backstage_runtime.http_toolkit import ListenOptions

LOCAL = ListenOptions("127.0.0.1", 0)


@pytest.fixture
def sockets() -> Iterator[WorkerSockets]:
    if not balances_reuse_port():
        # Where the kernel does not spread connections over SO_REUSEPORT sockets, workers
        # share one listening socket.
        pytest.skip("SO_REUSEPORT spreads connections on Linux only")
    held = WorkerSockets(LOCAL, per_worker=True)
    yield held
    held.close()


def _worker_socket(sockets: WorkerSockets) -> socket.socket:
    # As a worker does with its inherited copy: listen on it (the supervisor's copy is closed).
    sock = sockets.for_worker()
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _accepted_by(listeners: list[socket.socket], connections: int, port: int) -> Counter[int]:
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    try:
        counts: Counter[int] = Counter()
        for index, listener in enumerate(listeners):
            while True:
                try:
                    accepted, _ = listener.accept()
                except BlockingIOError:
                    break
                accepted.close()
                counts[index] += 1
        return counts
    finally:
        for client in clients:
            client.close()


def test_connections_opened_together_spread_over_the_worker_sockets(
    sockets: WorkerSockets,
) -> None:
    listeners = [_worker_socket(sockets) for _ in range(2)]
    try:
        counts = _accepted_by(listeners, 40, sockets.address[1])
        assert sum(counts.values()) == 40
        # Each connection is hashed to one of the two: fewer than 8 on one is a 1-in-25,000 run.
        assert min(counts[0], counts[1]) >= 8, counts
    finally:
        for listener in listeners:
            listener.close()


def test_the_held_socket_takes_no_connection(sockets: WorkerSockets) -> None:
    # Before any worker listens, and after every worker socket is gone, a client is refused
    # rather than left waiting in a queue nobody accepts from.
    port = sockets.address[1]
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    listener = _worker_socket(sockets)
    listener.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_closed_worker_socket_leaves_the_others_every_connection(
    sockets: WorkerSockets,
) -> None:
    dead, alive = _worker_socket(sockets), _worker_socket(sockets)
    dead.close()
    try:
        assert _accepted_by([alive], 10, sockets.address[1]) == Counter({0: 10})
    finally:
        alive.close()


def test_the_address_stays_taken_between_workers(sockets: WorkerSockets) -> None:
    # With no worker socket open (one died, its replacement is not started), another program
    # cannot take the port.
    intruder = socket.socket()
    try:
        with pytest.raises(OSError, match="in use") as raised:
            intruder.bind(("127.0.0.1", sockets.address[1]))
        assert raised.value.errno == errno.EADDRINUSE
    finally:
        intruder.close()


def test_the_supervisor_keeps_no_copy_of_a_worker_socket(sockets: WorkerSockets) -> None:
    sock = sockets.for_worker()
    sockets.handed_over(sock)
    assert sock.fileno() == -1


def test_shared_mode_hands_every_worker_the_one_listening_socket() -> None:
    shared = WorkerSockets(LOCAL, per_worker=False)
    try:
        first, second = shared.for_worker(), shared.for_worker()
        assert first is second
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        shared.handed_over(first)
        assert first.fileno() != -1
    finally:
        shared.close()


def test_an_address_in_use_names_the_config_key() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        options = ListenOptions("127.0.0.1", taken.getsockname()[1])
        with pytest.raises(ConfigError, match=r"backend\.listen.*address already in use"):
            WorkerSockets(options, per_worker=True)
    finally:
        taken.close()


@pytest.mark.parametrize(("platform", "expected"), [("linux", True), ("darwin", False)])
def test_only_linux_gets_a_socket_per_worker(platform: str, expected: bool) -> None:
    assert balances_reuse_port(platform) is expected


def test_every_interface_is_shared_as_one_dual_stack_address() -> None:
    if not balances_reuse_port() or not socket.has_dualstack_ipv6():
        pytest.skip("needs SO_REUSEPORT spreading and dual-stack IPv6")
    every = WorkerSockets(ListenOptions("", 0), per_worker=True)
    try:
        listener = _worker_socket(every)
        try:
            assert listener.family == socket.AF_INET6
            assert not listener.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)
            # An IPv4 client reaches the worker's socket as it reaches the held one's address.
            assert _accepted_by([listener], 3, every.address[1]) == Counter({0: 3})
        finally:
            listener.close()
    finally:
        every.close()
