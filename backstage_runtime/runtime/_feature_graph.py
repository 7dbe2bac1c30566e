"""The service dependency graph of a backend, for ``backstage-runtime graph``: what depends on
what, rendered as Mermaid or Graphviz DOT.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from ..api import ExtensionPoint, ServiceRef
from ._assembly import Assembly
from ._types import ErasedRef

__all__ = ["FeatureGraph", "GraphEdge", "GraphNode", "build_feature_graph"]

NodeKind = Literal["service", "plugin", "module"]


@dataclass(frozen=True)
class GraphNode:
    """A service (``core.rootConfig``), plugin (``plugin:todo``) or module
    (``module:todo/static``); ``scope`` is set for services, ``missing`` marks a service
    nobody provides.
    """

    id: str
    kind: NodeKind
    scope: str | None = None
    #: A service something depends on that no factory provides and no default factory serves.
    missing: bool = False


@dataclass(frozen=True)
class GraphEdge:
    """``source`` depends on ``target`` under the name ``label`` (a dep name or ``extends``)."""

    source: str
    target: str
    label: str


@dataclass
class FeatureGraph:
    """Nodes and dependency edges, in a stable order (registration order)."""

    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: list[GraphEdge] = field(default_factory=list)

    def add_node(self, node: GraphNode) -> None:
        """Add ``node`` unless a node with its id exists."""
        self.nodes.setdefault(node.id, node)

    @property
    def missing(self) -> dict[str, list[str]]:
        """Each missing service id with the nodes depending on it, in graph order."""
        found: dict[str, list[str]] = {
            node_id: [] for node_id, node in self.nodes.items() if node.missing
        }
        for edge in self.edges:
            if edge.target in found and edge.source not in found[edge.target]:
                found[edge.target].append(edge.source)
        return found

    def to_mermaid(self) -> str:
        """A Mermaid ``flowchart``: services as boxes, plugins as stadiums, modules as
        subroutines, each edge labelled with the dependency name.
        """
        ids = {node_id: f"n{index}" for index, node_id in enumerate(self.nodes)}
        lines = ["flowchart LR"]
        for node_id, node in self.nodes.items():
            label = _label(node).replace('"', "#quot;")
            opening, closing = {
                "service": ("[", "]"),
                "plugin": ("([", "])"),
                "module": ("[[", "]]"),
            }[node.kind]
            lines.append(f'    {ids[node_id]}{opening}"{label}"{closing}')
        for edge in self.edges:
            label = edge.label.replace('"', "#quot;").replace("|", "#124;")
            lines.append(f"    {ids[edge.source]} -->|{label}| {ids[edge.target]}")
        missing = [ids[node_id] for node_id in self.missing]
        if missing:
            lines.append("    classDef missing stroke:#d00,stroke-width:2px,stroke-dasharray:5 5")
            lines.append(f"    class {','.join(missing)} missing")
        return "\n".join(lines) + "\n"

    def to_dot(self) -> str:
        """A Graphviz ``digraph`` with the same content as :meth:`to_mermaid`."""
        shapes = {"service": "box", "plugin": "ellipse", "module": "component"}
        lines = ["digraph backstage {", "    rankdir=LR;"]
        for node_id, node in self.nodes.items():
            style = ", style=dashed, color=red" if node.missing else ""
            lines.append(
                f"    {json.dumps(node_id)} [label={json.dumps(_label(node))}, "
                f"shape={shapes[node.kind]}{style}];"
            )
        for edge in self.edges:
            lines.append(
                f"    {json.dumps(edge.source)} -> {json.dumps(edge.target)} "
                f"[label={json.dumps(edge.label)}];"
            )
        lines.append("}")
        return "\n".join(lines) + "\n"


def _label(node: GraphNode) -> str:
    if node.kind == "service":
        return f"{node.id} ({node.scope}){' (missing)' if node.missing else ''}"
    return node.id.replace(":", " ", 1)


def _service_node(ref: ErasedRef, *, missing: bool = False) -> GraphNode:
    return GraphNode(ref.id, "service", ref.scope, missing)


async def build_feature_graph(assembly: Assembly) -> FeatureGraph:
    """The graph of an assembled (not started) backend: every provided service with its
    factory's deps, every plugin and module with its init deps, services reached only through
    a ref's default factory, and the extension points linking modules. A dependency nobody
    serves is a node marked ``missing``.
    """
    graph = FeatureGraph()
    registry = assembly.registry
    pending: list[ErasedRef] = []

    def depend(source: str, name: str, ref: ErasedRef) -> None:
        if ref.id not in graph.nodes:
            pending.append(ref)
        graph.add_node(_service_node(ref, missing=not registry.can_resolve(ref)))
        graph.edges.append(GraphEdge(source, ref.id, name))

    for sid in registry.provided_ids():
        for factory in registry.provided_factories(sid):
            graph.add_node(_service_node(factory.service))
            for name, dep in factory.deps.items():
                depend(sid, name, dep)

    providers: dict[str, str] = {}
    for plugin_id, (_plugin, registration) in assembly.plugins.items():
        node_id = f"plugin:{plugin_id}"
        graph.add_node(GraphNode(node_id, "plugin"))
        for point, _impl in registration.extension_points:
            providers[point.id] = node_id
        for name, plugin_dep in registration.init.deps.items():
            if isinstance(plugin_dep, ServiceRef):
                depend(node_id, name, plugin_dep)
    for (plugin_id, module_id), (_module, registration) in assembly.modules.items():
        node_id = f"module:{plugin_id}/{module_id}"
        graph.add_node(GraphNode(node_id, "module"))
        for point, _impl in registration.extension_points:
            providers[point.id] = node_id
        if plugin_id in assembly.plugins:
            graph.edges.append(GraphEdge(node_id, f"plugin:{plugin_id}", "extends"))
    for (plugin_id, module_id), (_module, registration) in assembly.modules.items():
        node_id = f"module:{plugin_id}/{module_id}"
        for name, module_dep in registration.init.deps.items():
            if isinstance(module_dep, ServiceRef):
                depend(node_id, name, module_dep)
            elif isinstance(module_dep, ExtensionPoint) and module_dep.id in providers:
                graph.edges.append(GraphEdge(node_id, providers[module_dep.id], name))

    # Services nobody provides explicitly but whose refs carry a default factory.
    while pending:
        ref = pending.pop()
        if registry.provided_factories(ref.id):
            continue
        for factory in await registry.factories_for(ref):
            for name, dep in factory.deps.items():
                depend(ref.id, name, dep)
    return graph
