"""``backend.rateLimit`` read as Backstage reads it."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.http_toolkit import (
    RateLimitPolicy,
    read_global_rate_limit,
    read_plugin_rate_limit,
)


def backend(rate_limit: Any) -> Any:
    return create_config_from_data({"backend": {"rateLimit": rate_limit}})


def test_no_key_or_false_means_no_global_limiter() -> None:
    assert read_global_rate_limit(create_config_from_data({})) is None
    assert read_global_rate_limit(backend(False)) is None
    assert read_global_rate_limit(backend({"global": False})) is None


def test_true_means_express_rate_limits_defaults_and_localhost_exempt() -> None:
    assert read_global_rate_limit(backend(True)) == RateLimitPolicy(
        window=60.0,
        limit=5,
        ip_allow_list=("127.0.0.1", "0:0:0:0:0:0:0:1", "::1"),
        skip_successful_requests=False,
        skip_failed_requests=False,
        pass_on_store_error=False,
    )


def test_every_key_is_read() -> None:
    policy = read_global_rate_limit(
        backend(
            {
                "window": "5m",
                "incomingRequestLimit": 100,
                "ipAllowList": ["10.0.0.1"],
                "skipSuccessfulRequests": True,
                "skipFailedRequests": True,
                "passOnStoreError": True,
            }
        )
    )
    assert policy == RateLimitPolicy(300.0, 100, ("10.0.0.1",), True, True, True)


def test_a_window_in_milliseconds_is_stored_in_whole_seconds() -> None:
    policy = read_global_rate_limit(backend({"window": 1500}))
    assert policy is not None
    assert policy.window == 1.5
    assert policy.window_seconds == 2


def test_a_plugin_limit_is_its_own_section() -> None:
    config = backend({"global": False, "plugin": {"catalog": {"incomingRequestLimit": 9}}})
    assert read_plugin_rate_limit(config, "catalog") == RateLimitPolicy(limit=9)
    assert read_plugin_rate_limit(config, "search") is None
    assert read_plugin_rate_limit(backend(True), "catalog") is None


@pytest.mark.parametrize(
    ("rate_limit", "key"),
    [
        ({"incomingRequestLimit": -1}, "backend.rateLimit.incomingRequestLimit"),
        ({"incomingRequestLimit": "many"}, "backend.rateLimit.incomingRequestLimit"),
        ({"window": "soon"}, "backend.rateLimit.window"),
        ({"plugin": {"x": {"window": 0}}}, "backend.rateLimit.plugin.x.window"),
    ],
)
def test_bad_values_name_the_key(rate_limit: Any, key: str) -> None:
    config = backend(rate_limit)

    def read_both() -> None:
        read_global_rate_limit(config)
        read_plugin_rate_limit(config, "x")

    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        read_both()
