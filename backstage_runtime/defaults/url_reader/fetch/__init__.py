"""The plain fetch reader, restricted to ``backend.reading.allow``."""

from ._allow_list import AllowedTarget, parse_allowed_target, read_allow_list
from ._reader import FetchUrlReader

__all__ = ["AllowedTarget", "FetchUrlReader", "parse_allowed_target", "read_allow_list"]
