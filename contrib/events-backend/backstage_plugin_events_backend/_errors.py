"""The errors the events plugin answers with besides Backstage's well-known ones, named as Node's
events backend (and its Express body parsers) name them."""

from __future__ import annotations

from backstage_runtime import BackstageError

__all__ = ["JsonSyntaxError", "UnsupportedCharsetError", "UnsupportedMediaTypeError"]


class JsonSyntaxError(BackstageError):
    """A JSON body that does not parse (HTTP 400, ``SyntaxError`` as ``express.json()``'s)."""

    name = "SyntaxError"
    status_code = 400


class UnsupportedMediaTypeError(BackstageError):
    """An ingress request whose content type has no body parser (HTTP 415)."""

    name = "UnsupportedMediaTypeError"
    status_code = 415

    def __init__(self, media_type: str | None) -> None:
        super().__init__(
            f"Unsupported media type: {media_type or 'unknown'}. You need to provide a custom "
            "body parser for this media type using events extension."
        )


class UnsupportedCharsetError(BackstageError):
    """An ingress request whose ``charset`` is not one Python decodes (HTTP 415)."""

    name = "UnsupportedCharsetError"
    status_code = 415

    def __init__(self, charset: str) -> None:
        super().__init__(f"Unsupported charset: {charset}")
