"""What every provider reader bound to one ``integrations.<provider>[]`` entry shares."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

import aiohttp

from ...api.services.config import Config
from ...api.services.url_reader import (
    ReadTreeResponseFactory,
    UrlReaderPredicateTuple,
    UrlReaderService,
)
from ._urls import host_predicate

__all__ = ["IntegrationUrlReader"]


class _Integration(Protocol):
    @property
    def host(self) -> str: ...


C = TypeVar("C", bound=_Integration)


class IntegrationUrlReader(Generic[C]):
    """A reader for one configured host: ``integration`` is its config entry, ``_session`` the
    backend's shared HTTP session and ``_trees`` builds tree responses.

    Subclasses name their config reader in ``read_integrations``; :meth:`factory` then makes one
    reader per entry, each accepting URLs of its host.
    """

    read_integrations: ClassVar[Any]

    def __init__(
        self,
        integration: C,
        *,
        session: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
    ) -> None:
        self.integration = integration
        self._session = session
        self._trees = tree_response_factory

    @classmethod
    def factory(
        cls,
        *,
        config: Config,
        http_client: aiohttp.ClientSession,
        tree_response_factory: ReadTreeResponseFactory,
        **_: Any,
    ) -> list[UrlReaderPredicateTuple]:
        """A reader per configured entry, each accepting URLs of its host."""
        integrations: Sequence[C] = cls.read_integrations(config)
        return [
            UrlReaderPredicateTuple(
                # Every subclass implements the reader operations; the base only holds state.
                reader=cast(
                    UrlReaderService,
                    cls(
                        integration,
                        session=http_client,
                        tree_response_factory=tree_response_factory,
                    ),
                ),
                predicate=host_predicate(integration.host),
            )
            for integration in integrations
        ]
