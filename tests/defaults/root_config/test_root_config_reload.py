"""Reloading: subscribers hear about changes, and only about changes."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.defaults.root_config import create_config_from_data, load_config


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_reload_notifies_subscribers_when_data_changed(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    calls: list[float] = []
    config.subscribe(lambda: calls.append(config.get_number("a")))
    path.write_text("a: 2\n")
    assert config.reload() is True
    assert calls == [2]


def test_reload_without_change_notifies_nobody(tmp_path: Path) -> None:
    (tmp_path / "app-config.yaml").write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    calls: list[str] = []
    config.subscribe(lambda: calls.append("x"))
    assert config.reload() is False
    assert calls == []


def test_reload_sees_a_change_of_type_only(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    path.write_text("a: true\n")
    assert config.reload() is True


def test_reload_sees_environment_changes(tmp_path: Path) -> None:
    env = {"APP_CONFIG_a": "1"}
    config = load_config(env=env, cwd=tmp_path)
    env["APP_CONFIG_a"] = "2"
    assert config.reload() is True
    assert config.get_number("a") == 2


def test_unsubscribed_callback_is_not_called(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    calls: list[str] = []
    subscription = config.subscribe(lambda: calls.append("x"))
    subscription.unsubscribe()
    subscription.unsubscribe()
    path.write_text("a: 2\n")
    config.reload()
    assert calls == []


def test_failing_subscriber_does_not_stop_the_others(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    errors: list[BaseException] = []
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("boom")

    config.subscribe(broken)
    config.subscribe(lambda: calls.append("second"))
    path.write_text("a: 2\n")
    config.reload(on_error=errors.append)
    assert calls == ["second"]
    assert [str(error) for error in errors] == ["boom"]


def test_failed_reload_raises_and_keeps_the_old_config(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    path.write_text("a: [\n")
    with pytest.raises(ConfigError):
        config.reload()
    assert config.get_number("a") == 1


def test_views_from_get_config_follow_reloads(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("backend:\n  baseUrl: one\n")
    config = load_config(env={}, cwd=tmp_path)
    backend = config.get_config("backend")
    path.write_text("backend:\n  baseUrl: two\n")
    config.reload()
    assert backend.get_string("baseUrl") == "two"


def test_reload_of_data_config_is_a_no_op() -> None:
    config = create_config_from_data({"a": 1})
    assert config.reload() is False


@pytest.mark.anyio
async def test_reload_loop_applies_changes_and_survives_failures(tmp_path: Path) -> None:
    path = tmp_path / "app-config.yaml"
    path.write_text("a: 1\n")
    config = load_config(env={}, cwd=tmp_path)
    errors: list[BaseException] = []
    failed = anyio.Event()
    changed = anyio.Event()
    config.subscribe(changed.set)

    def on_error(error: BaseException) -> None:
        errors.append(error)
        failed.set()

    async with anyio.create_task_group() as group:
        group.start_soon(lambda: config.run_reload_loop(0.01, on_error=on_error))
        path.write_text("a: [\n")
        with anyio.fail_after(5):
            await failed.wait()
        assert config.get_number("a") == 1
        path.write_text("a: 2\n")
        with anyio.fail_after(5):
            await changed.wait()
        group.cancel_scope.cancel()
    assert config.get_number("a") == 2
    assert isinstance(errors[0], ConfigError)
