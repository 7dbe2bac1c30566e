"""Where in user code a feature was created, so errors can point at it."""

from __future__ import annotations

import sys
from pathlib import Path

_API_DIR = str(Path(__file__).resolve().parent)


def caller_location() -> str:
    """Return ``file:line`` of the first stack frame outside this package's ``api`` folder."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not str(Path(filename).resolve()).startswith(_API_DIR):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>"
