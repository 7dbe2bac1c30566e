"""The package's layers and the shape of every defaults/<service> folder.

The import contracts themselves are in pyproject.toml ([tool.importlinter]); these tests check
that they hold, that they do catch a forbidden import, and what import-linter cannot express:
an ``__init__.py`` that only re-exports and factory builders typed with their service.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import shutil
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import backstage_runtime
from backstage_runtime import _version
from backstage_runtime.api import ServiceFactory

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = ROOT / "backstage_runtime" / "defaults"
SERVICE_FOLDERS = sorted(p for p in DEFAULTS.iterdir() if (p / "__init__.py").is_file())
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(project: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy of the package in `project` is analysed, not the installed one.
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", str(project / "pyproject.toml")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_the_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        # One service folder reaching into another's internals.
        ("defaults/identity/_identity.py", "from ..auth import _factory", "independent"),
        # A default service depending on the container.
        ("defaults/discovery/_host_discovery.py", "from ...runtime import Backend", "Layers"),
        # A toolkit reaching up into a service.
        ("jose/_unverified.py", "from ..defaults import auth", "Layers"),
        # The plugin-facing permission helpers reaching up into the default services.
        ("permissions/_types.py", "from ..defaults import permissions_registry", "Layers"),
        # The container depending on the HTTP server stack.
        ("runtime/__init__.py", "import quart", "api and runtime"),
        # Anything importing the package root (and so, through it, every layer).
        ("http_toolkit/__init__.py", "from .. import __version__", "package root"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, forbidden_import: str, contract: str
) -> None:
    shutil.copytree(
        ROOT / "backstage_runtime",
        tmp_path / "backstage_runtime",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "backstage_runtime" / module
    target.write_text(target.read_text() + f"\n{forbidden_import}  # noqa\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout


def _is_lazy_block(node: ast.stmt) -> bool:
    """``if TYPE_CHECKING: <imports> else: __getattr__, __dir__ = lazy_exports(...)``."""
    if not (isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"):
        return False
    if len(node.orelse) != 1:
        return False
    assign = node.orelse[0]
    return (
        all(isinstance(child, ast.ImportFrom) for child in node.body)
        and isinstance(assign, ast.Assign)
        and ast.unparse(assign.targets[0]) == "(__getattr__, __dir__)"
        and isinstance(assign.value, ast.Call)
        and ast.unparse(assign.value.func) == "lazy_exports"
    )


def _init_body(folder: Path) -> list[ast.stmt]:
    tree = ast.parse((folder / "__init__.py").read_text())
    body = list(tree.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


@pytest.mark.parametrize("folder", SERVICE_FOLDERS, ids=lambda p: p.name)
def test_a_service_folder_init_only_re_exports(folder: Path) -> None:
    body = _init_body(folder)
    others = [
        type(node).__name__
        for node in body
        if not isinstance(node, ast.ImportFrom)
        and not _is_lazy_block(node)
        and not (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["__all__"]
        )
    ]
    assert others == [], f"{folder.name}/__init__.py has more than re-exports: {others}"
    assert any(isinstance(node, ast.Assign) for node in body), f"{folder.name} has no __all__"


def _lazy_block(folder: Path) -> ast.If | None:
    blocks = [node for node in _init_body(folder) if _is_lazy_block(node)]
    assert len(blocks) <= 1, f"{folder.name}/__init__.py has {len(blocks)} lazy blocks"
    return typing.cast(ast.If, blocks[0]) if blocks else None


LAZY_FOLDERS = [folder for folder in SERVICE_FOLDERS if _lazy_block(folder)]


def test_the_service_folders_with_heavy_implementations_are_lazy() -> None:
    assert {p.name for p in LAZY_FOLDERS} >= {
        "auth",
        "cache",
        "database",
        "events",
        "scheduler",
        "url_reader",
    }


@pytest.mark.parametrize("folder", LAZY_FOLDERS, ids=lambda p: p.name)
def test_a_lazy_service_folder_loads_each_name_from_where_type_checkers_see_it(
    folder: Path,
) -> None:
    # The names under TYPE_CHECKING (what mypy sees) and the lazy_exports table (what runs)
    # are written twice; they must agree, and every name must resolve.
    block = _lazy_block(folder)
    assert block is not None
    seen = {
        alias.asname or alias.name: "." * child.level + (child.module or "")
        for child in block.body
        if isinstance(child, ast.ImportFrom)
        for alias in child.names
    }
    table = ast.literal_eval(block.orelse[0].value.args[1])  # type: ignore[attr-defined]
    assert table == seen
    package = importlib.import_module(f"backstage_runtime.defaults.{folder.name}")
    assert set(table) <= set(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None, name
    assert set(package.__all__) <= set(dir(package))
    with pytest.raises(AttributeError, match=f"backstage_runtime.defaults.{folder.name}' has no"):
        _ = package.no_such_name


def _type_checking_names(module: types.ModuleType) -> dict[str, typing.Any]:
    """What ``module`` imports under ``if TYPE_CHECKING:`` (a factory module imports its
    implementation there and loads it inside the factory function), imported now.
    """
    namespace: dict[str, typing.Any] = {}
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            code = compile(
                ast.Module(body=node.body, type_ignores=[]), str(module.__file__), "exec"
            )
            exec(code, {"__name__": module.__name__, "__package__": module.__package__}, namespace)
    return namespace


def _factory_builders() -> list[tuple[str, typing.Any]]:
    builders = []
    for folder in SERVICE_FOLDERS:
        package = importlib.import_module(f"backstage_runtime.defaults.{folder.name}")
        for name in package.__all__:
            if name.endswith("_service_factory"):
                builders.append((f"{folder.name}.{name}", getattr(package, name)))
    return builders


@pytest.mark.parametrize(("name", "builder"), _factory_builders(), ids=lambda v: str(v))
def test_a_factory_builder_names_the_service_it_provides(name: str, builder: typing.Any) -> None:
    # The code's module, not __module__: a builder exported from backstage_runtime is published
    # there (its __module__ says backstage_runtime once the lazy name was first loaded).
    module = sys.modules[builder.__globals__["__name__"]]
    assert module.__name__.endswith("._factory"), f"{name} is defined in {module.__name__}"
    returned = typing.get_type_hints(builder, localns=_type_checking_names(module))["return"]

    assert typing.get_origin(returned) is ServiceFactory, f"{name} returns {returned}"
    (service_type,) = typing.get_args(returned)
    assert service_type is not typing.Any, f"{name} returns ServiceFactory[Any]"


def test_every_service_folder_has_a_factory_builder() -> None:
    folders = {name.split(".")[0] for name, _ in _factory_builders()}

    assert folders == {p.name for p in SERVICE_FOLDERS}


def test_the_version_has_one_source() -> None:
    assert backstage_runtime.__version__ == _version.__version__
