from __future__ import annotations

import io
from typing import Any, cast

import pytest

from backstage_runtime.api import Config
from backstage_runtime.defaults.root_logger import create_root_logger

from .fakes import Captured, FakeConfig, MakeLogger


@pytest.fixture
def make_logger() -> MakeLogger:
    """Build a root logger from a dict of config (``None`` for no config) and an env dict."""

    def make(
        config: dict[str, Any] | FakeConfig | None = None,
        *,
        env: dict[str, str] | None = None,
        secrets: list[str] | None = None,
        colors: bool | None = None,
    ) -> Captured:
        stream = io.StringIO()
        cfg = FakeConfig(config, secrets) if isinstance(config, dict) else config
        # The fake has only the getters the logger uses, not the whole Config protocol.
        logger = create_root_logger(
            cast(Config | None, cfg), stream=stream, env=env or {}, colors=colors
        )
        return Captured(logger, stream)

    return make


@pytest.fixture
def json_logger(make_logger: MakeLogger) -> Captured:
    return make_logger(env={"LOG_FORMAT": "json"})


@pytest.fixture
def pretty_logger(make_logger: MakeLogger) -> Captured:
    return make_logger(env={"LOG_FORMAT": "pretty"}, colors=False)
