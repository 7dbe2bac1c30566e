"""Listed objects as trees: which names make tree files, when a listing is too long, and the
ETag of a listing.

GCS has no version identifier for a folder, so a tree's ETag is a SHA-256 over the sorted
names and ETags of the objects under the prefix (before the caller's filter, so that a change
anywhere under the folder counts): any upload, overwrite or deletion changes it, and an
unchanged listing lets ``read_tree`` answer ``NotModifiedError`` before anything is downloaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from ....api.services.url_reader import ArchiveLimitError
from ._client import GcsObject

__all__ = ["entry_limit", "listing_etag", "too_many_entries", "tree_path"]


def tree_path(name: str, prefix: str) -> str | None:
    """The path of object ``name`` in a tree rooted at folder ``prefix`` (``""`` or ending in
    ``/``), or None when the object cannot be a tree file: outside the folder, a folder
    placeholder (ending in ``/``), or with empty, ``.`` or ``..`` segments. GCS stores
    ``docs/a/../b`` as written; such a name would not extract safely, and failing the whole
    tree for it would let anyone who may upload under the prefix break reads of it.
    """
    if not name.startswith(prefix):
        return None
    path = name[len(prefix) :]
    if not path or any(segment in ("", ".", "..") for segment in path.split("/")):
        return None
    return path


def entry_limit(trees: object) -> int | None:
    """``backend.reading.tree.maxEntries`` of a tree response factory that exposes its limits
    (the default one does); None when it does not, and the tree response alone enforces it.
    """
    value = getattr(getattr(trees, "limits", None), "max_entries", None)
    return value if isinstance(value, int) else None


def too_many_entries(source: str, limit: int) -> ArchiveLimitError:
    """The error of a listing of ``source`` that holds more than ``limit`` entries."""
    return ArchiveLimitError(
        f"The tree from {source} has more than {limit} entries "
        "(see backend.reading.tree.maxEntries)"
    )


def listing_etag(objects: Iterable[GcsObject]) -> str:
    """The ETag of a set of objects (order-independent)."""
    digest = hashlib.sha256()
    for name, etag in sorted((item.name, item.etag) for item in objects):
        digest.update(f"{name}\0{etag}\n".encode())
    return digest.hexdigest()
