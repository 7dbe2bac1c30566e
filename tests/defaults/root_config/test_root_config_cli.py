"""``backstage-runtime config``: the resolved config as the reader sees it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from backstage_runtime.cli import main


def test_config_command_prints_no_nulls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app-config.yaml").write_text(
        "backend:\n  baseUrl: http://b\n  cors:\n    origin: x\n  csp:\n    a: [b]\n"
        "  auth: ~\nlist: [1, null]\n"
    )
    (tmp_path / "n.yaml").write_text("backend:\n  cors:\n  csp: null\nother:\n  gone: null\n")
    monkeypatch.chdir(tmp_path)
    assert main(["config", "--config", "app-config.yaml", "--config", "n.yaml"]) == 0
    printed = capsys.readouterr().out
    # Node's reader drops nulled keys from objects and keeps a null inside an array.
    assert yaml.safe_load(printed) == {
        "backend": {"baseUrl": "http://b"},
        "other": {},
        "list": [1, None],
    }
    assert "cors" not in printed
    assert "auth" not in printed


def test_config_command_prints_an_empty_configuration_without_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no app-config.yaml here
    for name in [key for key in os.environ if key.startswith("APP_CONFIG_")]:
        monkeypatch.delenv(name)
    assert main(["config"]) == 0
    assert yaml.safe_load(capsys.readouterr().out) == {}
