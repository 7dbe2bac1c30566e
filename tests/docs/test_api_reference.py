"""The API reference site: ``mkdocs build --strict`` succeeds, every public name is in it with its
docstring, and every README section is a guide page.

mkdocstrings reads the package statically (griffe), so these tests check what griffe sees, not what
an import gives: a name that only exists at run time, or a docstring that only ``__doc__``
assigns, is missing from the site even though ``help()`` shows it.
"""

from __future__ import annotations

import html
import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import griffe
import pytest
import yaml
from mkdocstrings import Inventory

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "mkdocs.yml"
README = ROOT / "README.md"


def _documented_modules() -> list[str]:
    """The modules that the API pages render (their ``::: module`` lines)."""
    modules = []
    for page in sorted((ROOT / "docs" / "api").glob("*.md")):
        modules += re.findall(r"^::: *(\S+)", page.read_text(encoding="utf-8"), re.MULTILINE)
    return modules


#: The modules whose every ``__all__`` name the reference must document.
PUBLIC_MODULES = _documented_modules()


def test_the_reference_renders_the_public_api_and_the_test_utilities() -> None:
    assert {"backstage_runtime", "backstage_runtime.testing"} <= set(PUBLIC_MODULES)


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("site")
    completed = _build(CONFIG, directory)
    assert completed.returncode == 0, completed.stderr
    return directory


@pytest.fixture(scope="module")
def inventory(site: Path) -> Inventory:
    with (site / "objects.inv").open("rb") as file:
        return Inventory.parse_sphinx(file)


def _python_handler(config: dict[str, Any]) -> dict[str, Any]:
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            handler: dict[str, Any] = plugin["mkdocstrings"]["handlers"]["python"]
            return handler
    raise AssertionError("mkdocs.yml has no mkdocstrings plugin")


def _config() -> dict[str, Any]:
    """mkdocs.yml, with the paths in it (relative to its folder) made absolute."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    config["watch"] = [str(ROOT / path) for path in config.get("watch", [])]
    handler = _python_handler(config)
    handler["paths"] = [str(ROOT / path) for path in handler["paths"]]
    handler["options"]["extensions"] = [
        str(ROOT / name) if ".py" in name else name for name in handler["options"]["extensions"]
    ]
    return config


@pytest.fixture(scope="module")
def package() -> griffe.GriffeLoader:
    """The package as the site's handler sees it: the same griffe extensions, aliases resolved."""
    options = _python_handler(_config())["options"]
    loader = griffe.GriffeLoader(
        extensions=griffe.load_extensions(*options.get("extensions", [])),
        docstring_parser=griffe.Parser(options.get("docstring_style", "google")),
        search_paths=[str(ROOT)],
    )
    loader.load("backstage_runtime")
    loader.resolve_aliases(implicit=False, external=False)
    return loader


def _public_names(module: str) -> list[str]:
    names: list[str] = importlib.import_module(module).__all__
    return names


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_is_an_object_of_the_reference(
    module: str, site: Path, inventory: Inventory
) -> None:
    missing = []
    for name in _public_names(module):
        item = inventory.get(f"{module}.{name}")
        if item is None:
            missing.append(name)
            continue
        # The inventory names the page (a directory URL) and the anchor, which is on that page.
        page, _, anchor = item.uri.partition("#")
        html = site / page / "index.html"
        assert f'id="{anchor}"' in html.read_text(encoding="utf-8"), (name, item.uri)
    assert missing == []


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module: str, package: griffe.GriffeLoader) -> None:
    namespace = package.modules_collection[module]
    undocumented = []
    for name in _public_names(module):
        target = namespace[name]
        if target.is_alias:
            target = target.final_target
        if target.docstring is None or not target.docstring.value.strip():
            undocumented.append(f"{name} ({target.path})")
    assert undocumented == []


def test_a_reference_to_a_missing_name_fails_the_build(tmp_path: Path) -> None:
    config = _config()
    config.pop("nav", None)
    config.pop("hooks", None)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("::: backstage_runtime.no_such_name\n", encoding="utf-8")
    config["docs_dir"] = str(docs)
    broken = tmp_path / "mkdocs.yml"
    broken.write_text(yaml.safe_dump(config), encoding="utf-8")

    completed = _build(broken, tmp_path / "site")

    assert completed.returncode != 0
    assert "backstage_runtime.no_such_name" in completed.stderr


def _readme_section_titles() -> list[str]:
    titles = []
    in_fence = False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and line.startswith("## "):
            titles.append(line[3:].strip().replace("`", ""))
    return titles


def test_every_readme_section_is_a_guide_page(site: Path) -> None:
    page_titles = []
    for page in (site / "guide").glob("*/index.html"):
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.DOTALL)
        assert heading is not None, page
        page_titles.append(html.unescape(re.sub(r"<[^>]+>", "", heading[1])).strip())

    assert sorted(page_titles) == sorted(_readme_section_titles())


def test_the_lazily_loaded_names_are_documented_with_their_members(inventory: Inventory) -> None:
    # backstage_runtime loads these on first use (PEP 562 __getattr__); griffe finds them through
    # the package's TYPE_CHECKING imports.
    for name in ("Backend", "StartupResult", "create_backend", "create_specialized_backend"):
        assert f"backstage_runtime.{name}" in inventory
    assert "backstage_runtime.Backend.start" in inventory


def test_sphinx_roles_in_docstrings_are_not_shown_as_text(site: Path) -> None:
    leftovers = {}
    for page in (site / "api").glob("*/index.html"):
        found = re.findall(r":(?:func|class|meth|mod|data|attr|exc|obj):", page.read_text("utf-8"))
        if found:
            leftovers[page.parent.name] = len(found)
    assert leftovers == {}
