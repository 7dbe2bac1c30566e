"""The README's Python examples import only the public API, and the complete ones run.

Each ```python block is executed on its own, in a fresh namespace, as a reader who pastes it into
a file would. A block preceded by ``<!-- readme-example: fragment ... -->`` is part of a longer
program (top-level ``await``, names from another block); it is only compiled and import-checked.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from backstage_runtime.testing import start_test_backend

README = Path(__file__).resolve().parent.parent / "README.md"

#: The modules of ours an example may import; everything else of ours is private.
PUBLIC_MODULES = {"backstage_runtime", "backstage_runtime.testing", "backstage_runtime.permissions"}

_BLOCK = re.compile(
    r"(?P<marker><!-- readme-example: fragment\b[^>]*-->\s*\n)?```python\n(?P<code>.*?)\n```",
    re.DOTALL,
)


@dataclass(frozen=True)
class Example:
    """One ```python block: its code, the README line it starts on, and whether it is a fragment."""

    code: str
    line: int
    fragment: bool

    @property
    def filename(self) -> str:
        """What tracebacks show for this block."""
        return f"README.md:{self.line}"


def _examples() -> list[Example]:
    text = README.read_text(encoding="utf-8")
    examples = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code")) + 1
        examples.append(Example(match["code"], line, match["marker"] is not None))
    return examples


EXAMPLES = _examples()


def _compile(example: Example) -> Any:
    return compile(
        example.code,
        example.filename,
        "exec",
        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        dont_inherit=True,
    )


def test_the_readme_has_examples_and_few_fragments() -> None:
    assert len(EXAMPLES) >= 9
    # Fragments are not run: keep them the exception (each marker says why it is one).
    assert sum(example.fragment for example in EXAMPLES) <= 2


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.filename)
def test_examples_import_only_the_public_modules(example: Example) -> None:
    tree = ast.parse(example.code, example.filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] == "backstage_runtime":
                assert module in PUBLIC_MODULES, (
                    f"{example.filename} imports {module}; examples import from "
                    "backstage_runtime, backstage_runtime.testing or backstage_runtime.permissions only"
                )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda example: example.filename)
def test_examples_run(example: Example) -> None:
    code = _compile(example)
    if example.fragment:
        return  # compiled (so it is valid Python) but not run, as its marker says
    exec(code, {"__name__": "readme_example"})


def _run(example: Example, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    namespace = {"__name__": "readme_example", **(namespace or {})}
    exec(_compile(example), namespace)
    return namespace


def _example_defining(name: str) -> Example:
    return next(
        e for e in EXAMPLES if re.search(rf"^(async )?def {name}\b|^{name}\b", e.code, re.M)
    )


@pytest.mark.anyio
async def test_the_testing_example_passes_against_the_plugin_example() -> None:
    # The README's test is written for the README's first plugin: run it, so neither drifts.
    plugin = _run(_example_defining("example_plugin"))["example_plugin"]
    test = _run(_example_defining("test_example_plugin_greets"), {"example_plugin": plugin})
    await test["test_example_plugin_greets"]()


@pytest.mark.anyio
async def test_the_http_example_answers_as_the_readme_says() -> None:
    plugin = _run(_example_defining("greetings_plugin"))["greetings_plugin"]
    async with (
        start_test_backend(features=[plugin]) as backend,
        aiohttp.ClientSession() as session,
    ):
        async with session.get(await backend.url("/api/greetings/greetings/ada")) as reply:
            assert reply.status == 200
            assert await reply.json() == {"greeting": "hello ada"}
        async with session.get(await backend.url("/api/greetings/greetings/nobody")) as reply:
            assert reply.status == 404
            body = await reply.json()
            assert body["error"] == {"name": "NotFoundError", "message": "No greeting for nobody"}
