"""MkDocs hooks: the README's guides become the site's guide pages, so the two never drift.

Each ``## Section`` of README.md is the page ``guide/<slug>.md`` (its headings one level up, so
the section title is the page title); the text before the first section replaces the
``<!-- readme: intro -->`` line of a page. Headings get GitHub's anchors, so the README's
``](#anchor)`` links work on both, and a link to an anchor on another page is pointed there.
The highlighting stylesheet is generated here too: the theme's own highlighter loads from a CDN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from pygments.formatters import HtmlFormatter  # type: ignore[import-untyped]
from pymdownx.slugs import slugify  # type: ignore[import-untyped]

README = Path(__file__).resolve().parents[2] / "README.md"
INTRO_MARKER = "<!-- readme: intro -->"
GUIDE_FOLDER = "guide"
STYLESHEET = "css/pygments.css"

#: GitHub's heading anchors (lower case, punctuation dropped, each space a hyphen).
_slugify = slugify(case="lower")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<title>.+?)\s*#*\s*$")
_ANCHOR_LINK = re.compile(r"\]\(#(?P<anchor>[^)\s]+)\)")


@dataclass(frozen=True)
class Section:
    """One ``##`` section of the README: its page and the anchors of its headings."""

    slug: str
    markdown: str
    anchors: frozenset[str]

    @property
    def uri(self) -> str:
        """The page's path in the docs folder."""
        return f"{GUIDE_FOLDER}/{self.slug}.md"


def _heading_anchor(title: str) -> str:
    # What Python-Markdown's toc does with a heading: inline code loses its backticks.
    return str(_slugify(title.replace("`", ""), "-"))


def _split(text: str) -> tuple[str, list[tuple[str, list[str]]]]:
    """The intro (after the ``#`` title) and each ``##`` section's title and lines."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and len(heading["hashes"]) == 2:
            sections.append((heading["title"], []))
        elif sections:
            sections[-1][1].append(line)
        elif not (heading and len(heading["hashes"]) == 1):
            intro.append(line)
    return "\n".join(intro).strip() + "\n", sections


def _page_markdown(title: str, lines: list[str]) -> tuple[str, frozenset[str]]:
    """The section as a page (headings one level up) and the anchors on it."""
    out = [f"# {title}"]
    anchors = {_heading_anchor(title)}
    in_fence = False
    for line in lines:
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            anchors.add(_heading_anchor(heading["title"]))
            out.append(f"{heading['hashes'][1:]} {heading['title']}")
        else:
            out.append(line)
    return "\n".join(out).strip() + "\n", frozenset(anchors)


def _read() -> tuple[str, list[Section]]:
    intro, parts = _split(README.read_text(encoding="utf-8"))
    sections = []
    for title, lines in parts:
        markdown, anchors = _page_markdown(title, lines)
        sections.append(Section(_heading_anchor(title), markdown, anchors))
    return intro, sections


def _relink(markdown: str, own: frozenset[str], sections: list[Section], prefix: str) -> str:
    """Point ``](#anchor)`` links whose anchor is on another guide page at that page."""

    def relink(match: re.Match[str]) -> str:
        anchor = match["anchor"]
        if anchor in own:
            return match[0]
        for section in sections:
            if anchor in section.anchors:
                page = f"{prefix}{section.slug}.md"
                return f"]({page})" if anchor == section.slug else f"]({page}#{anchor})"
        return match[0]  # left as it is: the strict build reports the broken anchor

    return _ANCHOR_LINK.sub(relink, markdown)


def on_config(config: MkDocsConfig, **kwargs: Any) -> MkDocsConfig:
    """Give headings GitHub's anchors, the ones the README's links use."""
    config.mdx_configs.setdefault("toc", {})["slugify"] = _slugify
    return config


def on_files(files: Files, config: MkDocsConfig, **kwargs: Any) -> Files:
    """Add a page per README section, and the highlighting stylesheet."""
    _, sections = _read()
    for section in sections:
        content = _relink(section.markdown, section.anchors, sections, prefix="")
        files.append(File.generated(config, section.uri, content=content))
    css = HtmlFormatter(style="default").get_style_defs(".highlight")
    files.append(File.generated(config, STYLESHEET, content=css))
    return files


def on_page_markdown(markdown: str, page: Page, **kwargs: Any) -> str:
    """Put the README's intro where a hand-written page asks for it."""
    if INTRO_MARKER not in markdown:
        return markdown
    intro, sections = _read()
    depth = page.file.src_uri.count("/")
    prefix = "../" * depth + f"{GUIDE_FOLDER}/"
    return markdown.replace(INTRO_MARKER, _relink(intro, frozenset(), sections, prefix))


def on_serve(server: Any, **kwargs: Any) -> Any:
    """``mkdocs serve`` rebuilds when the README changes, as it does for docs/."""
    server.watch(str(README))
    return server
