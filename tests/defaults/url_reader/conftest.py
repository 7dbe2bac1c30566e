from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def trees(workdir: Path) -> DefaultReadTreeResponseFactory:
    return DefaultReadTreeResponseFactory(working_directory=workdir)
