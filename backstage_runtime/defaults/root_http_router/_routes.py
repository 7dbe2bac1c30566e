"""The root router's table of mounted paths, with Backstage's prefix and conflict rules."""

from __future__ import annotations

from dataclasses import dataclass

from ...http_toolkit import ASGIApp

__all__ = ["DEFAULT_INDEX_PATH", "Mount", "RouteConflictError", "RouteTable"]

#: The path whose handler also serves unmatched requests outside ``/api/`` (the frontend app).
DEFAULT_INDEX_PATH = "/api/app"


class RouteConflictError(ValueError):
    """A path overlaps one already mounted, or is empty."""


@dataclass(frozen=True)
class Mount:
    """A mounted application and the path prefix it owns (as registered, no trailing slash;
    empty for the index mount serving a request outside its own path, which gets the whole
    path as Express's ``router.use(handler)`` gives it).
    """

    path: str
    app: ASGIApp


def _normalise(path: str) -> str:
    return path.rstrip("/").lower()


class RouteTable:
    """Prefix routing on path-segment boundaries, case-insensitive, like Express's ``use``.

    Two registered paths may not overlap: ``/api`` and ``/api/catalog`` conflict, while
    ``/api/catalog`` and ``/api/catalog-import`` do not. The handler at the index path also
    receives every unmatched request outside ``/api`` (Express's ``use('/api/')`` owns
    ``/api`` itself too), with its whole path.
    """

    def __init__(self, index_path: str | None = DEFAULT_INDEX_PATH) -> None:
        if index_path is not None and not index_path.strip("/ "):
            raise RouteConflictError("indexPath may not be empty")
        self._index_path = _normalise(index_path) if index_path is not None else None
        self._by_path: dict[str, Mount] = {}
        self._index_mount: Mount | None = None
        self._max_segments = 0

    def add(self, path: str, app: ASGIApp) -> Mount:
        """Mount ``app`` at ``path``; raises :class:`RouteConflictError` on overlap or emptiness."""
        trimmed = path.strip()
        if not trimmed.strip("/"):
            raise RouteConflictError("Root router path may not be empty")
        if not trimmed.startswith("/"):
            trimmed = "/" + trimmed
        key = _normalise(trimmed)
        for existing_key, existing in self._by_path.items():
            if (key + "/").startswith(existing_key + "/") or (existing_key + "/").startswith(
                key + "/"
            ):
                raise RouteConflictError(
                    f"Path {trimmed} conflicts with the existing path {existing.path}"
                )
        mount = Mount(trimmed.rstrip("/"), app)
        self._by_path[key] = mount
        if key == self._index_path:
            self._index_mount = Mount("", app)
        self._max_segments = max(self._max_segments, key.count("/"))
        return mount

    def match(self, path: str) -> Mount | None:
        """The mount owning ``path``, the index mount (with an empty ``path``) for paths
        outside ``/api``, or None.
        """
        lowered = path.lower()
        # Try each segment boundary, shortest first; paths never overlap, so one lookup per
        # boundary finds the only candidate without scanning every mount.
        end = 0
        for _ in range(self._max_segments):
            end = lowered.find("/", end + 1)
            prefix = lowered if end == -1 else lowered[:end]
            found = self._by_path.get(prefix)
            if found is not None:
                return found
            if end == -1:
                break
        if lowered == "/api" or lowered.startswith("/api/"):
            return None
        return self._index_mount
