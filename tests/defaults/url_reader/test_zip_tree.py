"""Tree responses over zip streams: extraction, filters, and hostile archives refused."""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
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

from ._archives import children, chunks

pytestmark = pytest.mark.anyio

FILES = {
    "README.md": b"# hello",
    "catalog-info.yaml": b"kind: Component",
    "docs/index.md": b"docs home",
    "docs/guide/setup.md": b"setup",
    "scripts/run.sh": b"#!/bin/sh\necho hi\n",
}


@dataclass(frozen=True)
class ZipEntry:
    """One zip entry written as is; ``kind`` is file, dir or symlink (content = target)."""

    name: str
    content: bytes = b""
    kind: str = "file"
    mode: int = 0o644
    compression: int = zipfile.ZIP_DEFLATED


def zip_bytes(entries: list[ZipEntry]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=(2023, 11, 15, 10, 0, 0))
            info.create_system = 3
            info.compress_type = entry.compression
            kind = {"file": stat.S_IFREG, "dir": stat.S_IFDIR, "symlink": stat.S_IFLNK}
            info.external_attr = (kind[entry.kind] | entry.mode) << 16
            if entry.kind == "dir":
                info.external_attr |= 0x10  # MS-DOS directory flag
            archive.writestr(info, entry.content)
    return buffer.getvalue()


def repo_zip(files: dict[str, bytes], *, top: str = "") -> bytes:
    prefix = f"{top}/" if top else ""
    entries = [ZipEntry(prefix, kind="dir", mode=0o755)] if top else []
    seen: set[str] = set()
    for path, content in sorted(files.items()):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder not in seen:
                seen.add(folder)
                entries.append(ZipEntry(f"{prefix}{folder}/", kind="dir", mode=0o755))
        entries.append(ZipEntry(f"{prefix}{path}", content))
    return zip_bytes(entries)


def lie_about_size(data: bytes, size: int) -> bytes:
    """Make the (single) entry's local and central headers declare ``size`` bytes."""
    patched = bytearray(data)
    local = patched.index(b"PK\x03\x04")
    struct.pack_into("<L", patched, local + 22, size)
    central = patched.index(b"PK\x01\x02")
    struct.pack_into("<L", patched, central + 24, size)
    return bytes(patched)


def tree(
    trees: DefaultReadTreeResponseFactory,
    data: bytes,
    *,
    subpath: str = "",
    filter: TreeFilter | None = None,
    strip_first_directory: bool = False,
) -> ReadTreeResponse:
    return trees.from_zip_archive(
        stream=chunks(data),
        etag="sha1",
        source="test://archive.zip",
        subpath=subpath,
        filter=filter,
        strip_first_directory=strip_first_directory,
    )


def listing(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


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


def limited(workdir: Path, **limits: int) -> DefaultReadTreeResponseFactory:
    return DefaultReadTreeResponseFactory(working_directory=workdir, limits=TreeLimits(**limits))


# -- well-formed archives ---------------------------------------------------------------------


async def test_files_of_a_plain_zip(trees: DefaultReadTreeResponseFactory, workdir: Path) -> None:
    response = tree(trees, repo_zip(FILES))
    assert response.etag == "sha1"
    files = await response.files()
    assert {f.path: await f.content() for f in files} == FILES
    assert files[0].last_modified_at is not None
    assert files[0].last_modified_at.year == 2023
    # The spool is gone once the read is over.
    assert children(workdir) == []


async def test_dir_into_a_new_directory(
    trees: DefaultReadTreeResponseFactory, workdir: Path
) -> None:
    directory = await tree(trees, repo_zip(FILES)).dir()
    assert directory.parent == workdir
    assert directory.name.startswith("backstage-")
    assert listing(directory) == FILES
    assert children(workdir) == [directory.name]


async def test_dir_with_filter_subpath_and_top_folder(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    seen: list[tuple[str, int]] = []

    def only_markdown(path: str, info: TreeEntryInfo) -> bool:
        seen.append((path, info.size))
        return path.endswith(".md")

    target = tmp_path / "out"
    response = tree(
        trees,
        repo_zip(FILES, top="repo-abc"),
        subpath="docs",
        filter=only_markdown,
        strip_first_directory=True,
    )
    assert await response.dir(target_dir=target) == target
    assert listing(target) == {"index.md": b"docs home", "guide/setup.md": b"setup"}
    assert ("index.md", len(b"docs home")) in seen
    assert all(not path.startswith("docs/") for path, _ in seen)


async def test_files_with_filter(trees: DefaultReadTreeResponseFactory) -> None:
    response = tree(trees, repo_zip(FILES), filter=lambda path, _: path.endswith(".yaml"))
    assert [(f.path, await f.content()) for f in await response.files()] == [
        ("catalog-info.yaml", b"kind: Component")
    ]


async def test_archive_is_a_tar_of_the_kept_entries(
    trees: DefaultReadTreeResponseFactory,
) -> None:
    response = tree(trees, repo_zip(FILES), subpath="docs")
    data = b"".join([chunk async for chunk in response.archive()])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        contents = {
            m.name: archive.extractfile(m).read()  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile()
        }
    assert contents == {"index.md": b"docs home", "guide/setup.md": b"setup"}


async def test_executable_bit_inner_symlink_and_stored_entries(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    data = zip_bytes(
        [
            ZipEntry("run.sh", b"#!/bin/sh\n", mode=0o755, compression=zipfile.ZIP_STORED),
            ZipEntry("docs/", kind="dir", mode=0o755),
            ZipEntry("docs/README.md", b"../run.sh", kind="symlink", mode=0o777),
        ]
    )
    target = tmp_path / "out"
    await tree(trees, data).dir(target_dir=target)
    assert os.access(target / "run.sh", os.X_OK)
    assert os.readlink(target / "docs" / "README.md") == "../run.sh"
    assert (target / "docs" / "README.md").read_bytes() == b"#!/bin/sh\n"
    # files() leaves links out, as for tar archives.
    assert [f.path for f in await tree(trees, data).files()] == ["run.sh"]


async def test_backslashes_are_folder_separators(trees: DefaultReadTreeResponseFactory) -> None:
    data = zip_bytes([ZipEntry("docs\\index.md", b"from windows")])
    assert [(f.path, await f.content()) for f in await tree(trees, data).files()] == [
        ("docs/index.md", b"from windows")
    ]


async def test_a_response_is_read_once(trees: DefaultReadTreeResponseFactory) -> None:
    response = tree(trees, repo_zip(FILES))
    await response.files()
    with pytest.raises(RuntimeError, match="already been read"):
        await response.files()


# -- hostile or broken archives ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([ZipEntry("../../evil.txt", b"x")], "would escape"),
        ([ZipEntry("docs/../../evil.txt", b"x")], "would escape"),
        ([ZipEntry("..\\..\\evil.txt", b"x")], "would escape"),
        ([ZipEntry("/tmp/evil.txt", b"x")], "absolute path"),
        ([ZipEntry("C:\\evil.txt", b"x")], "absolute path"),
        ([ZipEntry("C:/evil.txt", b"x")], "absolute path"),
        ([ZipEntry("link", b"/etc/passwd", kind="symlink")], "symbolic link to an absolute"),
        ([ZipEntry("link", b"../../outside", kind="symlink")], "pointing outside"),
        ([ZipEntry("link", b"x" * 5000, kind="symlink")], "invalid target"),
        (
            [ZipEntry("link", b"sub", kind="symlink"), ZipEntry("link/file", b"x")],
            "refusing to write through it",
        ),
    ],
)
async def test_hostile_zips_are_refused_and_write_nothing_outside(
    trees: DefaultReadTreeResponseFactory,
    workdir: Path,
    tmp_path: Path,
    entries: list[ZipEntry],
    message: str,
) -> None:
    data = zip_bytes([ZipEntry("ok.txt", b"fine"), *entries])
    with pytest.raises(UnsafeArchiveError, match=message) as caught:
        await tree(trees, data).dir()
    assert "test://archive.zip" in str(caught.value)
    # The directory created for this read and the spool were removed; nothing escaped.
    assert children(workdir) == []
    assert children(tmp_path) == ["work"]
    if "write through" not in message:  # a file-system check; the others are on names
        with pytest.raises(UnsafeArchiveError, match=message):
            await tree(trees, data).files()


async def test_a_failed_dir_removes_a_target_it_created_but_not_an_existing_one(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    hostile = zip_bytes([ZipEntry("ok.txt", b"fine"), ZipEntry("../evil.txt", b"x")])
    created = tmp_path / "new" / "out"
    with pytest.raises(UnsafeArchiveError):
        await tree(trees, hostile).dir(target_dir=created)
    # The missing parent was created by the same call, so it goes too.
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_bytes(b"mine")
    with pytest.raises(UnsafeArchiveError):
        await tree(trees, hostile).dir(target_dir=existing)
    assert (existing / "keep.txt").read_bytes() == b"mine"
    assert not (tmp_path / "evil.txt").exists()


async def test_link_escaping_only_through_another_link_is_caught(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    (tmp_path / "secret").write_text("do not read")
    data = zip_bytes(
        [
            ZipEntry("s/", kind="dir", mode=0o755),
            ZipEntry("s/l", b"e/../../secret", kind="symlink"),
            ZipEntry("s/e", b"..", kind="symlink"),
        ]
    )
    target = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match="resolves outside the target directory"):
        await tree(trees, data).dir(target_dir=target)
    assert not (target / "s" / "l").is_symlink()


async def test_too_many_entries(workdir: Path) -> None:
    data = repo_zip({f"f{i}.txt": b"x" for i in range(5)})
    with pytest.raises(ArchiveLimitError, match="more than 3 entries"):
        await tree(limited(workdir, max_entries=3), data).dir()
    assert children(workdir) == []


async def test_a_small_zip_inflating_beyond_max_bytes(workdir: Path, tmp_path: Path) -> None:
    # 64 MiB of zeros deflate to ~64 KiB: a small download that would fill the disk.
    bomb = zip_bytes([ZipEntry("zeros.bin", b"\0" * (64 * 1024 * 1024))])
    assert len(bomb) < 200_000
    target = tmp_path / "out"
    with pytest.raises(ArchiveLimitError, match="unpacks to more than 1048576 bytes"):
        await tree(limited(workdir, max_bytes=1024 * 1024), bomb).dir(target_dir=target)
    assert not (target / "zeros.bin").exists()
    assert children(workdir) == []


async def test_a_lying_declared_size_is_refused(workdir: Path) -> None:
    # The headers claim 100 bytes; the data inflates to 8 MiB. Only 100 bytes are ever
    # produced, and the checksum then shows the lie.
    real = zip_bytes([ZipEntry("zeros.bin", b"\0" * (8 * 1024 * 1024))])
    lying = lie_about_size(real, 100)
    trees = limited(workdir, max_bytes=1024 * 1024)
    with pytest.raises(UrlReaderError, match=r"Invalid archive from test://archive.zip: .*CRC"):
        await tree(trees, lying).dir()
    assert children(workdir) == []
    with pytest.raises(UrlReaderError, match="CRC"):
        await tree(trees, lying).files()


async def test_bytes_actually_read_are_counted_not_only_declared_file_sizes(
    workdir: Path,
) -> None:
    # Link targets are read (and counted) though they are not files: 5 x 3000 bytes > 10000.
    target = "./" * 1500 + "a.txt"
    entries = [ZipEntry("a.txt", b"a")]
    entries += [ZipEntry(f"l{i}", target.encode(), kind="symlink") for i in range(5)]
    with pytest.raises(ArchiveLimitError, match="unpacks to more than 10000 bytes"):
        await tree(limited(workdir, max_bytes=10_000), zip_bytes(entries)).dir()
    assert children(workdir) == []


async def test_a_download_larger_than_the_limits_is_not_spooled_whole(workdir: Path) -> None:
    closed = anyio.Event()
    trees = limited(workdir, max_entries=1, max_bytes=1024)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        try:
            while True:
                sent += 64 * 1024
                yield os.urandom(64 * 1024)
        finally:
            closed.set()

    response = trees.from_zip_archive(stream=endless(), etag="e", source="test://archive.zip")
    with pytest.raises(ArchiveLimitError, match="larger than"):
        await response.files()
    assert closed.is_set()
    assert sent <= trees.limits.max_stream_bytes + 64 * 1024
    assert children(workdir) == []


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip at all",
        repo_zip(FILES)[: len(repo_zip(FILES)) // 2],
        repo_zip(FILES)[:-10],
    ],
)
async def test_corrupt_archives_are_errors(
    trees: DefaultReadTreeResponseFactory, workdir: Path, data: bytes
) -> None:
    with pytest.raises(UrlReaderError, match=r"Invalid archive from test://archive\.zip"):
        await tree(trees, data).dir()
    assert children(workdir) == []


async def test_unsupported_compression_and_encryption_are_refused(
    trees: DefaultReadTreeResponseFactory,
) -> None:
    bzip = zip_bytes([ZipEntry("a.txt", b"a" * 100, compression=zipfile.ZIP_BZIP2)])
    with pytest.raises(UrlReaderError, match="unsupported compression method"):
        await tree(trees, bzip).files()
    encrypted = bytearray(zip_bytes([ZipEntry("a.txt", b"a" * 100)]))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = encrypted.index(signature) + offset
        encrypted[position] |= 0x1
    with pytest.raises(UrlReaderError, match="is encrypted"):
        await tree(trees, bytes(encrypted)).files()


async def test_source_errors_surface_as_they_are(trees: DefaultReadTreeResponseFactory) -> None:
    data = repo_zip({"big.bin": os.urandom(100_000)})

    async def failing() -> AsyncIterator[bytes]:
        yield data[:1000]
        raise UrlReaderError("connection reset while reading test://archive.zip")

    response = trees.from_zip_archive(stream=failing(), etag="e", source="test://archive.zip")
    with pytest.raises(UrlReaderError, match="connection reset"):
        await response.files()


async def test_cancelled_read_cleans_up_and_closes_the_source(
    trees: DefaultReadTreeResponseFactory, workdir: Path
) -> None:
    first_chunk_taken = anyio.Event()
    closed = anyio.Event()
    data = repo_zip({"big.bin": os.urandom(100_000)})

    async def stalling() -> AsyncIterator[bytes]:
        try:
            yield data[:4096]
            first_chunk_taken.set()
            await anyio.Event().wait()  # the network stalls
            yield b""
        finally:
            closed.set()

    response = trees.from_zip_archive(stream=stalling(), etag="e", source="test://archive.zip")
    async with anyio.create_task_group() as group:
        group.start_soon(response.dir)
        await first_chunk_taken.wait()
        group.cancel_scope.cancel()
    assert closed.is_set()
    assert children(workdir) == []


async def test_a_read_that_cannot_start_still_closes_the_source(tmp_path: Path) -> None:
    # The working directory is gone: the spool file cannot be created.
    stream = UnreadStream()
    missing = DefaultReadTreeResponseFactory(working_directory=tmp_path / "missing")
    response = missing.from_zip_archive(stream=stream, etag="e")
    with pytest.raises(FileNotFoundError):
        await response.files()
    assert stream.closed


async def test_a_dir_into_an_unusable_target_still_closes_the_source(
    trees: DefaultReadTreeResponseFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"mine")
    stream = UnreadStream()
    response = trees.from_zip_archive(stream=stream, etag="e")
    with pytest.raises(NotADirectoryError):
        await response.dir(target_dir=blocker / "out")
    assert stream.closed
    assert blocker.read_bytes() == b"mine"
