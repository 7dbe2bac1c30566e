"""Which response types get compressed: the ``compressible`` package (2.0.18) over mime-db 1.54.0,
the versions a fresh install of ``compression@1.8.1`` resolves to.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["compressible"]

# compressible's fallback for types mime-db says nothing about. No mime-db type matching it is
# marked incompressible, so the database only adds the types listed below.
_COMPRESSIBLE_TYPE = re.compile(r"^text/|\+(?:json|text|xml)$", re.IGNORECASE)
_EXTRACT_TYPE = re.compile(r"^\s*([^;\s]*)(?:;|\s|$)")

#: mime-db 1.54.0 entries with ``"compressible": true`` that the pattern above does not match.
_COMPRESSIBLE_TYPES = frozenset(
    (
        "application/dart",
        "application/ecmascript",
        "application/javascript",
        "application/json",
        "application/octet-stream",
        "application/postscript",
        "application/raml+yaml",
        "application/rtf",
        "application/tar",
        "application/toml",
        "application/vnd.dart",
        "application/vnd.ms-fontobject",
        "application/vnd.ms-opentype",
        "application/wasm",
        "application/x-httpd-php",
        "application/x-javascript",
        "application/x-ns-proxy-autoconfig",
        "application/x-sh",
        "application/x-tar",
        "application/x-virtualbox-hdd",
        "application/x-virtualbox-ova",
        "application/x-virtualbox-ovf",
        "application/x-virtualbox-vbox",
        "application/x-virtualbox-vdi",
        "application/x-virtualbox-vhd",
        "application/x-virtualbox-vmdk",
        "application/x-www-form-urlencoded",
        "application/xml",
        "application/xml-dtd",
        "font/otf",
        "font/ttf",
        "image/bmp",
        "image/vnd.adobe.photoshop",
        "image/vnd.microsoft.icon",
        "image/vnd.ms-dds",
        "image/x-icon",
        "image/x-ms-bmp",
        "message/rfc822",
        "model/gltf-binary",
        "x-shader/x-fragment",
        "x-shader/x-vertex",
    )
)


@lru_cache(maxsize=256)  # a server sends few distinct Content-Types; this runs per response
def compressible(content_type: str) -> bool:
    """Whether a response of ``content_type`` (parameters allowed) is worth compressing."""
    match = _EXTRACT_TYPE.match(content_type)
    mime = match.group(1).lower() if match else ""
    return mime in _COMPRESSIBLE_TYPES or _COMPRESSIBLE_TYPE.search(mime) is not None
