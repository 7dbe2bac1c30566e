"""The testing url reader: files from a dict or a directory, with real reader semantics."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import core_services
from backstage_runtime.api.errors import InputError, NotFoundError, NotModifiedError
from backstage_runtime.testing import start_test_backend
from backstage_runtime.testing._url_reader import MockUrlReader, mock_url_reader

pytestmark = pytest.mark.anyio

BASE = "https://github.com/org/repo/blob/main"


async def test_files_from_a_dict() -> None:
    reader = mock_url_reader(
        {f"{BASE}/catalog-info.yaml": "kind: Component", f"{BASE}/docs/a.md": b"a"}
    )
    response = await reader.read_url(f"{BASE}/catalog-info.yaml")
    assert await response.buffer() == b"kind: Component"
    with pytest.raises(NotModifiedError):
        await reader.read_url(f"{BASE}/catalog-info.yaml", etag=response.etag)
    with pytest.raises(NotFoundError):
        await reader.read_url(f"{BASE}/missing.yaml")
    tree = await reader.read_tree(BASE, filter=lambda path, info: path.startswith("docs/"))
    assert [(f.path, await f.content()) for f in await tree.files()] == [("docs/a.md", b"a")]
    with pytest.raises(NotModifiedError):
        await reader.read_tree(BASE, etag=tree.etag)
    found = await reader.search(f"{BASE}/**/*.md")
    assert [f.url for f in found.files] == [f"{BASE}/docs/a.md"]
    assert reader.requests[0] == ("read_url", f"{BASE}/catalog-info.yaml")


async def test_files_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "catalog-info.yaml").write_text("kind: Component")
    (tmp_path / "docs" / "index.md").write_text("# docs")
    os.utime(tmp_path / "catalog-info.yaml", (1_700_000_000, 1_700_000_000))
    reader = MockUrlReader(directory=tmp_path, base_url=BASE)
    response = await reader.read_url(f"{BASE}/catalog-info.yaml")
    assert await response.buffer() == b"kind: Component"
    assert response.last_modified_at is not None
    with pytest.raises(NotModifiedError):
        await reader.read_url(
            f"{BASE}/catalog-info.yaml", last_modified_after=response.last_modified_at
        )
    target = await (await reader.read_tree(f"{BASE}/docs")).dir(target_dir=tmp_path / "out")
    assert (target / "index.md").read_text() == "# docs"
    with pytest.raises(InputError):
        await reader.read_url(f"{BASE}/../secret")


async def test_as_the_service_of_a_test_backend() -> None:
    captured: dict[str, Any] = {}
    features = [
        mock_url_reader.factory({"https://example.com/a.yaml": "a"}),
        plugin_with_init(
            "p", {"reader": core_services.url_reader}, lambda reader: captured.update(reader=reader)
        ),
    ]
    async with start_test_backend(features=features):
        response = await captured["reader"].read_url("https://example.com/a.yaml")
        assert await response.buffer() == b"a"
