"""Whole-graph validation before anything starts: every problem is reported at once."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..api import ExtensionPoint, ServiceRef
from ..api._features import Registration
from ..api.errors import stringify_error
from ._assembly import Assembly
from ._graph import DependencyGraph
from ._types import PLUGIN_METADATA_ID, ROOT_PLUGIN_ID, ErasedRef

__all__ = ["ValidationReport", "module_graph", "validate"]

#: Extension point id -> (owning plugin id, registrant description, implementation).
ExtensionPoints = dict[str, tuple[str, str, object]]


@dataclass
class ValidationReport:
    """Problems that stop the start, and warnings that don't."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extension_points: ExtensionPoints = field(default_factory=dict)
    #: Modules skipped because their plugin is not installed: (plugin id, module id).
    orphan_modules: list[tuple[str, str]] = field(default_factory=list)


def module_graph(
    registrations: list[Registration], extension_points: ExtensionPoints
) -> DependencyGraph[str]:
    """The start order of one plugin's modules.

    Edges are reversed as in Backstage: a module that *provides* an extension point runs after
    every module that *consumes* it, so the provider sees all contributions before it finishes.
    """
    providers: dict[str, str] = {}
    for registration in registrations:
        for ep, _impl in registration.extension_points:
            owner = extension_points.get(ep.id)
            if owner is not None and owner[1] == registration.description:
                providers[ep.id] = registration.module_id or ""
    edges: dict[str, list[str]] = {r.module_id or "": [] for r in registrations}
    for registration in registrations:
        for dep in registration.init.deps.values():
            provider = providers.get(dep.id) if isinstance(dep, ExtensionPoint) else None
            if provider is not None and provider != registration.module_id:
                edges[provider].append(registration.module_id or "")
    return DependencyGraph(edges)


async def validate(assembly: Assembly) -> ValidationReport:
    """Check the assembled features; never raises, the report carries the problems."""
    report = ValidationReport()
    _check_extension_points(assembly, report)
    installed_modules: list[Registration] = []
    for (plugin_id, module_id), (_module, registration) in assembly.modules.items():
        if plugin_id in assembly.plugins:
            installed_modules.append(registration)
        else:
            report.orphan_modules.append((plugin_id, module_id))
            report.warnings.append(
                f"Module '{module_id}' for plugin '{plugin_id}' was skipped because plugin "
                f"'{plugin_id}' is not installed"
            )
    for _plugin, registration in assembly.plugins.values():
        _check_init_deps(assembly, registration, report)
    for registration in installed_modules:
        _check_init_deps(assembly, registration, report)
    for plugin_id in assembly.plugins:
        own = [r for r in installed_modules if r.plugin_id == plugin_id]
        for cycle in module_graph(own, report.extension_points).find_cycles():
            path = " -> ".join(f"'{m}'" for m in cycle)
            report.problems.append(
                f"Circular dependency detected for modules of plugin '{plugin_id}', {path}"
            )
    await _check_services(
        assembly, [r for _p, r in assembly.plugins.values()], installed_modules, report
    )
    return report


def _check_extension_points(assembly: Assembly, report: ValidationReport) -> None:
    registrations = [r for _p, r in assembly.plugins.values()]
    registrations += [r for _m, r in assembly.modules.values()]
    for registration in registrations:
        for ep, impl in registration.extension_points:
            existing = report.extension_points.get(ep.id)
            if existing is not None:
                report.problems.append(
                    f"ExtensionPoint with ID '{ep.id}' is already registered (by {existing[1]}, "
                    f"again by {registration.description})"
                )
                continue
            report.extension_points[ep.id] = (
                registration.plugin_id,
                registration.description,
                impl,
            )


def _check_init_deps(
    assembly: Assembly, registration: Registration, report: ValidationReport
) -> None:
    missing: list[str] = []
    for dep in registration.init.deps.values():
        if isinstance(dep, ExtensionPoint):
            owner = report.extension_points.get(dep.id)
            if registration.module_id is None:
                report.problems.append(
                    f"Rejected dependency on extension point {dep.id} from outside of a module "
                    f"(in plugin '{registration.plugin_id}')"
                )
            elif owner is None:
                missing.append(str(dep))
            elif owner[0] != registration.plugin_id:
                report.problems.append(
                    f"Illegal dependency: Module '{registration.module_id}' for plugin "
                    f"'{registration.plugin_id}' attempted to depend on extension point "
                    f"'{dep.id}' for plugin '{owner[0]}'. Extension points can only be used "
                    "within their plugin's scope."
                )
        elif not assembly.registry.can_resolve(dep):
            missing.append(str(dep))
    if missing:
        who = (
            f"plugin '{registration.plugin_id}'"
            if registration.module_id is None
            else f"module '{registration.module_id}' for plugin '{registration.plugin_id}'"
        )
        report.problems.append(
            f"Service or extension point dependencies of {who} are missing for the following "
            f"ref(s): {', '.join(missing)}"
        )


async def _check_services(
    assembly: Assembly,
    plugins: list[Registration],
    modules: list[Registration],
    report: ValidationReport,
) -> None:
    """Missing deps and scope violations of every factory that will be built; cycles of all."""
    registry = assembly.registry
    # (service ref, plugin id that first needs it; None for root-level needs)
    queue: deque[tuple[ErasedRef, str | None]] = deque()
    queue.extend((ref, None) for ref in registry.eager_services("root"))
    for ref in registry.eager_services("plugin"):
        queue.extend((ref, r.plugin_id) for r in plugins)
    for registration in [*plugins, *modules]:
        queue.extend(
            (dep, registration.plugin_id)
            for dep in registration.init.deps.values()
            if isinstance(dep, ServiceRef)
        )
    seen: set[str] = set()
    edges: dict[str, list[str]] = {}
    while queue:
        ref, plugin_id = queue.popleft()
        if ref.id in seen or ref.id == PLUGIN_METADATA_ID:
            continue
        seen.add(ref.id)
        try:
            factories = await registry.factories_for(ref)
        except Exception as error:
            report.problems.append(stringify_error(error))
            continue
        for factory in factories:
            edges.setdefault(ref.id, []).extend(dep.id for dep in factory.deps.values())
            owner = None if factory.service.scope == "root" else plugin_id
            missing = registry.missing_dependencies_problem(factory, owner or ROOT_PLUGIN_ID)
            if missing is not None:
                report.problems.append(missing)
            report.problems.extend(registry.root_scope_problems(factory))
            queue.extend((dep, owner) for dep in factory.deps.values())
    # Cycles among every provided factory (as Backstage checks), plus what defaults pulled in.
    for sid in registry.provided_ids():
        for factory in registry.provided_factories(sid):
            edges.setdefault(sid, []).extend(dep.id for dep in factory.deps.values())
    cycles = DependencyGraph(edges).find_cycles()
    if cycles:
        lines = "\n".join("  " + " -> ".join(f"'{n}'" for n in cycle) for cycle in cycles)
        report.problems.append(f"Circular dependencies detected:\n{lines}")
