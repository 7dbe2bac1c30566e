"""The hook that turns README.md's sections into guide pages (docs/_hooks/readme_pages.py)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HOOK = Path(__file__).resolve().parents[2] / "docs" / "_hooks" / "readme_pages.py"

README = """\
# project

The intro, [with a link](#second).

## First

```sh
# a shell comment, not a heading
## nor this
```

### Sub part

See [the second page](#second), [its part](#deep-part) and [this one](#sub-part).

## Second

#### Deep part
"""


@pytest.fixture(scope="module")
def hook() -> Iterator[ModuleType]:
    # Loaded from its file as mkdocs loads it; registered while in use (its dataclass needs that).
    name = "_docs_hook_readme_pages"
    spec = importlib.util.spec_from_file_location(name, HOOK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def _sections(hook: ModuleType, text: str) -> tuple[str, list[Any]]:
    intro, parts = hook._split(text)
    sections = []
    for title, lines in parts:
        markdown, anchors = hook._page_markdown(title, lines)
        sections.append(hook.Section(hook._heading_anchor(title), markdown, anchors))
    return intro, sections


def test_each_level_two_heading_outside_code_starts_a_page(hook: ModuleType) -> None:
    intro, sections = _sections(hook, README)

    assert intro == "The intro, [with a link](#second).\n"
    assert [section.uri for section in sections] == ["guide/first.md", "guide/second.md"]


def test_headings_move_up_a_level_and_code_is_left_as_it_is(hook: ModuleType) -> None:
    _, (first, second) = _sections(hook, README)

    assert first.markdown.startswith("# First\n")
    assert "\n## Sub part\n" in first.markdown
    assert "# a shell comment, not a heading\n## nor this\n" in first.markdown
    assert "\n### Deep part" in second.markdown
    assert first.anchors == {"first", "sub-part"}


def test_anchor_links_point_at_the_page_that_has_the_anchor(hook: ModuleType) -> None:
    intro, sections = _sections(hook, README)
    first = sections[0]

    relinked = hook._relink(first.markdown, first.anchors, sections, prefix="")

    assert "[the second page](second.md)" in relinked
    assert "[its part](second.md#deep-part)" in relinked
    assert "[this one](#sub-part)" in relinked
    assert hook._relink(intro, frozenset(), sections, prefix="guide/") == (
        "The intro, [with a link](guide/second.md).\n"
    )


def test_an_anchor_no_page_has_is_left_for_the_strict_build_to_report(
    hook: ModuleType,
) -> None:
    _, sections = _sections(hook, README)

    assert hook._relink("[x](#nowhere)", frozenset(), sections, prefix="") == "[x](#nowhere)"


def test_headings_get_the_anchors_github_gives_them(hook: ModuleType) -> None:
    assert hook._heading_anchor("Several processes: `serve --workers N`") == (
        "several-processes-serve---workers-n"
    )
