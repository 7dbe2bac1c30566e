"""What the git forge readers share: path segments, refs with slashes, and glob search.

A forge URL such as ``.../blob/feature/x/docs/index.md`` does not say where the branch name
ends. Backstage takes the first segment as the ref. We do the same first (one request in the
common case) and only when the forge answers 404 ask which longer refs exist
(``feature/x``) and retry with the longest one that fits. Git forbids a branch ``feature``
next to a branch ``feature/x``, so this cannot shadow an existing shorter branch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import SplitResult, unquote

from ...api.errors import NotFoundError
from ...api.services.url_reader import (
    ReadTreeResponseFile,
    ReadUrlResponse,
    SearchResponse,
    SearchResponseFile,
)
from ._glob import compile_glob, is_glob

__all__ = [
    "RefLookup",
    "ResolvedRef",
    "glob_filter",
    "glob_split",
    "path_segments",
    "search_literal",
    "tree_files_to_search",
    "with_ref_fallback",
]

T = TypeVar("T")

#: ``lookup(candidates)`` returns which of the candidate ref names (all containing ``/``) exist.
RefLookup = Callable[[Sequence[str]], Awaitable[Collection[str]]]


@dataclass(frozen=True)
class ResolvedRef(Generic[T]):
    """The ref and path a call succeeded with, and its result."""

    ref: str
    path: str
    result: T


def path_segments(parts: SplitResult, *, strip_prefix: str = "") -> list[str]:
    """The URL path's non-empty segments, percent-decoded, below ``strip_prefix`` (the path of
    a forge hosted under a sub-path, such as ``/gitlab``).
    """
    path = parts.path
    prefix = strip_prefix.rstrip("/")
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix) :]
    return [unquote(segment) for segment in path.split("/") if segment]


async def with_ref_fallback(
    segments: Sequence[str],
    attempt: Callable[[str, str], Awaitable[T]],
    lookup: RefLookup,
    *,
    min_path_segments: int,
) -> ResolvedRef[T]:
    """Call ``attempt(ref, path)`` with ``segments[0]`` as the ref; on :class:`NotFoundError`
    retry with the longest existing ref made of more segments.

    ``min_path_segments`` is how many segments must stay for the path (1 for a file, 0 for a
    folder, the glob's segments for a search).
    """
    if not segments:
        raise ValueError("no ref segments")
    first, rest = segments[0], "/".join(segments[1:])
    try:
        return ResolvedRef(first, rest, await attempt(first, rest))
    except NotFoundError:
        longest = len(segments) - min_path_segments
        if longest < 2:
            raise
        candidates = ["/".join(segments[:count]) for count in range(longest, 1, -1)]
        existing = await lookup(candidates)
        for count in range(longest, 1, -1):
            ref = "/".join(segments[:count])
            if ref in existing:
                path = "/".join(segments[count:])
                return ResolvedRef(ref, path, await attempt(ref, path))
        raise


def glob_split(segments: Sequence[str]) -> int:
    """How many trailing segments belong to the glob (from the first one with glob syntax)."""
    for index, segment in enumerate(segments):
        if is_glob(segment):
            return len(segments) - index
    return 0


async def search_literal(
    read: Callable[[], Awaitable[ReadUrlResponse]], url: str
) -> SearchResponse:
    """Backstage's search of a URL without glob: the file itself, or nothing on 404."""
    try:
        response = await read()
    except NotFoundError:
        return SearchResponse(files=[], etag="")
    data = await response.buffer()

    async def content() -> bytes:
        return data

    return SearchResponse(
        files=[
            SearchResponseFile(url=url, content=content, last_modified_at=response.last_modified_at)
        ],
        etag=response.etag or "",
    )


def tree_files_to_search(
    files: Sequence[ReadTreeResponseFile], *, etag: str, to_url: Callable[[str], str]
) -> SearchResponse:
    """Tree files (paths relative to the repository) as search results."""
    return SearchResponse(
        files=[
            SearchResponseFile(
                url=to_url(file.path), content=file.content, last_modified_at=file.last_modified_at
            )
            for file in files
        ],
        etag=etag,
    )


def glob_filter(pattern: str, prefix: str = "") -> Callable[[str, object], bool]:
    """A tree filter keeping paths (relative to ``prefix``) that ``pattern`` matches."""
    regex = compile_glob(pattern)
    base = prefix.strip("/")

    def keep(path: str, _info: object) -> bool:
        return regex.fullmatch(f"{base}/{path}" if base else path) is not None

    return keep
