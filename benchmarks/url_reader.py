"""``read_tree`` of a generated archive against aiohttp + ``tarfile`` doing the same by hand.

A separate process serves a GitHub-like API (commit status + tarball) on 127.0.0.1; in this
process the GitHub reader reads the tree and extracts it with ``dir()``, and the baseline
downloads the same tarball with aiohttp and extracts it with ``tarfile.extractall(filter=
"data")`` in a worker thread. Rounds alternate; medians are compared (target: within 1.2x).
Peak memory is traced separately (``tracemalloc``, every thread) for the default archive and
for one four times larger: the reader streams, so its peak should not grow with the archive,
while the baseline holds the whole download. ``--format zip`` measures zip trees instead (Azure
DevOps and Harness serve zips): the tree factory's ``from_zip_archive`` over the downloaded
stream against aiohttp + ``zipfile.extractall``. Run:

    python benchmarks/url_reader.py [--files 5000] [--rounds 7] [--format tar|zip]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import multiprocessing
import random
import shutil
import statistics
import tarfile
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.to_thread

from backstage_runtime.defaults.root_config import create_config_from_data
from backstage_runtime.defaults.url_reader import DefaultReadTreeResponseFactory, create_url_reader
from backstage_runtime.testing import MockRootLogger

TARGET_RATIO = 1.2
HOST = "bench.example.com"


def make_archive(files: int, seed: int = 7) -> bytes:
    """A GitHub-style tarball: ``files`` source-like files (2-6 KiB) in nested folders."""
    rng = random.Random(seed)
    words = [f"word{i}" for i in range(2000)]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        top = "org-repo-0123456"
        for folder in sorted({f"{top}/pkg{i % 50}/mod{i % 7}" for i in range(files)}):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            archive.addfile(info)
        for index in range(files):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(300, 900))).encode()
            info = tarfile.TarInfo(f"{top}/pkg{index % 50}/mod{index % 7}/file{index}.py")
            info.size = len(text)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(text))
    return buffer.getvalue()


def make_zip(files: int, seed: int = 7) -> bytes:
    """The same tree as :func:`make_archive`, as a deflated zip (no top folder)."""
    with tarfile.open(fileobj=io.BytesIO(make_archive(files, seed)), mode="r:gz") as archive:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as out:
            for member in archive:
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is not None:
                    out.writestr(member.name.split("/", 1)[1], extracted.read())
    return buffer.getvalue()


def serve(archive_path: str, ready: Any) -> None:
    """The fake GitHub, in its own process so its buffers do not count in our memory."""
    from aiohttp import web

    data = Path(archive_path).read_bytes()
    sha = hashlib.sha1(data).hexdigest()
    routes = web.RouteTableDef()

    @routes.get("/repos/org/repo/commits/{ref}/status")
    async def status(request: web.Request) -> web.Response:
        base = f"http://{request.host}/repos/org/repo"
        return web.json_response(
            {
                "sha": sha,
                "repository": {
                    "archive_url": base + "/{archive_format}{/ref}",
                    "trees_url": base + "/git/trees{/sha}",
                },
            }
        )

    @routes.get("/repos/org/repo/tarball/{sha}")
    async def tarball(request: web.Request) -> web.Response:
        return web.Response(body=data, content_type="application/x-gzip")

    @routes.get("/archive.zip")
    async def zip_archive(request: web.Request) -> web.Response:
        return web.Response(body=data, content_type="application/zip")

    async def main() -> None:
        app = web.Application()
        app.add_routes(routes)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.put(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


class Contenders:
    def __init__(self, port: int, session: aiohttp.ClientSession, workdir: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = session
        self.workdir = workdir
        config = create_config_from_data(
            {"integrations": {"github": [{"host": HOST, "apiBaseUrl": self.base}]}},
            context="bench",
        )
        self.trees = DefaultReadTreeResponseFactory(working_directory=workdir)
        self.reader = create_url_reader(
            config=config,
            http_client=session,
            logger=MockRootLogger(level="error"),
            tree_response_factory=self.trees,
        )

    async def service(self) -> Path:
        tree = await self.reader.read_tree(f"https://{HOST}/org/repo/tree/main")
        return await tree.dir()

    async def baseline(self) -> Path:
        async with self.session.get(f"{self.base}/repos/org/repo/commits/main/status") as r:
            sha = (await r.json())["sha"]
        async with self.session.get(f"{self.base}/repos/org/repo/tarball/{sha}") as response:
            data = await response.read()
        target = Path(tempfile.mkdtemp(dir=self.workdir))

        def extract() -> None:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
                archive.extractall(target, filter="data")

        await anyio.to_thread.run_sync(extract)
        return target


class ZipContenders(Contenders):
    """The zip tree machinery (``from_zip_archive``) against aiohttp + ``zipfile``."""

    async def service(self) -> Path:
        async with self.session.get(f"{self.base}/archive.zip") as response:
            tree = self.trees.from_zip_archive(
                stream=response.content.iter_chunked(64 * 1024), etag="bench"
            )
            return await tree.dir()

    async def baseline(self) -> Path:
        async with self.session.get(f"{self.base}/archive.zip") as response:
            data = await response.read()
        target = Path(tempfile.mkdtemp(dir=self.workdir))

        def extract() -> None:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                archive.extractall(target)

        await anyio.to_thread.run_sync(extract)
        return target


async def timed(run: Callable[[], Awaitable[Path]]) -> float:
    start = time.perf_counter()
    directory = await run()
    elapsed = time.perf_counter() - start
    await anyio.to_thread.run_sync(shutil.rmtree, directory)
    return elapsed


async def peak(run: Callable[[], Awaitable[Path]]) -> int:
    tracemalloc.start()
    try:
        directory = await run()
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await anyio.to_thread.run_sync(shutil.rmtree, directory)
    return peak_bytes


def start_server(archive: bytes, scratch: Path) -> tuple[multiprocessing.Process, int]:
    path = scratch / f"archive-{len(archive)}.tar.gz"
    path.write_bytes(archive)
    ready: Any = multiprocessing.get_context("spawn").Queue()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(str(path), ready), daemon=True
    )
    process.start()
    return process, int(ready.get(timeout=30))


async def measure(files: int, rounds: int, scratch: Path, archive_format: str) -> None:
    make = make_zip if archive_format == "zip" else make_archive
    kind: type[Contenders] = ZipContenders if archive_format == "zip" else Contenders
    archive = make(files)
    large = make(files * 4, seed=11)
    print(
        f"{archive_format} archive: {files} files, {len(archive) / 1e6:.1f} MB; "
        f"large: {files * 4} files, {len(large) / 1e6:.1f} MB"
    )
    workdir = scratch / "work"
    workdir.mkdir()
    process, port = start_server(archive, scratch)
    large_process, large_port = start_server(large, scratch)
    try:
        async with aiohttp.ClientSession() as session:
            small = kind(port, session, workdir)
            times: dict[str, list[float]] = {"service": [], "baseline": []}
            await timed(small.service)  # warm-up: connections, imports, page cache
            await timed(small.baseline)
            for index in range(rounds):
                order = ["service", "baseline"] if index % 2 == 0 else ["baseline", "service"]
                for name in order:
                    times[name].append(await timed(getattr(small, name)))
            big = kind(large_port, session, workdir)
            peaks = {
                ("service", files): await peak(small.service),
                ("baseline", files): await peak(small.baseline),
                ("service", files * 4): await peak(big.service),
                ("baseline", files * 4): await peak(big.baseline),
            }
    finally:
        process.kill()
        large_process.kill()

    service = statistics.median(times["service"])
    baseline = statistics.median(times["baseline"])
    ratio = service / baseline
    print(f"{'contender':12}{'median s':>10}{'min s':>8}{'peak MiB':>10}{'peak MiB (4x)':>15}")
    for name, median in (("read_tree", service), ("baseline", baseline)):
        key = "service" if name == "read_tree" else "baseline"
        print(
            f"{name:12}{median:10.3f}{min(times[key]):8.3f}"
            f"{peaks[(key, files)] / 2**20:10.1f}{peaks[(key, files * 4)] / 2**20:15.1f}"
        )
    verdict = "meets" if ratio <= TARGET_RATIO else "MISSES"
    print(f"time ratio {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)")
    growth = peaks[("service", files * 4)] / max(peaks[("service", files)], 1)
    print(f"read_tree peak grows {growth:.2f}x for a 4x archive (streaming: about 1x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--format", choices=("tar", "zip"), default="tar")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="url-reader-bench-"))
    try:
        anyio.run(measure, args.files, args.rounds, scratch, args.format)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
