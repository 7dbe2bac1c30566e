"""Building readers the way the service does, from config data."""

from __future__ import annotations

from typing import Any

import aiohttp

from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import (
    DefaultReadTreeResponseFactory,
    UrlReaderPredicateMux,
    create_url_reader,
)
from backstage_runtime.testing import MockRootLogger


def reader_from_config(
    data: dict[str, Any],
    session: aiohttp.ClientSession,
    trees: DefaultReadTreeResponseFactory,
    logger: MockRootLogger | None = None,
) -> UrlReaderPredicateMux:
    return create_url_reader(
        config=create_config_from_data(data, context="test"),
        http_client=session,
        logger=logger or MockRootLogger(level="debug"),
        tree_response_factory=trees,
    )
