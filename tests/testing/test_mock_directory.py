"""create_mock_directory / the mock_directory fixture (Backstage's createMockDirectory)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from backstage_runtime.testing import (
    MockDirectory,
    MockDirectoryContentCallbackContext,
    create_mock_directory,
)

SEEN: list[Path] = []


def test_set_content_writes_nested_folders_text_binary_and_symlinks(
    mock_directory: MockDirectory,
) -> None:
    mock_directory.set_content(
        {
            "test.txt": "content",
            "sub-dir": {"file.txt": "ü content", "nested-dir/file.txt": "deep"},
            "empty-dir": {},
            "binary-file": bytes([0, 1, 2]),
            "link.txt": lambda ctx: ctx.symlink("test.txt"),
        }
    )

    assert (mock_directory.path / "sub-dir" / "nested-dir" / "file.txt").read_text() == "deep"
    assert os.readlink(mock_directory.resolve("link.txt")) == "test.txt"
    assert mock_directory.content() == {
        "binary-file": bytes([0, 1, 2]),
        "empty-dir": {},
        "link.txt": "content",
        "sub-dir": {"file.txt": "ü content", "nested-dir": {"file.txt": "deep"}},
        "test.txt": "content",
    }


def test_set_content_replaces_and_add_content_merges(mock_directory: MockDirectory) -> None:
    mock_directory.set_content({"a.txt": "a", "dir": {"b.txt": "b"}})
    mock_directory.add_content({"a.txt": "A", "dir/c.txt": "c"})
    assert mock_directory.content() == {"a.txt": "A", "dir": {"b.txt": "b", "c.txt": "c"}}

    mock_directory.set_content({"only.txt": "x"})
    assert mock_directory.content() == {"only.txt": "x"}

    mock_directory.clear()
    assert mock_directory.content() == {}
    assert mock_directory.path.is_dir()


def test_content_of_a_sub_folder_and_text_choice(mock_directory: MockDirectory) -> None:
    mock_directory.set_content({"dir": {"x.json": "{}", "inner": {"y.bin": "raw"}}})
    seen: list[str] = []

    def as_text(path: str, data: bytes) -> bool:
        seen.append(path)
        return path.endswith(".json")

    assert mock_directory.content(path="dir", should_read_as_text=as_text) == {
        "inner": {"y.bin": b"raw"},
        "x.json": "{}",
    }
    assert sorted(seen) == ["inner/y.bin", "x.json"]
    assert mock_directory.content(path="dir/inner", should_read_as_text=False) == {"y.bin": b"raw"}
    assert mock_directory.content(path="missing") is None


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/escape.txt", "a/../../escape.txt"])
def test_content_outside_the_directory_is_refused_before_writing(
    mock_directory: MockDirectory, name: str
) -> None:
    with pytest.raises(ValueError, match="must resolve to a child path of the mock directory"):
        mock_directory.set_content({"first.txt": "1", name: "x"})
    assert mock_directory.content() is None  # set_content removed it; nothing was written
    assert not (mock_directory.path.parent / "escape.txt").exists()
    with pytest.raises(ValueError, match="child path"):
        mock_directory.content(path="..")


def test_invalid_content_names_the_culprit(mock_directory: MockDirectory) -> None:
    with pytest.raises(TypeError, match=re.escape("at 'dir/n': expected a dict, str, bytes")):
        mock_directory.add_content({"dir": {"n": 3}})  # type: ignore[dict-item]


def test_callbacks_get_their_absolute_location(mock_directory: MockDirectory) -> None:
    contexts: list[MockDirectoryContentCallbackContext] = []
    mock_directory.add_content({"deep/spot": contexts.append})
    assert contexts == [MockDirectoryContentCallbackContext(mock_directory.resolve("deep/spot"))]
    assert mock_directory.resolve("deep").is_dir()


def test_the_fixture_removes_its_directory(mock_directory: MockDirectory) -> None:
    mock_directory.set_content({"a": "b"})
    SEEN.append(mock_directory.path)


def test_the_previous_fixture_directory_is_gone() -> None:
    if not SEEN:
        pytest.skip("needs test_the_fixture_removes_its_directory to run first")
    assert not SEEN[0].exists()


def test_with_and_initial_content() -> None:
    with create_mock_directory(content={"x.txt": "1"}) as directory:
        assert directory.content() == {"x.txt": "1"}
        assert directory.path.name.startswith("backstage-tmp-test-dir-")
    assert not directory.path.exists()
    directory.remove()  # twice is fine


def test_a_forgotten_directory_is_removed_at_interpreter_exit() -> None:
    code = (
        "from backstage_runtime.testing import create_mock_directory\n"
        "d = create_mock_directory(content={'f': 'x'})\n"
        "print(d.path)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert not Path(completed.stdout.strip()).exists()


def test_mock_tmpdir_points_tempfile_at_the_directory_until_removed() -> None:
    before = tempfile.gettempdir()
    with create_mock_directory(mock_tmpdir=True) as directory:
        assert tempfile.gettempdir() == str(directory.path)
        with tempfile.NamedTemporaryFile(delete=False) as handle:
            assert Path(handle.name).parent == directory.path
        with pytest.raises(RuntimeError, match="already mocked"):
            create_mock_directory(mock_tmpdir=True)
        assert [p.name for p in directory.path.iterdir()] == [Path(handle.name).name]
    assert tempfile.gettempdir() == before
