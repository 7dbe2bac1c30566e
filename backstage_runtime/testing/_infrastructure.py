"""What a test does when real infrastructure (PostgreSQL, Redis, ...) is not reachable."""

from __future__ import annotations

import os
from typing import NoReturn

__all__ = ["infrastructure_missing", "running_on_ci"]


def running_on_ci() -> bool:
    """True when the ``CI`` environment variable says so (``true``/``1``/``yes``)."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def infrastructure_missing(what: str, reason: str) -> NoReturn:
    """Fail the test on CI, skip it elsewhere; ``what`` names the service, ``reason`` why.

    CI machines always run the services, so a missing one there is a broken run, never a quiet
    skip; a developer's machine may simply not have them.
    """
    import pytest

    message = f"{what} is not reachable: {reason}"
    if running_on_ci():
        pytest.fail(f"{message} (CI=true: real infrastructure is required)", pytrace=False)
    pytest.skip(message)
