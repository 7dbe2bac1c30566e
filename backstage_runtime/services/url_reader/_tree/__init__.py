"""Tree responses: safe, streaming extraction of archives within limits."""

from ._factory import DefaultReadTreeResponseFactory
from ._limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, TreeLimits, read_tree_limits
from ._responses import FilesTreeResponse, TarArchiveResponse

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "DefaultReadTreeResponseFactory",
    "FilesTreeResponse",
    "TarArchiveResponse",
    "TreeLimits",
    "read_tree_limits",
]
