"""The Quart request class of the apps a plugin router builds: JSON bodies parsed strictly."""

from __future__ import annotations

from typing import Any

from quart import Request
from werkzeug.sansio.utils import get_content_length
from werkzeug.utils import cached_property

from ..api.errors import InputError
from ._json_body import parse_json_body

__all__ = ["BackstageRequest"]


class BackstageRequest(Request):
    """Quart's request whose ``get_json`` turns every malformed body into an ``InputError``.

    Quart's own only catches ``ValueError``: invalid UTF-8 (``UnicodeDecodeError`` is one, but
    it is raised before the guard) and deep nesting (``RecursionError``) became 500s with a
    traceback per request, and ``NaN`` was accepted.
    """

    @cached_property
    def content_length(self) -> int | None:
        """werkzeug's ``Content-Length`` (None for a chunked or undeclared body), read from the
        ASGI headers the request was made of: ``headers.get`` of a missing header raises and
        catches an exception, twice for every request without a body.
        """
        length = encoding = None
        for name, value in self.scope["headers"]:
            if name == b"content-length" and length is None:
                length = value.decode("latin-1")
            elif name == b"transfer-encoding" and encoding is None:
                encoding = value.decode("latin-1")
        return get_content_length(http_content_length=length, http_transfer_encoding=encoding)

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body parsed as JSON; None when it is not JSON (unless ``force``), or when it is
        malformed and ``silent``; malformed otherwise raises :class:`InputError` (400).
        """
        if cache and self._cached_json[silent] is not Ellipsis:
            return self._cached_json[silent]
        if not (force or self.is_json):
            return None
        data = await self.get_data(cache=cache, as_text=False, parse_form_data=False)
        try:
            result = parse_json_body(data)
        except InputError:
            if not silent:
                raise
            result = None
        if cache:
            self._cached_json[silent] = result
        return result
