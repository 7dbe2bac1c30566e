"""Tree responses over tar streams: extraction, filters, and hostile archives refused."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from backstage_runtime.api.services.url_reader import (
    ArchiveLimitError,
    ReadTreeResponse,
    TreeEntryInfo,
    TreeFilter,
    UnsafeArchiveError,
    UrlReaderError,
)
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, TreeLimits

from ._archives import Entry, children, chunks, repo_tar, tar_bytes

pytestmark = pytest.mark.anyio

FILES = {
    "README.md": b"# hello",
    "catalog-info.yaml": b"kind: Component",
    "docs/index.md": b"docs home",
    "docs/guide/setup.md": b"setup",
    "scripts/run.sh": b"#!/bin/sh\necho hi\n",
}


def tree(
    trees: DefaultReadTreeResponseFactory,
    data: bytes,
    *,
    subpath: str = "",
    filter: TreeFilter | None = None,
) -> ReadTreeResponse:
    return trees.from_tar_archive(
        stream=chunks(data), etag="sha1", source="test://archive", subpath=subpath, filter=filter
    )


def listing(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


async def test_dir_strips_the_top_folder_and_keeps_contents(
    trees: DefaultReadTreeResponseFactory, workdir: Path
) -> None:
    response = tree(trees, repo_tar(FILES))
    directory = await response.dir()
    try:
        assert directory.parent == workdir
        assert directory.name.startswith("backstage-")
        assert listing(directory) == FILES
    finally:
        import shutil

        shutil.rmtree(directory)


async def test_dir_into_a_target_with_filter_and_subpath(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    data = repo_tar(FILES)
    seen: list[tuple[str, int]] = []

    def only_markdown(path: str, info: TreeEntryInfo) -> bool:
        seen.append((path, info.size))
        return path.endswith(".md")

    target = tmp_path / "out"
    response = tree(trees, data, subpath="docs", filter=only_markdown)
    assert await response.dir(target_dir=target) == target
    assert listing(target) == {"index.md": b"docs home", "guide/setup.md": b"setup"}
    assert ("index.md", len(b"docs home")) in seen
    assert all(not path.startswith("docs/") for path, _ in seen)


async def test_executable_bit_and_inner_symlinks_survive(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    data = tar_bytes(
        [
            Entry("top/", kind="dir"),
            Entry("top/run.sh", b"#!/bin/sh\n", mode=0o755),
            Entry("top/docs/", kind="dir"),
            Entry("top/docs/README.md", kind="symlink", link="../run.sh"),
            Entry("top/docs/copy.sh", kind="hardlink", link="top/run.sh"),
        ]
    )
    target = tmp_path / "out"
    await tree(trees, data).dir(target_dir=target)
    assert os.access(target / "run.sh", os.X_OK)
    assert os.readlink(target / "docs" / "README.md") == "../run.sh"
    assert (target / "docs" / "README.md").read_bytes() == b"#!/bin/sh\n"
    assert (target / "docs" / "copy.sh").read_bytes() == b"#!/bin/sh\n"
    assert not (target / "docs" / "copy.sh").is_symlink()


async def test_files_returns_contents_filtered(trees: DefaultReadTreeResponseFactory) -> None:
    response = tree(trees, repo_tar(FILES), filter=lambda path, info: path.endswith(".yaml"))
    files = await response.files()
    assert [(f.path, await f.content()) for f in files] == [
        ("catalog-info.yaml", b"kind: Component")
    ]
    assert files[0].last_modified_at is not None


async def test_archive_repacks_relative_paths(trees: DefaultReadTreeResponseFactory) -> None:
    response = tree(trees, repo_tar(FILES), subpath="docs")
    data = b"".join([chunk async for chunk in response.archive()])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        contents = {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }
    assert contents == {"index.md": b"docs home", "guide/setup.md": b"setup"}


async def test_plain_uncompressed_tar_is_read_too(trees: DefaultReadTreeResponseFactory) -> None:
    files = await tree(trees, repo_tar(FILES, gzip=False)).files()
    assert {f.path for f in files} == set(FILES)


async def test_a_response_is_read_once(trees: DefaultReadTreeResponseFactory) -> None:
    response = tree(trees, repo_tar(FILES))
    await response.files()
    with pytest.raises(RuntimeError, match="already been read"):
        await response.files()


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([Entry("top/", kind="dir"), Entry("top/../../evil.txt", b"x")], "would escape"),
        ([Entry("/tmp/evil.txt", b"x")], "absolute path"),
        ([Entry("top/link", kind="symlink", link="/etc/passwd")], "symbolic link to an absolute"),
        ([Entry("top/link", kind="symlink", link="../../outside")], "pointing outside"),
        (
            [Entry("top/link", kind="symlink", link="sub"), Entry("top/link/file", b"x")],
            "refusing to write through it",
        ),
        ([Entry("top/hard", kind="hardlink", link="/etc/passwd")], "absolute path"),
    ],
)
async def test_hostile_archives_are_refused_and_write_nothing_outside(
    trees: DefaultReadTreeResponseFactory,
    workdir: Path,
    tmp_path: Path,
    entries: list[Entry],
    message: str,
) -> None:
    good = [Entry("top/ok.txt", b"fine")]
    with pytest.raises(UnsafeArchiveError, match=message):
        await tree(trees, tar_bytes(good + entries)).dir()
    # The temporary directory created for this read was removed again, and nothing escaped.
    assert children(workdir) == []
    assert children(tmp_path) == ["work"]


async def test_link_escaping_only_through_another_link_is_caught(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    # s/l -> e/../../secret reads as s/secret... until s/e becomes a link to the root folder:
    # then s/l resolves to ../secret. Each link is harmless lexically; together they escape.
    (tmp_path / "secret").write_text("do not read")
    data = tar_bytes(
        [
            Entry("top/s/", kind="dir"),
            Entry("top/s/l", kind="symlink", link="e/../../secret"),
            Entry("top/s/e", kind="symlink", link=".."),
        ]
    )
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match="resolves outside the target directory"):
        await tree(trees, data).dir(target_dir=target)
    assert not (target / "s" / "l").is_symlink()


async def test_too_many_entries(workdir: Path) -> None:
    trees = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_entries=3)
    )
    data = repo_tar({f"f{i}.txt": b"x" for i in range(5)})
    with pytest.raises(ArchiveLimitError, match="more than 3 entries"):
        await tree(trees, data).dir()
    assert children(workdir) == []


async def test_oversized_entry_is_refused_before_it_is_written(
    workdir: Path, tmp_path: Path
) -> None:
    trees = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_bytes=1024 * 1024)
    )
    # 64 MiB of zeros compress to ~64 KiB: a small download that would fill the disk.
    bomb = tar_bytes([Entry("top/", kind="dir"), Entry("top/zeros.bin", size=64 * 1024 * 1024)])
    assert len(bomb) < 200_000
    target = tmp_path / "out"
    with pytest.raises(ArchiveLimitError, match="more than 1048576 bytes"):
        await tree(trees, bomb).dir(target_dir=target)
    assert not (target / "zeros.bin").exists()


async def test_stream_limit_catches_huge_headers(workdir: Path) -> None:
    # A pax header is read whole into memory by tarfile: the decompressed stream is bounded too.
    trees = DefaultReadTreeResponseFactory(
        working_directory=workdir, limits=TreeLimits(max_entries=1, max_bytes=1024)
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("top/file")
        info.pax_headers = {"comment": "x" * (8 * 1024 * 1024)}
        archive.addfile(info, io.BytesIO(b""))
    with pytest.raises(ArchiveLimitError, match="unpacks to more than"):
        await tree(trees, buffer.getvalue()).files()


async def test_truncated_archive_is_an_error(trees: DefaultReadTreeResponseFactory) -> None:
    data = repo_tar({"big.bin": os.urandom(200_000)})
    with pytest.raises(UrlReaderError, match="test://archive"):
        await tree(trees, data[: len(data) // 2]).files()


async def test_source_errors_surface_as_they_are(trees: DefaultReadTreeResponseFactory) -> None:
    data = repo_tar({"big.bin": os.urandom(100_000)})

    async def failing() -> AsyncIterator[bytes]:
        yield data[:1000]
        raise UrlReaderError("connection reset while reading test://archive")

    response = trees.from_tar_archive(stream=failing(), etag="e", source="test://archive")
    with pytest.raises(UrlReaderError, match="connection reset"):
        await response.files()


async def test_cancelled_extraction_cleans_up_and_closes_the_source(
    trees: DefaultReadTreeResponseFactory, workdir: Path
) -> None:
    first_chunk_taken = anyio.Event()
    closed = anyio.Event()

    data = repo_tar({"big.bin": os.urandom(100_000)})

    async def stalling() -> AsyncIterator[bytes]:
        try:
            yield data[:4096]
            first_chunk_taken.set()
            await anyio.Event().wait()  # the network stalls
            yield b""
        finally:
            closed.set()

    response = trees.from_tar_archive(stream=stalling(), etag="e", source="test://archive")
    async with anyio.create_task_group() as group:
        group.start_soon(response.dir)
        await first_chunk_taken.wait()
        group.cancel_scope.cancel()
    assert closed.is_set()
    assert children(workdir) == []


class UnreadStream:
    """A source that records being closed; an unstarted generator could not show it."""

    def __init__(self) -> None:
        self.closed = False

    def __aiter__(self) -> UnreadStream:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        self.closed = True


async def test_a_dir_into_an_unusable_target_still_closes_the_source(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"mine")
    stream = UnreadStream()
    response = trees.from_tar_archive(stream=stream, etag="e")
    with pytest.raises(NotADirectoryError):
        await response.dir(target_dir=blocker / "out")
    assert stream.closed
    assert blocker.read_bytes() == b"mine"


async def test_a_failed_dir_removes_a_target_it_created_but_not_an_existing_one(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    hostile = tar_bytes([Entry("top/", kind="dir"), Entry("top/../../evil.txt", b"x")])
    with pytest.raises(UnsafeArchiveError):
        await tree(trees, hostile).dir(target_dir=tmp_path / "new" / "out")
    # The missing parent was created by the same call, so it goes too.
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_bytes(b"mine")
    with pytest.raises(UnsafeArchiveError):
        await tree(trees, hostile).dir(target_dir=existing)
    assert (existing / "keep.txt").read_bytes() == b"mine"
    assert not (tmp_path / "evil.txt").exists()


async def test_files_tree_from_memory(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    response = trees.from_files(
        [("a.txt", b"a"), ("sub/b.md", b"b")], etag="e", filter=lambda p, i: p != "a.txt"
    )
    target = await response.dir(target_dir=tmp_path / "out")
    assert listing(target) == {"sub/b.md": b"b"}
    with pytest.raises(UnsafeArchiveError):
        trees.from_files([("../x", b"x")], etag="e")


async def test_gzip_recognised_even_when_split_inside_its_magic_bytes(
    trees: DefaultReadTreeResponseFactory,
) -> None:
    data = repo_tar(FILES)
    response = trees.from_tar_archive(stream=chunks(data, size=1), etag="e")
    assert {f.path for f in await response.files()} == set(FILES)
