"""A pipeline of named ASGI middleware pieces, assembled around an endpoint in one place."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ._asgi import ASGIApp

__all__ = ["Piece", "build_pipeline"]


@dataclass(frozen=True, slots=True)
class Piece:
    """One named middleware: ``wrap(app)`` returns the ASGI app that runs before ``app``."""

    name: str
    wrap: Callable[[ASGIApp], ASGIApp]


def build_pipeline(pieces: Sequence[Piece], endpoint: ASGIApp) -> ASGIApp:
    """``endpoint`` wrapped in ``pieces``, the first one outermost (it sees a request first).

    Raises :class:`ValueError` for two pieces of the same name: names are how a later
    configuration will address them.
    """
    names = [piece.name for piece in pieces]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Duplicate middleware names in the pipeline: {', '.join(duplicates)}")
    app = endpoint
    for piece in reversed(pieces):
        app = piece.wrap(app)
    return app
