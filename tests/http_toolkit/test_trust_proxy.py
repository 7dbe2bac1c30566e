"""``backend.trustProxy``: the client address as Express's ``trust proxy`` (proxy-addr) picks it."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.http_toolkit import compile_trust_proxy
from backstage_runtime.http_toolkit._trust_proxy import resolve_client

XFF = [b"203.0.113.7, 10.0.0.2", b"10.0.0.3"]  # client, then two proxies; the peer is 10.0.0.4


def client(trust: Any, forwarded: list[bytes] = XFF, peer: str = "10.0.0.4") -> str:
    return resolve_client(peer, forwarded, compile_trust_proxy(trust))


def test_true_trusts_every_hop_and_the_leftmost_entry_is_the_client() -> None:
    assert client(True) == "203.0.113.7"


def test_false_trusts_no_one_and_the_peer_is_the_client() -> None:
    assert client(False) == "10.0.0.4"


@pytest.mark.parametrize(
    ("hops", "expected"),
    [(0, "10.0.0.4"), (1, "10.0.0.3"), (2, "10.0.0.2"), (3, "203.0.113.7"), (9, "203.0.113.7")],
)
def test_a_number_trusts_that_many_hops_from_the_socket(hops: int, expected: str) -> None:
    assert client(hops) == expected


def test_addresses_and_networks_are_trusted_until_the_first_stranger() -> None:
    assert client(["10.0.0.4", "10.0.0.3"]) == "10.0.0.2"
    assert client("10.0.0.0/8") == "203.0.113.7"
    assert client("10.0.0.4, 10.0.0.3 ,10.0.0.2") == "203.0.113.7"
    assert client(["10.0.0.0/255.0.0.0"]) == "203.0.113.7"  # a dotted netmask, as proxy-addr


def test_named_ranges_expand_as_proxy_addr_names_them() -> None:
    assert client("uniquelocal") == "203.0.113.7"
    assert client("loopback") == "10.0.0.4"
    assert client("loopback", [b"198.51.100.1"], peer="127.0.0.1") == "198.51.100.1"
    assert client("linklocal", [b"198.51.100.1"], peer="169.254.1.1") == "198.51.100.1"


def test_an_ipv4_mapped_peer_matches_an_ipv4_network() -> None:
    assert client("10.0.0.0/8", [b"198.51.100.1"], peer="::ffff:10.0.0.4") == "198.51.100.1"
    assert client("::ffff:10.0.0.0/104", [b"198.51.100.1"], peer="10.0.0.4") == "198.51.100.1"


def test_an_entry_that_is_no_address_ends_the_walk_and_is_the_answer() -> None:
    assert client("10.0.0.0/8", [b"203.0.113.7, garbage"]) == "garbage"


@pytest.mark.parametrize("value", [["10.0.0.300"], "10.0.0.1, nonsense", [5], {"a": 1}, -1])
def test_an_invalid_value_is_a_config_error_naming_the_key(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"backend\.trustProxy"):
        compile_trust_proxy(value)
