"""Dependency graphs: topological order, every distinct cycle, and a parallel topological walk."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Generic, TypeVar

import anyio

N = TypeVar("N", bound=Hashable)


class DependencyGraph(Generic[N]):
    """A directed graph where an edge ``a -> b`` means *a depends on b* (b must come first).

    Edges to nodes outside the graph are ignored, as Backstage's ``DependencyGraph`` ignores
    dependencies on ids that nobody provides.
    """

    def __init__(self, edges: Mapping[N, Iterable[N]]) -> None:
        self._nodes: list[N] = list(edges)
        known = set(self._nodes)
        self._deps: dict[N, list[N]] = {
            node: [dep for dep in dict.fromkeys(deps) if dep in known]
            for node, deps in edges.items()
        }

    @property
    def nodes(self) -> list[N]:
        """The nodes in insertion order."""
        return list(self._nodes)

    def find_cycles(self) -> list[list[N]]:
        """Every distinct cycle, each as a path that ends where it starts (``[a, b, a]``).

        Cycles are deduplicated by their node set and each starts at its earliest-inserted node,
        so the report is stable. Only strongly connected components are searched, which keeps an
        acyclic graph of thousands of services linear instead of enumerating its paths.
        """
        order = {node: index for index, node in enumerate(self._nodes)}
        seen_sets: set[frozenset[N]] = set()
        cycles: list[list[N]] = []
        for component in self._strongly_connected_components():
            members = set(component)
            if len(component) == 1 and component[0] not in self._deps[component[0]]:
                continue
            for start in sorted(component, key=order.__getitem__):
                # DFS that reports only cycles through ``start`` and visits only later members,
                # so each elementary cycle is found once, from its first node.
                stack: list[tuple[N, int]] = [(start, 0)]
                path: list[N] = [start]
                on_path = {start}
                while stack:
                    node, index = stack[-1]
                    deps = [d for d in self._deps[node] if d in members]
                    if index >= len(deps):
                        stack.pop()
                        on_path.discard(path.pop())
                        continue
                    stack[-1] = (node, index + 1)
                    nxt = deps[index]
                    if nxt == start:
                        key = frozenset(path)
                        if key not in seen_sets:
                            seen_sets.add(key)
                            cycles.append([*path, start])
                    elif nxt not in on_path and order[nxt] > order[start]:
                        stack.append((nxt, 0))
                        path.append(nxt)
                        on_path.add(nxt)
        return cycles

    def _strongly_connected_components(self) -> list[list[N]]:
        """Tarjan's algorithm, iterative so deep graphs don't hit the recursion limit."""
        index_of: dict[N, int] = {}
        low: dict[N, int] = {}
        on_stack: set[N] = set()
        stack: list[N] = []
        components: list[list[N]] = []
        counter = 0
        for root in self._nodes:
            if root in index_of:
                continue
            work: list[tuple[N, int]] = [(root, 0)]
            while work:
                node, child = work[-1]
                if child == 0:
                    index_of[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                deps = self._deps[node]
                if child < len(deps):
                    work[-1] = (node, child + 1)
                    dep = deps[child]
                    if dep not in index_of:
                        work.append((dep, 0))
                    elif dep in on_stack:
                        low[node] = min(low[node], index_of[dep])
                    continue
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index_of[node]:
                    component: list[N] = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(component)
        return components

    def topological_order(self) -> list[N]:
        """Nodes ordered so that each comes after all of its dependencies.

        Raises :class:`ValueError` when the graph has a cycle.
        """
        remaining = {node: len(self._deps[node]) for node in self._nodes}
        dependents: dict[N, list[N]] = {node: [] for node in self._nodes}
        for node, deps in self._deps.items():
            for dep in deps:
                dependents[dep].append(node)
        ready = [node for node in self._nodes if remaining[node] == 0]
        result: list[N] = []
        while ready:
            node = ready.pop(0)
            result.append(node)
            for dependent in dependents[node]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    ready.append(dependent)
        if len(result) != len(self._nodes):
            raise ValueError("the graph has a cycle")
        return result

    async def walk_parallel(self, visit: Callable[[N], Awaitable[None]]) -> None:
        """Call ``visit`` for every node, each as soon as all its dependencies finished.

        Independent nodes run concurrently in one task group. If a visit raises, the walk is
        cancelled and the error propagates (callers that want to continue catch inside ``visit``).
        Raises :class:`ValueError` up front when the graph has a cycle.
        """
        self.topological_order()  # refuses cycles before anything runs
        finished = {node: anyio.Event() for node in self._nodes}

        async def run(node: N) -> None:
            for dep in self._deps[node]:
                await finished[dep].wait()
            try:
                await visit(node)
            finally:
                finished[node].set()

        async with anyio.create_task_group() as group:
            for node in self._nodes:
                group.start_soon(run, node)
