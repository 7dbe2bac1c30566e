"""A fake of the parts of Google's Cloud Storage JSON API and OAuth token endpoint the GCS
reader uses, served by ``_server.serve``:

- ``GET /storage/v1/b/<bucket>/o?prefix=&pageToken=&maxResults=`` lists objects, ``page_size``
  at a time (so that readers must follow ``nextPageToken``);
- ``GET /storage/v1/b/<bucket>/o/<percent-encoded name>`` answers the object's resource, or its
  content with ``?alt=media``; ``If-None-Match`` with the current ETag answers 304;
- ``POST /token`` takes a service account's signed JWT (checked against ``public_key``) and
  answers ``access_token``.

``accepted_tokens`` (when not empty) are the bearer tokens storage requests must carry, else
401; ``answer`` forces ``(status, reason)`` for every storage request (429, 403 ...).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web

UPDATED = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@dataclass
class FakeGcs:
    """``buckets`` maps bucket → object name → content."""

    buckets: dict[str, dict[str, bytes]]
    page_size: int = 2
    accepted_tokens: set[str] = field(default_factory=set)
    answer: tuple[int, str] | None = None
    public_key: bytes | None = None
    access_token: str = "ya29.fake-access-token"
    #: The verified claims of every token request.
    token_claims: list[dict[str, Any]] = field(default_factory=list)
    base: str = ""
    _generations: dict[tuple[str, str], int] = field(default_factory=dict)

    def put(self, bucket: str, name: str, data: bytes) -> None:
        """Write (or overwrite) an object: its generation and ETag change."""
        self.buckets.setdefault(bucket, {})[name] = data
        key = (bucket, name)
        self._generations[key] = self._generations.get(key, 1000) + 1

    def etag(self, bucket: str, name: str) -> str:
        """The object's ETag, GCS style (base64 of its generation)."""
        generation = self._generations.get((bucket, name), 1000)
        return base64.b64encode(f"gen-{generation}".encode()).decode()

    def routes(self) -> list[web.RouteDef]:
        """The routes to serve."""
        return [
            web.post("/token", self._token),
            web.get("/storage/v1/b/{bucket}/o", self._list),
            web.get("/storage/v1/b/{bucket}/o/{name:.+}", self._object),
        ]

    # -- handlers ------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(
                str(form.get("assertion", "")),
                self.public_key or b"",
                algorithms=["RS256"],
                audience=f"{self.base}/token",
            )
        except jwt.PyJWTError as error:
            return web.json_response(
                {"error": "invalid_grant", "error_description": str(error)}, status=400
            )
        self.token_claims.append(claims)
        return web.json_response(
            {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        )

    async def _list(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        bucket = self.buckets.get(request.match_info["bucket"])
        if bucket is None:
            return _error(404, "notFound", "The specified bucket does not exist.")
        prefix = request.query.get("prefix", "")
        names = sorted(name for name in bucket if name.startswith(prefix))
        start = int(request.query.get("pageToken") or 0)
        size = min(self.page_size, int(request.query.get("maxResults", "1000")))
        page = names[start : start + size]
        body: dict[str, Any] = {
            "kind": "storage#objects",
            "items": [self._resource(request.match_info["bucket"], name) for name in page],
        }
        if start + size < len(names):
            body["nextPageToken"] = str(start + size)
        if not page:
            del body["items"]
        return web.json_response(body)

    async def _object(self, request: web.Request) -> web.Response:
        refused = self._refuse(request)
        if refused is not None:
            return refused
        bucket_name = request.match_info["bucket"]
        # The name is one percent-encoded segment (``docs%2Findex.md``): decode it ourselves
        # from the raw path, as the router has already turned ``%2F`` into ``/``.
        raw = request.raw_path.split("?", 1)[0]
        name = unquote(raw.split("/o/", 1)[1])
        data = self.buckets.get(bucket_name, {}).get(name)
        if data is None:
            return _error(404, "notFound", f"No such object: {bucket_name}/{name}")
        etag = self.etag(bucket_name, name)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        if request.query.get("alt") == "media":
            return web.Response(
                body=data,
                content_type="application/octet-stream",
                headers={
                    "ETag": etag,
                    "Last-Modified": format_datetime(UPDATED, usegmt=True),
                    "x-goog-generation": str(self._generations.get((bucket_name, name), 1000)),
                },
            )
        return web.json_response(self._resource(bucket_name, name), headers={"ETag": etag})

    # -- helpers -------------------------------------------------------------------------------

    def _refuse(self, request: web.Request) -> web.Response | None:
        if self.answer is not None:
            status, reason = self.answer
            return _error(status, reason, f"Forced {reason}.")
        if self.accepted_tokens:
            given = request.headers.get("Authorization", "")
            if given.removeprefix("Bearer ") not in self.accepted_tokens:
                return _error(401, "required", "Anonymous caller does not have access.")
        return None

    def _resource(self, bucket: str, name: str) -> dict[str, Any]:
        data = self.buckets[bucket][name]
        return {
            "kind": "storage#object",
            "bucket": bucket,
            "name": name,
            "generation": str(self._generations.get((bucket, name), 1000)),
            "etag": self.etag(bucket, name),
            "size": str(len(data)),
            "updated": UPDATED.isoformat().replace("+00:00", "Z"),
        }


def _error(status: int, reason: str, message: str) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "global", "reason": reason, "message": message}],
            }
        },
        status=status,
    )
