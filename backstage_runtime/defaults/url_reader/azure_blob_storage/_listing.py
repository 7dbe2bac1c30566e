"""Listed blobs as trees: which names make tree files, when a listing is too long, and the
ETag of a listing.

Azure has no version identifier for a folder, so a tree's ETag is derived from what the
listing says: a SHA-256 over the sorted names and ETags of every blob under the prefix (before
the caller's filter, so that a change anywhere under the folder counts). Any upload, overwrite
or deletion changes a blob's ETag or the set of names, and with it the tree's ETag; an
unchanged listing lets :meth:`read_tree` answer ``NotModifiedError`` before any download.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime

from ....api.services.url_reader import ArchiveLimitError

__all__ = ["BlobInfo", "collect_tree", "entry_limit", "listing_etag", "tree_path"]


@dataclass(frozen=True)
class BlobInfo:
    """One listed blob: its full ``name``, ``etag``, ``size`` in bytes and last change."""

    name: str
    etag: str
    size: int | None
    last_modified_at: datetime | None


def listing_etag(blobs: Iterable[BlobInfo]) -> str:
    """The ETag of a set of blobs (order-independent)."""
    digest = hashlib.sha256()
    for name, etag in sorted((blob.name, blob.etag.strip('"')) for blob in blobs):
        digest.update(f"{name}\0{etag}\n".encode())
    return digest.hexdigest()


def tree_path(name: str, prefix: str) -> str | None:
    """The path of blob ``name`` in a tree rooted at folder ``prefix`` (``""`` or ending in
    ``/``), or None when the blob cannot be a tree file: outside the folder, or with empty,
    ``.`` or ``..`` segments (Backstage skips dot segments too), which would not extract safely.
    """
    if not name.startswith(prefix):
        return None
    path = name[len(prefix) :]
    segments = path.split("/")
    if not path or any(segment in ("", ".", "..") for segment in segments):
        return None
    return path


def entry_limit(trees: object) -> int | None:
    """``backend.reading.tree.maxEntries`` of a tree response factory that exposes its limits
    (the default one does); None when it does not, and the tree response alone enforces it.
    """
    value = getattr(getattr(trees, "limits", None), "max_entries", None)
    return value if isinstance(value, int) else None


async def collect_tree(
    blobs: AsyncGenerator[BlobInfo, None], prefix: str, *, limit: int | None, source: str
) -> list[tuple[str, BlobInfo]]:
    """The blobs of a listing that are files of the tree at ``prefix`` (see :func:`tree_path`),
    with their paths. Raises :class:`ArchiveLimitError` as soon as there are more than
    ``limit``, and stops the listing there rather than listing a huge container to the end.
    """
    found: list[tuple[str, BlobInfo]] = []
    async with aclosing(blobs):
        async for blob in blobs:
            path = tree_path(blob.name, prefix)
            if path is None:
                continue
            if limit is not None and len(found) >= limit:
                raise ArchiveLimitError(
                    f"The tree from {source} has more than {limit} entries "
                    "(see backend.reading.tree.maxEntries)"
                )
            found.append((path, blob))
    return found
