"""Azure Storage connection strings (``AccountName=...;AccountKey=...;BlobEndpoint=...``).

Only the settings that say where the blob service is and how to sign in are read; the others
(queue and table endpoints, ...) are ignored. ``UseDevelopmentStorage=true`` stands for the
local emulator (Azurite) with its well-known account, as in the Azure SDKs.
"""

from __future__ import annotations

from ....api.errors import ConfigError

__all__ = ["DEVELOPMENT_STORAGE", "parse_connection_string"]

#: What ``UseDevelopmentStorage=true`` expands to: the emulator's published account and key.
DEVELOPMENT_STORAGE = {
    "accountname": "devstoreaccount1",
    "accountkey": (
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    ),
    "blobendpoint": "http://127.0.0.1:10000/devstoreaccount1",
}


def parse_connection_string(value: str, key: str) -> dict[str, str]:
    """The settings of a connection string, names lower-cased (they are case-insensitive).

    ``key`` names the config value in errors; the value itself is never quoted, it holds keys.
    """
    settings: dict[str, str] = {}
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, setting = part.partition("=")
        if not sep or not name.strip():
            raise ConfigError(
                f"Invalid Azure Blob Storage integration config at '{key}', expected "
                "'Name=value' settings separated by ';'"
            )
        settings[name.strip().lower()] = setting.strip()
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        settings = {**DEVELOPMENT_STORAGE, **settings}
    return settings
