"""Reading ingress bodies by content type: JSON by default, others from modules."""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from typing import Final

from ._errors import JsonSyntaxError, UnsupportedCharsetError
from ._extension_point import HttpBodyParser, HttpBodyParseResult

__all__ = ["DEFAULT_BODY_PARSERS", "parse_json_body"]


def parse_json_body(raw: bytes, parameters: Mapping[str, str], topic: str) -> HttpBodyParseResult:
    """``application/json`` in its ``charset`` (default UTF-8): 415 for a charset Python does
    not know, 400 ``SyntaxError`` for a body that does not parse."""
    encoding = parameters.get("charset", "utf-8")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnsupportedCharsetError(encoding) from None
    try:
        return HttpBodyParseResult(body=json.loads(raw.decode(encoding)), encoding=encoding)
    except (ValueError, UnicodeDecodeError) as error:
        raise JsonSyntaxError(f"Unexpected JSON in request body: {error}") from None


#: The parsers every ingress has (Node's ``defaultHttpBodyParsers``).
DEFAULT_BODY_PARSERS: Final[Mapping[str, HttpBodyParser]] = {"application/json": parse_json_body}
