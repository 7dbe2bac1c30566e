"""How GitHub says a caller is rate limited."""

from __future__ import annotations

import aiohttp

__all__ = ["github_rate_limited"]


def github_rate_limited(response: aiohttp.ClientResponse) -> bool:
    """GitHub's rate-limit answer: 429, or 403 with ``x-ratelimit-remaining: 0``."""
    return response.status == 429 or (
        response.status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
    )
