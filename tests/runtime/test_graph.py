"""DependencyGraph properties, checked on arbitrary graphs against small independent oracles."""

from __future__ import annotations

import itertools

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backstage_runtime.runtime import DependencyGraph

Edges = dict[int, list[int]]


@st.composite
def graphs(draw: st.DrawFn) -> Edges:
    """Up to 7 nodes with any edges: self-loops, duplicates, and edges to ids outside the graph
    (which the graph ignores, as Backstage ignores dependencies nobody provides).
    """
    size = draw(st.integers(min_value=0, max_value=7))
    targets = st.integers(min_value=0, max_value=size + 1)
    return {node: draw(st.lists(targets, max_size=4)) for node in range(size)}


def known_edges(edges: Edges) -> set[tuple[int, int]]:
    return {(node, dep) for node, deps in edges.items() for dep in deps if dep in edges}


def on_some_cycle(edges: Edges) -> set[int]:
    """Nodes that can reach themselves through at least one edge (breadth-first search)."""
    found: set[int] = set()
    for start in edges:
        frontier = [d for d in edges[start] if d in edges]
        seen = set(frontier)
        while frontier:
            node = frontier.pop()
            if node == start:
                found.add(start)
                break
            for dep in edges[node]:
                if dep in edges and dep not in seen:
                    seen.add(dep)
                    frontier.append(dep)
    return found


@settings(max_examples=200, deadline=None)
@given(edges=graphs())
def test_every_reported_cycle_is_a_real_elementary_cycle(edges: Edges) -> None:
    present = known_edges(edges)
    for cycle in DependencyGraph(edges).find_cycles():
        assert len(cycle) >= 2
        assert cycle[0] == cycle[-1]
        assert len(set(cycle[:-1])) == len(cycle) - 1  # no node twice: an elementary cycle
        for node, dep in itertools.pairwise(cycle):
            assert (node, dep) in present


@settings(max_examples=200, deadline=None)
@given(edges=graphs())
def test_cycles_are_reported_exactly_for_the_nodes_on_one(edges: Edges) -> None:
    cycles = DependencyGraph(edges).find_cycles()
    reported = {node for cycle in cycles for node in cycle}
    assert reported == on_some_cycle(edges)
    # Acyclic exactly when nothing is reported.
    assert (cycles == []) == (on_some_cycle(edges) == set())
    # Each cycle is reported once (deduplicated by its node set).
    assert len({frozenset(cycle) for cycle in cycles}) == len(cycles)


@settings(max_examples=200, deadline=None)
@given(edges=graphs())
def test_topological_order_respects_every_edge_or_refuses_a_cycle(edges: Edges) -> None:
    graph = DependencyGraph(edges)
    if on_some_cycle(edges):
        with pytest.raises(ValueError, match="cycle"):
            graph.topological_order()
        return
    order = graph.topological_order()
    assert sorted(order) == sorted(edges)
    position = {node: index for index, node in enumerate(order)}
    for node, dep in known_edges(edges):
        assert position[dep] < position[node]


@settings(max_examples=60, deadline=None)
@given(edges=graphs())
def test_parallel_walk_visits_each_node_after_its_dependencies(edges: Edges) -> None:
    if on_some_cycle(edges):
        return
    finished: list[int] = []

    async def visit(node: int) -> None:
        await anyio.lowlevel.checkpoint()  # lets independent visits interleave
        finished.append(node)

    anyio.run(DependencyGraph(edges).walk_parallel, visit)
    assert sorted(finished) == sorted(edges)
    position = {node: index for index, node in enumerate(finished)}
    for node, dep in known_edges(edges):
        assert position[dep] < position[node]
