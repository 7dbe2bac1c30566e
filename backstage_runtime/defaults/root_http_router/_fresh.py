"""Whether a conditional request's cached copy is still good: jshttp ``fresh`` 0.5.2, as Express
4's ``req.fresh`` uses it.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime

__all__ = ["fresh"]

_NO_CACHE = re.compile(r"(?:^|,)\s*?no-cache\s*?(?:,|$)")


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None  # JavaScript's Date.parse gives NaN, which compares false with anything


def _token_list(value: str) -> list[str]:
    # fresh's parseTokenList: split at commas, dropping the spaces around each token.
    return [token.strip(" ") for token in value.split(",")]


def fresh(
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    cache_control: str | None,
    etag: str | None,
    last_modified: str | None,
) -> bool:
    """True when the client's copy (``If-None-Match`` / ``If-Modified-Since``) matches the
    response (``etag`` / ``last_modified``), so a 304 may replace it.

    ``Cache-Control: no-cache`` on the request always asks for the full response; ``*`` matches
    any entity tag; a weak and a strong tag with the same value match.
    """
    if not if_modified_since and not if_none_match:
        return False
    if cache_control and _NO_CACHE.search(cache_control):
        return False
    if if_none_match and if_none_match != "*":
        if not etag:
            return False
        weak = "W/" + etag
        if not any(
            match in (etag, weak) or "W/" + match == etag for match in _token_list(if_none_match)
        ):
            return False
    if if_modified_since:
        modified = _http_date(last_modified)
        since = _http_date(if_modified_since)
        if modified is None or since is None or not modified <= since:
            return False
    return True
