"""The socket a ``serve --workers`` supervisor hands to its workers."""

from __future__ import annotations

import os
import socket

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.http_toolkit import (
    INHERITED_SOCKET_ENV,
    ListenOptions,
    bind_beside,
    bind_socket,
    inherited_listening_socket,
    open_listening_socket,
)


def test_no_variable_means_no_inherited_socket() -> None:
    assert inherited_listening_socket({}) is None


def test_the_inherited_socket_is_the_same_listening_socket() -> None:
    listening = open_listening_socket(ListenOptions("127.0.0.1", 0))
    copy = os.dup(listening.fileno())
    try:
        inherited = inherited_listening_socket({INHERITED_SOCKET_ENV: str(copy)})
        assert inherited is not None
        assert inherited.getsockname() == listening.getsockname()
        assert inherited.getblocking() is False
        inherited.close()
    finally:
        listening.close()


@pytest.mark.parametrize("value", ["not-a-number", "987654"])
def test_a_value_that_is_no_descriptor_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match=INHERITED_SOCKET_ENV):
        inherited_listening_socket({INHERITED_SOCKET_ENV: value})


def test_a_socket_that_does_not_listen_is_refused() -> None:
    unbound = socket.socket()
    try:
        with pytest.raises(ConfigError, match="is not a listening TCP socket"):
            inherited_listening_socket({INHERITED_SOCKET_ENV: str(unbound.fileno())})
        # Refused without taking the descriptor over: the owner can still use and close it.
        unbound.bind(("127.0.0.1", 0))
    finally:
        unbound.close()


def test_a_bound_socket_is_made_to_listen() -> None:
    # What a supervisor hands a worker of its own: bound beside the others, listening only once
    # the worker's server takes it.
    anchor = bind_socket(ListenOptions("127.0.0.1", 0), reuse_port=True)
    bound = bind_beside(anchor)
    try:
        assert not bound.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        inherited = inherited_listening_socket({INHERITED_SOCKET_ENV: str(bound.fileno())})
        assert inherited is not None
        assert inherited.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
        assert inherited.getsockname() == anchor.getsockname()
        assert inherited.getblocking() is False
        inherited.detach()  # `bound` owns the descriptor
    finally:
        bound.close()
        anchor.close()
