"""``backstage-runtime new plugin|module``: the generated distributions install and pass their tests."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from _support.http import request

from backstage_runtime.cli import main
from backstage_runtime.testing import TestDatabaseId, TestDatabases, start_test_backend

CLI = Path(sys.executable).with_name("backstage-runtime")
RUFF = Path(sys.executable).with_name("ruff")


def _fresh_venv(where: Path) -> Path:
    """A new virtual environment that sees this one's packages through a ``.pth`` file, so the
    generated distribution is installed into it (and only it) without the network.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120
    )
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # addsitedir (not a bare path line) so that this venv's own .pth files, the editable
    # install of backstage-runtime among them, are processed too.
    ours = sysconfig.get_path("purelib")
    Path(purelib, "_parent_venv.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.scaffold
def test_new_plugin_and_module_install_and_pass_their_tests(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    for command in (["new", "plugin", "demo"], ["new", "module", "demo", "github"]):
        created = _run([str(CLI), *command], tmp_path)
        assert created.returncode == 0, created.stderr
    module_dir = "demo-backend-module-github"

    install = _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-build-isolation",
            "./demo",
            f"./{module_dir}",
        ],
        tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    # The installed copies are tested (pytest's rootdir is the distribution, its package is
    # imported from site-packages): the wheel must carry the migrations too.
    for folder in ("demo", module_dir):
        tested = _run(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", folder], tmp_path
        )
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert " passed" in tested.stdout
    where = _run(
        [str(python), "-c", "import backstage_plugin_demo_backend as p; print(p.__file__)"],
        tmp_path,
    )
    assert "site-packages" in where.stdout
    # Installed means found: the plugin's entry point is what `serve` loads.
    plugins = _run(
        [
            str(python),
            "-c",
            "import sys; from backstage_runtime.cli import main; sys.exit(main(['plugins']))",
        ],
        tmp_path,
    )
    assert plugins.returncode == 0, plugins.stderr
    assert "backstage-plugin-demo-backend" in plugins.stdout


def test_the_generated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "plugin", "my-plugin", "--dir", str(tmp_path / "out")]) == 0
    files = sorted(
        str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*") if p.is_file()
    )
    assert files == [
        "README.md",
        "backstage_plugin_my_plugin_backend/__init__.py",
        "backstage_plugin_my_plugin_backend/_plugin.py",
        "backstage_plugin_my_plugin_backend/migrations/versions/0001_create_items.py",
        "backstage_plugin_my_plugin_backend/py.typed",
        "pyproject.toml",
        "tests/test_plugin.py",
    ]
    pyproject = (tmp_path / "out" / "pyproject.toml").read_text()
    assert 'name = "backstage-plugin-my-plugin-backend"' in pyproject
    assert 'my-plugin = "backstage_plugin_my_plugin_backend:my_plugin_plugin"' in pyproject
    assert "__" not in pyproject.replace("__init__", "")  # every placeholder was filled
    assert "Created backstage-plugin-my-plugin-backend" in capsys.readouterr().out


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is not installed")
@pytest.mark.parametrize("command", [["plugin", "catalog-extra"], ["module", "catalog", "git-lab"]])
def test_the_generated_code_is_lint_clean(tmp_path: Path, command: list[str]) -> None:
    assert main(["new", *command, "--dir", str(tmp_path / "out")]) == 0
    for args in (["check", "."], ["format", "--check", "."]):
        result = _run([str(RUFF), *args], tmp_path / "out")
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("command", "kind", "bad"),
    [
        (["plugin", "Demo"], "plugin", "Demo"),
        (["plugin", "my_plugin"], "plugin", "my_plugin"),
        (["plugin", "--", "-demo"], "plugin", "-demo"),
        (["plugin", "demo-"], "plugin", "demo-"),
        (["plugin", "1demo"], "plugin", "1demo"),
        (["plugin", "de--mo"], "plugin", "de--mo"),
        (["plugin", "../evil"], "plugin", "../evil"),
        (["module", "catalog", "Git"], "module", "Git"),
        (["module", "bad id", "git"], "plugin", "bad id"),
    ],
)
def test_invalid_ids_are_refused_naming_the_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], kind: str, bad: str
) -> None:
    kind_word, *ids = command
    assert main(["new", kind_word, "--dir", str(tmp_path / "out"), *ids]) == 1
    error = capsys.readouterr().err
    assert f"Invalid {kind} ID '{bad}'" in error
    assert "lowercase and contain only letters, digits, and dashes" in error
    assert not (tmp_path / "out").exists()


def test_a_non_empty_directory_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "demo"
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    assert main(["new", "plugin", "demo", "--dir", str(target)]) == 1
    assert "it exists and is not an empty directory" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["mine.txt"]

    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["new", "module", "demo", "extra", "--dir", str(a_file)]) == 1
    assert a_file.read_text() == "x"

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["new", "plugin", "demo", "--dir", str(empty)]) == 0
    assert (empty / "pyproject.toml").is_file()


def test_the_default_directory_is_named_after_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "plugin", "demo"]) == 0
    assert main(["new", "module", "demo", "github"]) == 0
    assert (tmp_path / "demo" / "backstage_plugin_demo_backend" / "_plugin.py").is_file()
    module = tmp_path / "demo-backend-module-github"
    assert (module / "backstage_plugin_demo_backend_module_github" / "_module.py").is_file()


@pytest.mark.anyio
@pytest.mark.parametrize("database_id", ["SQLITE_3", "POSTGRES", "MYSQL_8"])
async def test_the_generated_plugin_migrates_and_serves_on_every_database(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    test_databases: TestDatabases,
    database_id: TestDatabaseId,
) -> None:
    assert main(["new", "plugin", "scaffold-db", "--dir", str(tmp_path / "out")]) == 0
    monkeypatch.syspath_prepend(str(tmp_path / "out"))
    package = "backstage_plugin_scaffold_db_backend"
    monkeypatch.delitem(sys.modules, package, raising=False)
    plugin = importlib.import_module(package).scaffold_db_plugin
    try:
        config = {"backend": {"database": await test_databases.backend_config(database_id)}}
        async with start_test_backend(features=[plugin], config=config) as test:
            reply = await request("GET", await test.url("/api/scaffold-db/items"))
    finally:
        for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
            del sys.modules[name]
    assert reply.status == 200
    assert reply.json() == {"items": [{"id": 1, "title": "Hello from scaffold-db"}]}
