"""S3 clients for one ``integrations.awsS3`` entry, with credentials resolved as Backstage's
``AwsS3UrlReader.buildCredentials`` does:

1. the entry's ``accessKeyId`` / ``secretAccessKey``, else ``aws.mainAccount`` (static keys,
   a profile, or the default AWS credential chain);
2. with ``roleArn``, those credentials assume the role through STS (session name
   ``backstage-aws-s3-url-reader``, ``externalId`` when set), in the bucket's region.

Creating a client costs several milliseconds of CPU and a new (TLS) connection, so clients are
shared: operations that overlap (a tree's files fetched in parallel, concurrent reads) use one
client, and inside a backend (``keep_open``) an idle client stays open for the next read until
the root lifecycle's shutdown hook calls :meth:`S3Clients.aclose`. Without a lifecycle a client
is closed when the last operation using it ends. The aiobotocore session is created once, on
first use.

With ``roleArn``, one set of role credentials is kept per STS region, created once however
many reads start together (each set calls AssumeRole when first used and before it expires),
and only for the few most recently used regions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from ....api.services.url_reader import UrlReaderError
from ._config import AwsMainAccountConfig, AwsS3IntegrationConfig
from ._errors import require_aws_sdk

if TYPE_CHECKING:
    from aiobotocore.credentials import AioCredentials, AioRefreshableCredentials
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3 import S3Client

    _Credentials = AioCredentials | AioRefreshableCredentials

__all__ = ["ROLE_SESSION_NAME", "S3Clients"]

#: The STS session name of assumed roles (Backstage's).
ROLE_SESSION_NAME = "backstage-aws-s3-url-reader"
_USER_AGENT = "backstage-aws-s3-url-reader"
# Role credentials kept at once: a backend reads from a handful of regions, and URLs naming
# others must not grow the cache without bound.
_MAX_ROLE_REGIONS = 16


@dataclass
class _Lease:
    """An open client and how many operations use it."""

    client: S3Client
    context: AbstractAsyncContextManager[S3Client]
    users: int = 0


class S3Clients:
    """Opens S3 clients for ``integration``, signing with its credentials."""

    def __init__(
        self,
        integration: AwsS3IntegrationConfig,
        main_account: AwsMainAccountConfig,
        *,
        keep_open: bool = False,
    ) -> None:
        self._integration = integration
        self._main_account = main_account
        self._keep_open = keep_open
        self._closed = False
        self._session: AioSession | None = None
        # Temporary credentials of the assumed role, refreshed before they expire; one set per
        # STS region, as Backstage asks STS in the bucket's region.
        self._role_credentials: OrderedDict[str, _Credentials] = OrderedDict()
        self._role_lock = anyio.Lock()
        # Open clients by region and signing keys: refreshed role credentials get a new client.
        self._leases: dict[tuple[str, tuple[tuple[str, Any], ...]], _Lease] = {}
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def client(self, region: str) -> AsyncIterator[S3Client]:
        """An S3 client for ``region``, closed when the block ends.

        Raises :class:`UrlReaderError` when aiobotocore is not installed; SDK errors (missing
        credentials, STS refusals) propagate for the caller to translate.
        """
        require_aws_sdk()
        keys = await self._signing_keys(region)
        slot = (region, tuple(sorted(keys.items())))
        stale: list[_Lease] = []
        async with self._lock:
            lease = self._leases.get(slot)
            if lease is None:
                # Idle clients of this region signed with keys that have since been refreshed
                # would never be used again.
                for other in [s for s in self._leases if s[0] == region]:
                    if self._leases[other].users == 0:
                        stale.append(self._leases.pop(other))
                context = self._create_client(region, keys)
                lease = _Lease(await context.__aenter__(), context)
                self._leases[slot] = lease
            lease.users += 1
        for old in stale:
            with anyio.CancelScope(shield=True):
                await old.context.__aexit__(None, None, None)
        try:
            yield lease.client
        finally:
            with anyio.CancelScope(shield=True):
                await self._release(slot, lease)

    async def aclose(self) -> None:
        """Close every client; later operations open (and close) clients of their own."""
        async with self._lock:
            self._closed = True
            leases, self._leases = list(self._leases.values()), {}
        with anyio.CancelScope(shield=True):
            for lease in leases:
                await lease.context.__aexit__(None, None, None)

    async def _release(self, slot: tuple[str, tuple[tuple[str, Any], ...]], lease: _Lease) -> None:
        async with self._lock:
            lease.users -= 1
            current = self._leases.get(slot) is lease
            if lease.users > 0 or (current and self._keep_open and not self._closed):
                return
            if current:
                del self._leases[slot]
        await lease.context.__aexit__(None, None, None)

    def _create_client(
        self, region: str, keys: dict[str, Any]
    ) -> AbstractAsyncContextManager[S3Client]:
        from aiobotocore.config import AioConfig

        config = AioConfig(
            user_agent_extra=_USER_AGENT,
            # "auto" keeps botocore's choice (virtual-hosted on AWS, path-style on custom
            # endpoints, which every S3-compatible store understands).
            s3={"addressing_style": "path" if self._integration.s3_force_path_style else "auto"},
        )
        return self._get_session().create_client(
            "s3",
            region_name=region,
            endpoint_url=self._integration.endpoint,
            config=config,
            **keys,
        )

    def _get_session(self) -> AioSession:
        if self._session is None:
            from aiobotocore.session import AioSession

            self._session = AioSession(profile=self._main_account.profile)
        return self._session

    async def _signing_keys(self, region: str) -> dict[str, Any]:
        """``create_client`` keyword arguments; empty for the session's default chain."""
        integration = self._integration
        if integration.role_arn:
            credentials = await self._role_credentials_for(region)
            # Concurrent first uses of one set share its AssumeRole call (aiobotocore refreshes
            # under a lock and checks again once it holds it).
            frozen = await credentials.get_frozen_credentials()
            return {
                "aws_access_key_id": frozen.access_key,
                "aws_secret_access_key": frozen.secret_key,
                "aws_session_token": frozen.token,
            }
        static = self._static_keys()
        if static is None:
            return {}
        return {"aws_access_key_id": static[0], "aws_secret_access_key": static[1]}

    async def _role_credentials_for(self, region: str) -> _Credentials:
        """The role credentials for ``region``, created by the first caller only."""
        credentials = self._role_credentials.get(region)
        if credentials is not None:
            self._role_credentials.move_to_end(region)
            return credentials
        async with self._role_lock:
            # Another first read may have created them while this one waited for the lock.
            credentials = self._role_credentials.get(region)
            if credentials is None:
                credentials = self._assume_role(await self._base_credentials(), region)
                self._role_credentials[region] = credentials
                while len(self._role_credentials) > _MAX_ROLE_REGIONS:
                    self._role_credentials.popitem(last=False)
            return credentials

    def _static_keys(self) -> tuple[str, str] | None:
        for account in (self._integration, self._main_account):
            if account.access_key_id and account.secret_access_key:
                return account.access_key_id, account.secret_access_key
        return None

    async def _base_credentials(self) -> _Credentials:
        from aiobotocore.credentials import AioCredentials

        static = self._static_keys()
        if static is not None:
            return AioCredentials(static[0], static[1])
        credentials = await self._get_session().get_credentials()
        if credentials is None:
            raise UrlReaderError(
                f"Unable to locate AWS credentials to assume {self._integration.role_arn}; "
                "configure aws.mainAccount or the default AWS credential chain"
            )
        return credentials

    def _assume_role(self, source: _Credentials, region: str) -> _Credentials:
        from aiobotocore.credentials import (
            AioAssumeRoleCredentialFetcher,
            AioDeferredRefreshableCredentials,
        )

        session = self._get_session()

        def sts_client(_service: str, **options: Any) -> Any:
            # The fetcher only ever asks for "sts"; Backstage calls STS in the bucket's region.
            return session.create_client("sts", region_name=region, **options)

        extra: dict[str, Any] = {"RoleSessionName": ROLE_SESSION_NAME}
        if self._integration.external_id:
            extra["ExternalId"] = self._integration.external_id
        fetcher = AioAssumeRoleCredentialFetcher(
            sts_client, source, str(self._integration.role_arn), extra_args=extra
        )
        return AioDeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )
