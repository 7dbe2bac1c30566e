"""``url_reader_factories``: the ref through which other plugins add URL readers.

Apart from the URL reader's interface (``services/url_reader.py``, loaded on first use), because
the default URL reader factory names it in its deps at every start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._refs import MultitonServiceRef, create_service_ref

if TYPE_CHECKING:
    from .services.url_reader import ReaderFactory

__all__ = ["url_reader_factories"]

#: ``core.urlReader.factories`` (plugin scope, multiton): extra :class:`ReaderFactory` objects,
#: tried before the built-in readers. Provide one with
#: ``create_service_factory(service=url_reader_factories, factory=lambda: my_factory)``.
url_reader_factories: Final[MultitonServiceRef[ReaderFactory]] = create_service_ref(
    id="core.urlReader.factories", multiton=True
)
