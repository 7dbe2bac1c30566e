"""``serve --host/--port``: the override keeps the shape of ``backend.listen`` in the files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import load_config
from backstage_runtime.defaults.root_http_router import (
    ListenOptions,
    listen_override,
    read_listen_options,
)


def overridden(tmp_path: Path, listen: Any, host: str | None, port: int | None) -> ListenOptions:
    data = {"backend": {"baseUrl": "http://localhost:7007"}}
    if listen is not None:
        data["backend"]["listen"] = listen
    file = tmp_path / "app-config.yaml"
    file.write_text(yaml.safe_dump(data))
    override = listen_override(load_config([str(file)], env={}), host=host, port=port)
    config = load_config([str(file)], env={}, overrides={"backend": {"listen": override}})
    return read_listen_options(config)


@pytest.mark.parametrize(
    ("listen", "host", "port", "expected"),
    [
        ("127.0.0.1:7011", None, 7020, ListenOptions("127.0.0.1", 7020)),
        ("127.0.0.1:7011", "localhost", None, ListenOptions("localhost", 7011)),
        ("7010", None, 7021, ListenOptions("", 7021)),
        ("7010", "127.0.0.1", None, ListenOptions("127.0.0.1", 7010)),
        (7012, None, 7022, ListenOptions("", 7022)),
        ({"host": "127.0.0.1", "port": 7013}, None, 7023, ListenOptions("127.0.0.1", 7023)),
        (None, None, 7024, ListenOptions("", 7024)),
        (None, "::1", None, ListenOptions("::1", 7007)),
    ],
)
def test_the_override_replaces_only_what_was_given(
    tmp_path: Path, listen: Any, host: str | None, port: int | None, expected: ListenOptions
) -> None:
    assert overridden(tmp_path, listen, host, port) == expected


def test_an_ipv6_host_cannot_go_into_the_string_form(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"host ::1: backend\.listen is the string '7010'"):
        overridden(tmp_path, "7010", "::1", None)
