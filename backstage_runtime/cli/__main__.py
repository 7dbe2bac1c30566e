"""``python -m backstage_runtime.cli``: the ``backstage-runtime`` command (how workers start)."""

from __future__ import annotations

import sys

from ._main import main

if __name__ == "__main__":
    sys.exit(main())
