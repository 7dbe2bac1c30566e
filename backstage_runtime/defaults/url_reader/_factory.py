"""The default ``core.urlReader`` service factory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...api import ServiceFactory, core_services, create_service_factory, runtime_services
from ...api._url_reader_refs import url_reader_factories
from ...api.services.config import Config
from ...api.services.lifecycle import RootLifecycleService
from ...api.services.logger import LoggerService

if TYPE_CHECKING:
    import aiohttp

    from ...api.services.url_reader import (
        ReaderFactory,
        UrlReaderPredicateTuple,
        UrlReaderService,
    )
    from ._tree import DefaultReadTreeResponseFactory

__all__ = ["url_reader_service_factory"]


@dataclass(frozen=True)
class _SharedReaders:
    trees: DefaultReadTreeResponseFactory
    builtins: list[UrlReaderPredicateTuple]


def url_reader_service_factory() -> ServiceFactory[UrlReaderService]:
    """The default ``core.urlReader`` factory.

    The built-in readers (from ``integrations.*`` and ``backend.reading.allow``) are created
    once per backend on the shared ``runtime.httpClient`` session; each plugin's reader tries
    the readers of ``core.urlReader.factories`` first, then the built-in ones.
    """

    def create_root_context(
        *,
        config: Config,
        root_logger: LoggerService,
        http_client: aiohttp.ClientSession,
        root_lifecycle: RootLifecycleService,
    ) -> _SharedReaders:
        # The readers load when a plugin first asks for a URL reader.
        from ._readers import builtin_reader_factories, create_readers
        from ._tree import DefaultReadTreeResponseFactory

        trees = DefaultReadTreeResponseFactory.from_config(config)
        builtins = create_readers(
            builtin_reader_factories(),
            config=config,
            logger=root_logger.child({"service": "urlReader"}),
            tree_response_factory=trees,
            http_client=http_client,
            lifecycle=root_lifecycle,
        )
        return _SharedReaders(trees, builtins)

    def factory(
        shared: _SharedReaders,
        *,
        config: Config,
        root_logger: LoggerService,
        http_client: aiohttp.ClientSession,
        root_lifecycle: RootLifecycleService,
        logger: LoggerService,
        factories: list[ReaderFactory],
    ) -> UrlReaderService:
        from ._mux import UrlReaderPredicateMux
        from ._readers import create_readers

        extras = create_readers(
            factories,
            config=config,
            logger=logger,
            tree_response_factory=shared.trees,
            http_client=http_client,
            lifecycle=root_lifecycle,
        )
        return UrlReaderPredicateMux([*extras, *shared.builtins])

    return create_service_factory(
        service=core_services.url_reader,
        deps={
            "config": core_services.root_config,
            "root_logger": core_services.root_logger,
            "http_client": runtime_services.http_client,
            "root_lifecycle": core_services.root_lifecycle,
            "logger": core_services.logger,
            "factories": url_reader_factories,
        },
        create_root_context=create_root_context,
        factory=factory,
    )
