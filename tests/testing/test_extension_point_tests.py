"""``start_test_backend(extension_points=...)``: a module tested without its plugin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from unittest.mock import MagicMock

import pytest
from backstage_plugin_todo_backend import TodoSourcesExtensionPoint, todo_sources_extension_point
from backstage_plugin_todo_backend_module_static import static_todos_module

from backstage_runtime import ExtensionPoint, create_backend_module, create_extension_point
from backstage_runtime.api.errors import BackendStartupError, BackendValidationError
from backstage_runtime.testing import start_test_backend

pytestmark = pytest.mark.anyio


class RecordingSources:
    """A fake of the todo plugin's extension point."""

    def __init__(self) -> None:
        self.sources: dict[str, list[str]] = {}

    def add_source(self, name: str, titles: Sequence[str]) -> None:
        self.sources[name] = list(titles)


async def test_the_static_module_alone_fails_without_its_extension_point() -> None:
    with pytest.raises(BackendValidationError, match=r"todo\.sources"):
        async with start_test_backend(features=[static_todos_module]):
            pass


async def test_the_static_module_alone_adds_its_items_to_a_given_extension_point() -> None:
    sources = RecordingSources()
    async with start_test_backend(
        features=[static_todos_module],
        config={"todo": {"static": {"items": ["Water plants", "Call Ada"]}}},
        extension_points=[(todo_sources_extension_point, sources)],
    ) as test:
        assert test.backend.startup_result.plugins["todo"].started
    assert sources.sources == {"static": ["Water plants", "Call Ada"]}


async def test_a_mock_double_stands_in_for_the_extension_point() -> None:
    double = MagicMock(spec=TodoSourcesExtensionPoint)
    async with start_test_backend(
        features=[static_todos_module],
        extension_points=[(todo_sources_extension_point, double)],
    ):
        pass
    double.add_source.assert_called_once_with("static", [])


async def test_the_extension_point_closes_once_the_module_init_is_over() -> None:
    kept: list[Any] = []
    tasks: ExtensionPoint[Any] = create_extension_point(id="test.tasks")

    def register(env: Any) -> None:
        env.register_init(deps={"tasks": tasks}, init=lambda tasks: kept.append(tasks))

    module = create_backend_module(plugin_id="jobs", module_id="nightly", register=register)
    async with start_test_backend(features=[module], extension_points=[(tasks, MagicMock())]):
        with pytest.raises(Exception, match="only be used during module init"):
            kept[0].add("late")


async def test_an_extension_point_no_module_uses_is_refused() -> None:
    unused: ExtensionPoint[int] = create_extension_point(id="test.unused")
    with pytest.raises(ValueError, match=r"plugin ID of extension point\(s\) 'test.unused'"):
        async with start_test_backend(
            features=[static_todos_module],
            extension_points=[(todo_sources_extension_point, RecordingSources()), (unused, 1)],
        ):
            pass


async def test_an_extension_point_given_twice_is_refused() -> None:
    pairs = [(todo_sources_extension_point, RecordingSources())] * 2
    with pytest.raises(ValueError, match="given twice"):
        async with start_test_backend(features=[static_todos_module], extension_points=pairs):
            pass


async def test_a_pair_that_is_no_pair_is_refused() -> None:
    with pytest.raises(ValueError, match=r"\(extension_point, implementation\) pairs"):
        async with start_test_backend(
            features=[static_todos_module],
            extension_points=[todo_sources_extension_point],  # type: ignore[list-item]
        ):
            pass


async def test_a_failing_module_fails_the_start_as_usual() -> None:
    class Refusing:
        def add_source(self, name: str, titles: Sequence[str]) -> None:
            raise RuntimeError("no more sources")

    with pytest.raises(BackendStartupError, match="no more sources"):
        async with start_test_backend(
            features=[static_todos_module],
            extension_points=[(todo_sources_extension_point, Refusing())],
        ):
            pass
