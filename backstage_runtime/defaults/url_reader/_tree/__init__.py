"""Tree responses: safe, streaming extraction of archives within limits."""

from ._factory import DefaultReadTreeResponseFactory
from ._limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, TreeLimits, read_tree_limits
from ._responses import FilesTreeResponse, TarArchiveResponse
from ._streams import FileStreamsTreeResponse
from ._zip import ZipArchiveResponse

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "DefaultReadTreeResponseFactory",
    "FileStreamsTreeResponse",
    "FilesTreeResponse",
    "TarArchiveResponse",
    "TreeLimits",
    "ZipArchiveResponse",
    "read_tree_limits",
]
