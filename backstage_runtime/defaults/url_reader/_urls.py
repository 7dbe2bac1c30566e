"""URL helpers shared by the readers: splitting, WHATWG-style hosts, and redaction for messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from ...api.errors import InputError

__all__ = [
    "effective_port",
    "host_predicate",
    "is_valid_host",
    "normalize_path",
    "redact_url",
    "same_origin",
    "split_url",
    "url_host",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that carry credentials in some providers' URLs (Azure SAS ``sig``, GitLab
# ``private_token``, OAuth ``access_token``); they are masked before a URL reaches a message.
_SECRET_PARAMS = re.compile(
    r"^(sig|signature|token|private_token|access_token|x-amz-signature|x-amz-credential|"
    r"x-amz-security-token|client_secret|password|code)$",
    re.IGNORECASE,
)


def split_url(url: str) -> SplitResult:
    """``urlsplit`` that only accepts absolute ``http``/``https`` URLs with a host.

    Raises :class:`InputError` for anything else, naming the URL without credentials.
    """
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - evaluating it validates the port
    except ValueError as error:
        raise InputError(f"Invalid URL '{redact_url(url)}': {error}") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise InputError(f"Invalid URL '{redact_url(url)}', expected an absolute http(s) URL")
    return parts


def effective_port(parts: SplitResult) -> int | None:
    """The URL's port when it is not the scheme's default (WHATWG ``URL.port`` semantics)."""
    port = parts.port
    if port is None or _DEFAULT_PORTS.get(parts.scheme) == port:
        return None
    return port


def url_host(parts: SplitResult) -> str:
    """``hostname[:port]`` as WHATWG ``URL.host`` gives it: lower-case, default port dropped.

    Integration predicates compare this with the configured ``host`` as Backstage does.
    """
    hostname = parts.hostname or ""
    if ":" in hostname:  # IPv6 literal
        hostname = f"[{hostname}]"
    port = effective_port(parts)
    return hostname if port is None else f"{hostname}:{port}"


def normalize_path(path: str) -> str:
    """The path with ``.``/``..`` segments resolved, ``%2e`` counted as a dot (as WHATWG does)."""
    output: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        decoded = segment.lower().replace("%2e", ".")
        last = index == len(segments) - 1
        if decoded == "..":
            if len(output) > 1:
                output.pop()
            if last:
                output.append("")
        elif decoded == ".":
            if last:
                output.append("")
        else:
            output.append(segment)
    result = "/".join(output)
    return result if result.startswith("/") else "/" + result


def redact_url(url: str) -> str:
    """``url`` fit for logs and error messages: no user-info, secret query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_SECRET_PARAMS.match(key) for key, _ in pairs):
            query = urlencode(
                [(key, "***" if _SECRET_PARAMS.match(key) else value) for key, value in pairs],
                safe="/*",
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def is_valid_host(host: str) -> bool:
    """Whether ``host`` is a bare ``hostname[:port]`` (Backstage's ``isValidHost``)."""
    if not host or any(char in host for char in "/?#@ "):
        return False
    try:
        parts = urlsplit(f"http://{host}")
        return url_host(parts) == host.lower()
    except ValueError:
        return False


def same_origin(first: str, second: str) -> bool:
    """Whether two URLs share scheme, host and port (credentials go only to their origin)."""
    a, b = urlsplit(first), urlsplit(second)
    return (a.scheme, a.hostname, effective_port(a)) == (b.scheme, b.hostname, effective_port(b))


def host_predicate(host: str) -> Callable[[SplitResult], bool]:
    """A reader predicate accepting URLs whose WHATWG host equals ``host`` (as Backstage's
    integration readers compare ``url.host``).
    """
    expected = host.lower()

    def predicate(parts: SplitResult) -> bool:
        return url_host(parts) == expected

    return predicate
