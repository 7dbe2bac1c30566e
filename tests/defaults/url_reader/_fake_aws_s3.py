"""S3 for reader tests: moto in server mode, behind a local recording proxy.

The proxy (``_server.serve``) records every request, so tests see which credentials signed it
(the SigV4 ``Credential=<key id>/<date>/<region>/...`` scope), and can answer in moto's stead
(``inject``) to simulate throttling or refusals that moto does not produce.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
from aiobotocore.session import AioSession
from aiohttp import web
from moto.server import ThreadedMotoServer

from ._server import LocalServer, Seen, serve

# Headers that hop-by-hop or that the proxy's client sets itself.
_SKIP_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "expect"}
)
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

Inject = Callable[[web.Request], web.StreamResponse | None]


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on a random port of 127.0.0.1; yields its base URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class S3Proxy:
    """The proxy in front of moto: ``base`` to configure as endpoint, ``server.requests``."""

    server: LocalServer
    moto: str
    inject: Inject | None = None
    #: ``(Authorization header, body)`` of every request.
    bodies: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return self.server.base

    @property
    def requests(self) -> list[Seen]:
        return self.server.requests

    def signers(self, service: str = "s3") -> list[tuple[str, str]]:
        """``(access key id, region)`` of each signed request to ``service``, in order."""
        found = []
        for seen in self.requests:
            match = _CREDENTIAL.search(seen.headers.get("Authorization", ""))
            if match and match.group(3) == service:
                found.append((match.group(1), match.group(2)))
        return found

    def s3_requests(self) -> list[Seen]:
        return [seen for seen in self.requests if "/s3/aws4_request" in _auth(seen)]


def _auth(seen: Seen) -> str:
    return seen.headers.get("Authorization", "")


@asynccontextmanager
async def s3_proxy(moto: str) -> AsyncIterator[S3Proxy]:
    """A recording proxy forwarding to ``moto`` (whose state is reset first)."""
    holder: list[S3Proxy] = []
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        async with client.post(f"{moto}/moto-api/reset") as reset:
            reset.raise_for_status()

        async def forward(request: web.Request) -> web.StreamResponse:
            proxy = holder[0]
            body = await request.read()
            proxy.bodies.append((request.headers.get("Authorization", ""), body))
            if proxy.inject is not None:
                injected = proxy.inject(request)
                if injected is not None:
                    return injected
            headers = {
                name: value
                for name, value in request.headers.items()
                if name.lower() not in _SKIP_HEADERS
            }
            async with client.request(
                request.method,
                f"{moto}{request.raw_path}",
                headers=headers,
                data=body,
                allow_redirects=False,
            ) as answer:
                payload = await answer.read()
                reply = {
                    name: value
                    for name, value in answer.headers.items()
                    if name.lower() not in _SKIP_HEADERS and name.lower() != "content-encoding"
                }
                return web.Response(status=answer.status, body=payload, headers=reply)

        async with serve([web.route("*", "/{tail:.*}", forward)]) as server:
            proxy = S3Proxy(server=server, moto=moto)
            holder.append(proxy)
            yield proxy


def s3_error(status: int, code: str, message: str) -> web.Response:
    """An S3 error answer."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>test</RequestId></Error>"
    )
    return web.Response(status=status, text=xml, content_type="application/xml")


async def seed(moto: str, buckets: Mapping[str, Mapping[str, bytes]]) -> None:
    """Create ``buckets`` with their objects directly in moto."""
    session = AioSession()
    async with session.create_client(
        "s3",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="seed",
        aws_secret_access_key="seed",
    ) as client:
        for bucket, objects in buckets.items():
            await client.create_bucket(Bucket=bucket)
            for key, data in objects.items():
                await client.put_object(Bucket=bucket, Key=key, Body=data)


async def put(moto: str, bucket: str, key: str, data: bytes) -> None:
    """Write one object directly in moto."""
    async with AioSession().create_client(
        "s3",
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="seed",
        aws_secret_access_key="seed",
    ) as client:
        await client.put_object(Bucket=bucket, Key=key, Body=data)


@asynccontextmanager
async def container_credentials(access_key_id: str) -> AsyncIterator[LocalServer]:
    """An ECS container credentials endpoint (for ``AWS_CONTAINER_CREDENTIALS_FULL_URI``) at
    ``<base>/credentials``, handing out ``access_key_id``: a credential lookup that awaits a
    network answer, as on ECS, EKS or EC2.
    """

    async def answer(_request: web.Request) -> web.Response:
        expiration = datetime.now(UTC) + timedelta(hours=1)
        return web.json_response(
            {
                "AccessKeyId": access_key_id,
                "SecretAccessKey": "container-secret",
                "Token": "container-session-token",
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    async with serve([web.get("/credentials", answer)]) as server:
        yield server
