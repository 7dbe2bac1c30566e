"""A backend created with a reload interval re-reads its config files while running."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from backstage_runtime import core_services, create_backend

pytestmark = pytest.mark.anyio


async def test_changed_config_file_reaches_subscribers_of_a_running_backend(tmp_path: Path) -> None:
    config_file = tmp_path / "app-config.yaml"
    config_file.write_text("app:\n  title: Before\n")
    backend = create_backend(
        config_paths=[config_file], config_reload_interval=0.05, env={}, serve_http=False
    )
    async with backend:
        config = await backend.get_service(core_services.root_config)
        changed = anyio.Event()
        config.subscribe(changed.set)
        assert config.get_string("app.title") == "Before"
        config_file.write_text("app:\n  title: After\n")
        with anyio.fail_after(10):
            await changed.wait()
        assert config.get_string("app.title") == "After"
