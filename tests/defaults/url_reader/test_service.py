"""core.urlReader in a backend: the predicate multiplexer, extra reader factories, shared session."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from _support.features import plugin_with_init
from aiohttp import web

from backstage_runtime.api import core_services, create_service_factory
from backstage_runtime.api.errors import InputError, NotAllowedError
from backstage_runtime.api.services.url_reader import (
    ReadTreeResponse,
    ReadTreeResponseFactory,
    ReadUrlResponse,
    SearchResponse,
    TreeFilter,
    UrlReaderPredicateTuple,
    url_reader_factories,
)
from backstage_runtime.defaults.url_reader import (
    BytesReadUrlResponse,
    UrlReaderPredicateMux,
    url_reader_service_factory,
)
from backstage_runtime.testing import start_test_backend

from ._server import serve

pytestmark = pytest.mark.anyio


class StaticReader:
    """Answers every URL with the same content; its trees hold one file."""

    def __init__(self, name: str, trees: ReadTreeResponseFactory | None = None) -> None:
        self.name = name
        self.trees = trees

    async def read_url(self, url: str, **_: Any) -> ReadUrlResponse:
        return BytesReadUrlResponse(self.name.encode(), etag=self.name)

    async def read_tree(
        self, url: str, *, filter: TreeFilter | None = None, **_: Any
    ) -> ReadTreeResponse:
        assert self.trees is not None
        return self.trees.from_files([("from.txt", self.name.encode())], etag=self.name)

    async def search(self, url: str, **_: Any) -> SearchResponse:
        return SearchResponse(files=[], etag=self.name)

    def __str__(self) -> str:
        return f"static{{{self.name}}}"


async def test_first_accepting_reader_wins_and_none_is_not_allowed() -> None:
    mux = UrlReaderPredicateMux(
        [
            UrlReaderPredicateTuple(StaticReader("a"), lambda url: url.hostname == "a.example.com"),
            UrlReaderPredicateTuple(StaticReader("any"), lambda url: url.path.startswith("/x")),
            UrlReaderPredicateTuple(StaticReader("never"), lambda url: True),
        ]
    )
    assert await (await mux.read_url("https://a.example.com/x")).buffer() == b"a"
    assert await (await mux.read_url("https://b.example.com/x/y")).buffer() == b"any"
    assert str(mux) == "predicateMux{readers=static{a},static{any},static{never}}"
    with pytest.raises(NotAllowedError, match="Reading from 'https://b/' is not allowed"):
        await UrlReaderPredicateMux().read_url("https://b/")
    with pytest.raises(InputError, match="expected an absolute http"):
        await mux.read_url("file:///etc/passwd")


async def test_service_tries_extra_factories_first_then_builtins(tmp_path: Path) -> None:
    routes = web.RouteTableDef()

    @routes.get("/catalog-info.yaml")
    async def catalog(request: web.Request) -> web.Response:
        return web.Response(text="kind: Location")

    shutdown_hooks_ran: list[bool] = []

    def extra_factory(
        *, tree_response_factory: ReadTreeResponseFactory, **kwargs: Any
    ) -> Sequence[UrlReaderPredicateTuple]:
        # Readers that keep connections open close them in a root shutdown hook. ReaderFactory
        # passes `lifecycle` among its extra keyword arguments, hence no parameter of its own.
        kwargs["lifecycle"].add_shutdown_hook(lambda: shutdown_hooks_ran.append(True))
        reader = StaticReader("extra", tree_response_factory)
        return [UrlReaderPredicateTuple(reader, lambda url: url.hostname == "github.com")]

    captured: dict[str, Any] = {}
    async with serve(routes) as server:
        config = {
            "backend": {
                "workingDirectory": str(tmp_path),
                "reading": {"allow": [{"host": f"127.0.0.1:{server.port}"}]},
            }
        }
        features = [
            url_reader_service_factory(),
            create_service_factory(service=url_reader_factories, factory=lambda: extra_factory),
            plugin_with_init(
                "catalog",
                {"reader": core_services.url_reader},
                lambda reader: captured.update(reader=reader),
            ),
        ]
        async with start_test_backend(features=features, config=config):
            reader = captured["reader"]
            # The extra reader claims github.com before the built-in GitHub reader.
            response = await reader.read_url("https://github.com/org/repo/blob/main/a.yaml")
            assert await response.buffer() == b"extra"
            tree = await reader.read_tree("https://github.com/org/repo")
            directory = await tree.dir()
            assert directory.parent == tmp_path
            assert (directory / "from.txt").read_text() == "extra"
            # The fetch reader serves backend.reading.allow through the shared session.
            response = await reader.read_url(f"{server.base}/catalog-info.yaml")
            assert await response.buffer() == b"kind: Location"
            assert server.requests[-1].headers["User-Agent"].startswith("backstage-runtime/")
            with pytest.raises(NotAllowedError, match=r"backend\.reading\.allow"):
                await reader.read_url("https://unknown.example.com/x.yaml")
            assert shutdown_hooks_ran == []
        assert shutdown_hooks_ran == [True]


async def test_invalid_working_directory_is_a_config_error(tmp_path: Path) -> None:
    from backstage_runtime.api.errors import ConfigError
    from backstage_runtime.defaults.root_config import create_config_from_data
    from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory

    config = create_config_from_data(
        {"backend": {"workingDirectory": str(tmp_path / "missing")}}, context="t"
    )
    with pytest.raises(ConfigError, match=r"backend\.workingDirectory"):
        DefaultReadTreeResponseFactory.from_config(config)
