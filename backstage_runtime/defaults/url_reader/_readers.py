"""The built-in readers in Backstage's order, and building readers from factories."""

from __future__ import annotations

from collections.abc import Iterable

import aiohttp

from ...api.services.config import Config
from ...api.services.lifecycle import RootLifecycleService
from ...api.services.logger import LoggerService
from ...api.services.url_reader import (
    ReaderFactory,
    ReadTreeResponseFactory,
    UrlReaderPredicateTuple,
)
from ._mux import UrlReaderPredicateMux
from ._tree import DefaultReadTreeResponseFactory
from .aws_s3 import AwsS3UrlReader
from .azure_blob_storage import AzureBlobStorageUrlReader
from .azure_devops import AzureDevOpsUrlReader
from .bitbucket_cloud import BitbucketCloudUrlReader
from .bitbucket_server import BitbucketServerUrlReader
from .fetch import FetchUrlReader
from .gerrit import GerritUrlReader
from .gitea import GiteaUrlReader
from .github import GithubUrlReader
from .gitlab import GitlabUrlReader
from .google_gcs import GoogleGcsUrlReader
from .harness import HarnessUrlReader

__all__ = ["builtin_reader_factories", "create_readers", "create_url_reader"]


def builtin_reader_factories() -> list[ReaderFactory]:
    """The readers every backend has, in Backstage's order (AWS CodeCommit is not built); the
    fetch reader comes last so that an integration always wins over ``backend.reading.allow``
    for its host.
    """
    return [
        AzureDevOpsUrlReader.factory,
        BitbucketCloudUrlReader.factory,
        BitbucketServerUrlReader.factory,
        GerritUrlReader.factory,
        GithubUrlReader.factory,
        GiteaUrlReader.factory,
        GitlabUrlReader.factory,
        GoogleGcsUrlReader.factory,
        HarnessUrlReader.factory,
        AwsS3UrlReader.factory,
        AzureBlobStorageUrlReader.factory,
        FetchUrlReader.factory,
    ]


def create_readers(
    factories: Iterable[ReaderFactory],
    *,
    config: Config,
    logger: LoggerService,
    tree_response_factory: ReadTreeResponseFactory,
    http_client: aiohttp.ClientSession,
    lifecycle: RootLifecycleService | None = None,
) -> list[UrlReaderPredicateTuple]:
    """Call each factory and collect its readers, in order."""
    readers: list[UrlReaderPredicateTuple] = []
    for factory in factories:
        readers.extend(
            factory(
                config=config,
                logger=logger,
                tree_response_factory=tree_response_factory,
                http_client=http_client,
                lifecycle=lifecycle,
            )
        )
    return readers


def create_url_reader(
    *,
    config: Config,
    http_client: aiohttp.ClientSession,
    logger: LoggerService,
    factories: Iterable[ReaderFactory] = (),
    tree_response_factory: ReadTreeResponseFactory | None = None,
    lifecycle: RootLifecycleService | None = None,
) -> UrlReaderPredicateMux:
    """A url reader outside a backend (Backstage's ``UrlReaders.default``): ``factories``
    first, then the built-in readers, all configured from ``config``.

    With a ``lifecycle``, readers may keep connections open between reads and close them in
    its shutdown hooks; without one, every connection is closed once its read is done.
    """
    trees = tree_response_factory or DefaultReadTreeResponseFactory.from_config(config)
    return UrlReaderPredicateMux(
        create_readers(
            [*factories, *builtin_reader_factories()],
            config=config,
            logger=logger,
            tree_response_factory=trees,
            http_client=http_client,
            lifecycle=lifecycle,
        )
    )
