"""Trees read file by file (``from_file_streams``): what object-store readers build on."""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import anyio.lowlevel
import pytest

from backstage_runtime.api.errors import NotFoundError
from backstage_runtime.api.services.url_reader import (
    ArchiveLimitError,
    TreeEntryInfo,
    TreeFileSource,
    UnsafeArchiveError,
    UrlReaderError,
)
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, TreeLimits

pytestmark = pytest.mark.anyio

WHEN = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Source:
    """Streams ``data`` in small chunks and records how the stream was used."""

    def __init__(self, data: bytes, *, chunk: int = 3, fail: BaseException | None = None):
        self.data = data
        self.chunk = chunk
        self.fail = fail
        self.opened = 0
        self.closed = 0

    def open(self) -> AsyncIterator[bytes]:
        self.opened += 1
        return self._stream()

    async def _stream(self) -> AsyncIterator[bytes]:
        try:
            for start in range(0, len(self.data), self.chunk):
                await anyio.lowlevel.checkpoint()
                if self.fail is not None:
                    raise self.fail
                yield self.data[start : start + self.chunk]
        finally:
            self.closed += 1


def sources(
    files: dict[str, bytes], **options: object
) -> tuple[list[TreeFileSource], dict[str, Source]]:
    made = {path: Source(data, **options) for path, data in files.items()}  # type: ignore[arg-type]
    return [
        TreeFileSource(path=path, open=source.open, size=len(source.data), last_modified_at=WHEN)
        for path, source in made.items()
    ], made


FILES = {
    "catalog-info.yaml": b"kind: Component\n",
    "docs/index.md": b"# Docs\n",
    "docs/deep/page.md": b"deep page",
}


def entries(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def factory(workdir: Path, **limits: int) -> DefaultReadTreeResponseFactory:
    return DefaultReadTreeResponseFactory(working_directory=workdir, limits=TreeLimits(**limits))


async def test_files_are_fetched_when_read_and_keep_their_dates(workdir: Path) -> None:
    listed, made = sources(FILES)
    tree = factory(workdir).from_file_streams(listed, etag="e1")
    assert all(source.opened == 0 for source in made.values())
    files = await tree.files()
    assert tree.etag == "e1"
    assert [(f.path, await f.content()) for f in files] == list(FILES.items())
    assert {f.last_modified_at for f in files} == {WHEN}
    assert all(source.closed == 1 for source in made.values())


async def test_the_filter_sees_each_listed_size_and_skipped_files_are_never_fetched(
    workdir: Path,
) -> None:
    listed, made = sources(FILES)
    seen: list[tuple[str, int]] = []

    def only_docs(path: str, info: TreeEntryInfo) -> bool:
        seen.append((path, info.size))
        return path.startswith("docs/")

    tree = factory(workdir).from_file_streams(listed, etag="e", filter=only_docs)
    directory = await tree.dir()
    assert sorted(seen) == sorted((path, len(data)) for path, data in FILES.items())
    assert (directory / "docs/deep/page.md").read_bytes() == b"deep page"
    assert not (directory / "catalog-info.yaml").exists()
    assert made["catalog-info.yaml"].opened == 0


async def test_dir_writes_into_a_given_target(workdir: Path, tmp_path: Path) -> None:
    listed, _ = sources(FILES)
    target = tmp_path / "given" / "nested"
    result = await factory(workdir).from_file_streams(listed, etag="e").dir(target_dir=target)
    assert result == target
    assert {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()} == set(
        FILES
    )


async def test_archive_is_a_tar_of_the_kept_files(workdir: Path) -> None:
    listed, _ = sources(FILES)
    # One file of unknown size is spooled first, since a tar header needs the size.
    listed[1] = TreeFileSource(path=listed[1].path, open=listed[1].open, size=None)
    tree = factory(workdir).from_file_streams(listed, etag="e")
    data = b"".join([chunk async for chunk in tree.archive()])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers()}  # type: ignore[union-attr]
        mtime = archive.getmember("catalog-info.yaml").mtime
    assert members == FILES
    assert mtime == int(WHEN.timestamp())


async def test_a_file_larger_than_listed_fails_the_archive(workdir: Path) -> None:
    source = Source(b"0123456789")
    tree = factory(workdir).from_file_streams(
        [TreeFileSource(path="a.txt", open=source.open, size=4)], etag="e"
    )
    with pytest.raises(UrlReaderError, match=r"'a.txt' .* changed while it was read"):
        async for _ in tree.archive():
            pass
    assert source.closed == 1


async def test_an_archive_abandoned_at_a_header_closes_its_spool(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spools: list[tempfile.SpooledTemporaryFile[bytes]] = []

    class Recorded(tempfile.SpooledTemporaryFile[bytes]):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            spools.append(self)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Recorded)
    source = Source(b"unknown size")
    tree = factory(workdir).from_file_streams(
        [TreeFileSource(path="a.txt", open=source.open, size=None)], etag="e"
    )
    stream = cast(AsyncGenerator[bytes, None], tree.archive())
    header = await anext(stream)
    assert header.startswith(b"a.txt")
    await stream.aclose()  # the consumer stops right after the first tar header
    assert len(spools) == 1
    assert spools[0].closed


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "docs/../../x", "C:/x"])
async def test_paths_leaving_the_tree_are_refused(workdir: Path, path: str) -> None:
    source = Source(b"x")
    with pytest.raises(UnsafeArchiveError, match="Unsafe archive from s3://bucket"):
        factory(workdir).from_file_streams(
            [TreeFileSource(path=path, open=source.open, size=1)],
            etag="e",
            source="s3://bucket",
        )
    assert source.opened == 0


async def test_too_many_files_are_refused_before_any_download(workdir: Path) -> None:
    listed, made = sources({f"f{i}.txt": b"x" for i in range(5)})
    with pytest.raises(ArchiveLimitError, match=r"more than 4 entries .*maxEntries"):
        factory(workdir, max_entries=4).from_file_streams(listed, etag="e")
    assert all(source.opened == 0 for source in made.values())


async def test_listed_sizes_over_the_byte_limit_are_refused(workdir: Path) -> None:
    listed, _ = sources({"big.bin": b"x" * 100})
    with pytest.raises(ArchiveLimitError, match=r"more than 50 bytes .*maxBytes"):
        factory(workdir, max_bytes=50).from_file_streams(listed, etag="e")


@pytest.mark.parametrize("read", ["files", "dir"])
async def test_bytes_beyond_the_limit_stop_the_read_whatever_the_listing_said(
    workdir: Path, read: str
) -> None:
    liar = Source(b"x" * 1000, chunk=100)
    tree = factory(workdir, max_bytes=300).from_file_streams(
        [TreeFileSource(path="small.txt", open=liar.open, size=10)], etag="e"
    )
    with pytest.raises(ArchiveLimitError, match="more than 300 bytes"):
        await (tree.files() if read == "files" else tree.dir())
    assert liar.closed == 1
    assert entries(workdir) == []  # the directory dir() created is gone again


async def test_a_failing_source_fails_dir_with_its_own_error_and_cleans_up(
    workdir: Path,
) -> None:
    listed, made = sources({f"f{i}.txt": b"abcdef" for i in range(20)})
    made["f7.txt"].fail = NotFoundError("f7.txt is gone")
    with pytest.raises(NotFoundError, match=r"f7\.txt is gone"):
        await factory(workdir).from_file_streams(listed, etag="e").dir()
    assert entries(workdir) == []
    assert all(source.opened == source.closed for source in made.values())


async def test_fetches_run_concurrently_but_bounded(workdir: Path) -> None:
    active = 0
    peak = 0

    def counting(data: bytes) -> Callable[[], AsyncIterator[bytes]]:
        async def stream() -> AsyncIterator[bytes]:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            try:
                for _ in range(5):
                    await anyio.lowlevel.checkpoint()
                yield data
            finally:
                active -= 1

        return stream

    listed = [TreeFileSource(path=f"f{i}", open=counting(b"x"), size=1) for i in range(30)]
    files = await factory(workdir).from_file_streams(listed, etag="e").files()
    assert len(files) == 30
    assert 1 < peak <= 8


async def test_a_failed_dir_removes_a_target_it_created_but_not_an_existing_one(
    workdir: Path, tmp_path: Path
) -> None:
    listed, made = sources(FILES)
    made["docs/index.md"].fail = NotFoundError("docs/index.md is gone")
    tree = factory(workdir).from_file_streams(listed, etag="e")
    with pytest.raises(NotFoundError):
        await tree.dir(target_dir=tmp_path / "new" / "out")
    # The missing parent was created by the same call, so it goes too.
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_bytes(b"mine")
    with pytest.raises(NotFoundError):
        await tree.dir(target_dir=existing)
    assert existing.is_dir()
    assert (existing / "keep.txt").read_bytes() == b"mine"
