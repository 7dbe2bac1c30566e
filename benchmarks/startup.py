"""Startup cost of a large backend: 200 plugins x 10 plugin-scoped services.

Prints graph validation time, start time (validation included), stop time and peak traced
memory, next to a baseline measured in the same run: building the same 2,000 service objects and
calling the same 200 init functions directly, without the container. Run:

    python benchmarks/startup.py [--plugins 200] [--services 10] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel

from backstage_runtime import (
    ServiceRef,
    core_services,
    create_backend_plugin,
    create_service_factory,
    create_service_ref,
    runtime_services,
)
from backstage_runtime.runtime import create_specialized_backend
from backstage_runtime.runtime._assembly import AddedFeature, Assembly
from backstage_runtime.runtime._validation import validate
from backstage_runtime.testing import MockRootLogger, test_default_service_factories


class Service:
    """What every benchmark service builds: a small object holding its deps."""

    __slots__ = ("deps", "plugin_id")

    def __init__(self, plugin_id: str, deps: dict[str, Any]) -> None:
        self.plugin_id = plugin_id
        self.deps = deps


def build_features(plugins: int, services: int) -> tuple[list[Any], list[Any]]:
    refs: list[ServiceRef[Any]] = [create_service_ref(id=f"bench.s{i}") for i in range(services)]
    factories = []
    for index, ref in enumerate(refs):
        # A chain: each service depends on the previous one, plugin metadata and the root config.
        deps: dict[str, ServiceRef[Any]] = {
            "metadata": core_services.plugin_metadata,
            "config": core_services.root_config,
        }
        if index:
            deps["previous"] = refs[index - 1]

        def factory(**kwargs: Any) -> Service:
            return Service(kwargs["metadata"].get_id(), kwargs)

        factories.append(create_service_factory(service=ref, deps=deps, factory=factory))

    def make_plugin(plugin_id: str) -> Any:
        def register(env: Any) -> None:
            async def init(**kwargs: Any) -> None:
                assert len(kwargs) == services + 1

            env.register_init(
                deps={**{f"s{i}": r for i, r in enumerate(refs)}, "logger": core_services.logger},
                init=init,
            )

        return create_backend_plugin(plugin_id=plugin_id, register=register)

    return factories, [make_plugin(f"plugin-{p}") for p in range(plugins)]


def defaults() -> list[Any]:
    return test_default_service_factories({}, MockRootLogger(level="error"))


class _NoBackgroundTasks:
    """Validation builds nothing, but the graph needs ``runtime.backgroundTasks`` provided, as the
    initializer provides it when it starts a backend.
    """

    def start_soon(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("validation starts no background task")


async def measure_validation(factories: list[Any], plugins: list[Any]) -> float:
    background = create_service_factory(
        service=runtime_services.background_tasks, factory=_NoBackgroundTasks
    )
    features = [background, *factories, *plugins]
    added = [AddedFeature(f, f"features[{i}]") for i, f in enumerate(features)]
    began = time.perf_counter()
    assembly, _loaders = Assembly.create(defaults(), added)
    assembly.collect_registrations()
    report = await validate(assembly)
    elapsed = time.perf_counter() - began
    assert not report.problems, report.problems
    assert not assembly.problems, assembly.problems
    return elapsed


async def measure_start_stop(factories: list[Any], plugins: list[Any]) -> tuple[float, float]:
    backend = create_specialized_backend(default_service_factories=defaults())
    for feature in [*factories, *plugins]:
        backend.add(feature)
    began = time.perf_counter()
    await backend.start()
    started = time.perf_counter()
    await backend.stop()
    return started - began, time.perf_counter() - started


async def measure_baseline(plugins: int, services: int) -> float:
    """The same objects and init calls, wired by hand."""
    began = time.perf_counter()
    config = object()
    for p in range(plugins):
        plugin_id = f"plugin-{p}"
        built: dict[str, Any] = {}
        previous = None
        for i in range(services):
            deps: dict[str, Any] = {"metadata": plugin_id, "config": config}
            if previous is not None:
                deps["previous"] = previous
            previous = built[f"s{i}"] = Service(plugin_id, deps)
        await anyio.lowlevel.checkpoint()
    return time.perf_counter() - began


def peak_memory(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    fn()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=200)
    parser.add_argument("--services", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    factories, plugins = build_features(args.plugins, args.services)

    validation = [anyio.run(measure_validation, factories, plugins) for _ in range(args.rounds)]
    start_stop = [anyio.run(measure_start_stop, factories, plugins) for _ in range(args.rounds)]
    baseline = [
        anyio.run(measure_baseline, args.plugins, args.services) for _ in range(args.rounds)
    ]
    runtime_peak = peak_memory(lambda: anyio.run(measure_start_stop, factories, plugins))
    baseline_peak = peak_memory(lambda: anyio.run(measure_baseline, args.plugins, args.services))

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values) * 1000:8.1f} ms  (min {min(values) * 1000:.1f})"

    total = args.plugins * args.services
    print(f"backend: {args.plugins} plugins x {args.services} plugin-scoped services = {total}")
    print(f"graph validation        {ms(validation)}")
    print(f"start (incl. validation) {ms([s for s, _ in start_stop])}")
    print(f"stop                    {ms([s for _, s in start_stop])}")
    print(f"baseline (hand-wired)   {ms(baseline)}")
    print(
        f"peak traced memory      runtime {runtime_peak / 2**20:.1f} MiB, "
        f"baseline {baseline_peak / 2**20:.2f} MiB"
    )
    start_median = statistics.median([s for s, _ in start_stop])
    print(f"per service instance    {start_median / total * 1e6:.1f} us")


if __name__ == "__main__":
    main()
