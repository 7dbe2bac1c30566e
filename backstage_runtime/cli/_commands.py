"""The subcommands: each builds what it needs and returns an exit status."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import anyio

from .._create_backend import create_backend
from ..api import BackendModule, BackendPlugin, ServiceFactory, core_services
from ..defaults.root_config import load_config
from ..runtime import Backend, EntryPointScan, PackageFilter, scan_entry_points
from ._collection import PausedCollection
from ._event_loop import EventLoop
from ._ready import notify_ready

__all__ = [
    "freeze_startup_objects",
    "run_config",
    "run_graph",
    "run_plugins",
    "serve_one_backend",
]


def freeze_startup_objects() -> None:
    """Move everything alive after startup out of the garbage collector's reach.

    Imports, plugins and services leave hundreds of thousands of long-lived objects; every full
    collection would rescan them while serving (p99 latency tripled in
    benchmarks/http_overhead.py). ``serve`` owns its process, so it can freeze them once.
    """
    gc.collect()
    gc.freeze()


def serve_one_backend(
    config_paths: Sequence[str] | None,
    overrides: dict[str, Any] | None,
    *,
    event_loop: EventLoop = "asyncio",
) -> int:
    """Start every discovered feature in this process and run until SIGINT/SIGTERM; 0 after a
    clean stop, 128 + the signal number when a signal interrupted the start. ``event_loop`` is
    the loop to run on (``backend.eventLoop``). The garbage collector waits until the start is
    over (see :mod:`._collection`).
    """
    with PausedCollection() as collection:
        return _start_and_serve(config_paths, overrides, event_loop, collection)


def _start_and_serve(
    config_paths: Sequence[str] | None,
    overrides: dict[str, Any] | None,
    event_loop: EventLoop,
    collection: PausedCollection,
) -> int:
    backend = create_backend(config_paths=config_paths, overrides=overrides, discover=True)

    async def serve() -> int:
        # The signals are watched from before the start: one that arrives while plugins are
        # still starting (even one whose init never returns) cancels the start, which stops
        # whatever had started within the shutdown bounds. Once started, a signal asks for the
        # ordinary stop instead (cancelling would cut the HTTP server's requests).
        received: list[signal.Signals] = []
        started = False
        stop = anyio.Event()
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with anyio.create_task_group() as watchers:
                starting = anyio.CancelScope()

                async def watch() -> None:
                    async for number in signals:
                        received.append(signal.Signals(number))
                        if not backend.started:
                            starting.cancel()
                            return
                        logger = await backend.get_service(core_services.root_logger)
                        logger.info(
                            f"Received {received[0].name}, shutting down", {"type": "serve"}
                        )
                        stop.set()
                        return

                watchers.start_soon(watch)
                with starting:
                    async with backend:
                        started = True
                        await _announce_start(backend, collection)
                        notify_ready(flush_logs=await _log_flusher(backend))
                        await stop.wait()
                watchers.cancel_scope.cancel()
        if received and not started:
            print(f"backstage-runtime: startup interrupted by {received[0].name}", file=sys.stderr)
            return 128 + received[0].value
        return 0

    return anyio.run(serve, backend_options={"use_uvloop": event_loop == "uvloop"})


async def _announce_start(backend: Backend, collection: PausedCollection) -> None:
    freeze_startup_objects()
    collection.resume()
    logger = await backend.get_service(core_services.root_logger)
    result = backend.startup_result
    started = [p for p, s in result.plugins.items() if s.started]
    # The loop's package: "asyncio", or "uvloop" when backend.eventLoop chose it.
    loop = type(asyncio.get_running_loop()).__module__.partition(".")[0]
    logger.info(
        "Backend started; stop it with SIGINT or SIGTERM",
        {"plugins": started, "type": "serve", "eventLoop": loop},
    )


async def _log_flusher(backend: Backend) -> Callable[[float], object] | None:
    # The default root logger writes from a thread and can wait for it; another may not.
    logger = await backend.get_service(core_services.root_logger)
    flush = getattr(logger, "flush", None)
    return flush if callable(flush) else None


def run_plugins(config_paths: Sequence[str] | None) -> int:
    """Print every entry point of the group with its distribution and what ``serve`` does with
    it; 1 when one could not be loaded (after listing everything), else 0.

    ``backend.packages`` is applied before loading, so an excluded entry is never imported.
    """
    config = load_config(config_paths)
    scans = scan_entry_points(PackageFilter.from_config(config))
    plugin_ids = {
        feature.plugin_id
        for scan in scans
        for feature in scan.features
        if isinstance(feature, BackendPlugin)
    }
    excluded = [scan for scan in scans if scan.excluded]
    rows = [("KIND", "ID", "DISTRIBUTION", "ENTRY POINT", "STATUS")]
    for scan in scans:
        entry = f"{scan.entry_name} = {scan.entry_value}"
        if scan.excluded:
            rows.append(("-", "-", scan.distribution, entry, "excluded by backend.packages"))
            continue
        if scan.error is not None:
            rows.append(("-", "-", scan.distribution, entry, f"failed: {_one_line(scan.error)}"))
            continue
        for feature in scan.features:
            kind, ident = _describe(feature)
            status = "loaded"
            if isinstance(feature, BackendModule) and feature.plugin_id not in plugin_ids:
                why = (
                    "is excluded by backend.packages"
                    if any(_may_provide(scan, feature.plugin_id) for scan in excluded)
                    else "is not installed"
                )
                status = f"skipped: plugin '{feature.plugin_id}' {why}"
            rows.append((kind, ident, scan.distribution, entry, status))
    if len(rows) == 1:
        print("No features found in the 'backstage_runtime.features' entry-point group.")
        return 0
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    failed = [scan for scan in scans if scan.error is not None]
    for scan in failed:
        print(f"backstage-runtime: {scan.error}", file=sys.stderr)
    return 1 if failed else 0


def _describe(feature: object) -> tuple[str, str]:
    if isinstance(feature, BackendPlugin):
        return "plugin", feature.plugin_id
    if isinstance(feature, BackendModule):
        return "module", f"{feature.plugin_id}/{feature.module_id}"
    if isinstance(feature, ServiceFactory):
        return "service", feature.service.id
    return "loader", str(feature)


def _may_provide(scan: EntryPointScan, plugin_id: str) -> bool:
    # An excluded entry is never imported, so which plugin it holds is unknown; its entry name
    # or distribution name (backstage-plugin-<id>-backend by convention) names it in practice.
    return plugin_id == scan.entry_name or plugin_id in scan.distribution


def _one_line(text: str) -> str:
    return " ".join(text.split())


def run_graph(config_paths: Sequence[str] | None, *, output_format: str) -> int:
    """Print the service dependency graph of every discovered feature (Mermaid or DOT); 1 when
    something depends on a service nobody provides (marked in the drawing), else 0.
    """
    backend = create_backend(config_paths=config_paths, discover=True, serve_http=False)
    graph = anyio.run(backend.inspect_graph)
    sys.stdout.write(graph.to_dot() if output_format == "dot" else graph.to_mermaid())
    missing = graph.missing
    for service_id, dependents in missing.items():
        needed_by = ", ".join(f"'{node}'" for node in dependents)
        print(
            f"backstage-runtime: service '{service_id}' is missing: no factory provides it "
            f"(needed by {needed_by})",
            file=sys.stderr,
        )
    return 1 if missing else 0


def run_config(config_paths: Sequence[str] | None, *, show_secrets: bool) -> int:
    """Print the resolved configuration as YAML, secret values replaced by ``***``."""
    import yaml  # only this command writes YAML; serve reads it only when there is a file

    config = load_config(config_paths)
    # No file and no APP_CONFIG_*: an empty configuration, not a missing value.
    data = config.get() if config.keys() else {}
    if not show_secrets:
        data = _redact(data, sorted(set(config.secret_values()), key=len, reverse=True))
    sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return 0


def _redact(value: Any, secrets: list[str]) -> Any:
    # Redact in the data, not the YAML text, so quoting or line folding cannot leak a secret.
    if isinstance(value, dict):
        return {key: _redact(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact(item, secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
    return value
