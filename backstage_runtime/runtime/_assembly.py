"""Turns the features added to a backend into factories and registrations, collecting problems.

Backstage stops at the first problem; we collect every one so a single start attempt reports them
all (DESIGN.md lists this difference).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field

from ..api import (
    BackendFeatureLoader,
    BackendModule,
    BackendPlugin,
    ServiceFactory,
)
from ..api._features import Registration
from ..api.errors import stringify_error
from ._registry import ServiceRegistry
from ._resolver import ServiceResolver
from ._types import PLUGIN_METADATA_ID, ErasedFactory

__all__ = ["Assembly", "AddedFeature", "describe_kind"]


@dataclass(frozen=True)
class AddedFeature:
    """A feature and a label saying where it came from, for error messages."""

    feature: object
    label: str


def describe_kind(value: object) -> str:
    """Backstage's wording for what an invalid feature was."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"a string {value!r}"
    if isinstance(value, bool | int | float):
        return f"a number {value!r}" if not isinstance(value, bool) else f"a boolean {value!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if inspect.isfunction(value) or inspect.ismethod(value):
        return f"a function {getattr(value, '__qualname__', value)!r}"
    if inspect.ismodule(value):
        return f"a module {value.__name__!r}"
    return f"an object of type {type(value).__name__}"


@dataclass
class Assembly:
    """Everything a start needs, gathered from defaults, added features and loaders."""

    registry: ServiceRegistry
    services: ServiceResolver
    plugins: dict[str, tuple[BackendPlugin, Registration]] = field(default_factory=dict)
    modules: dict[tuple[str, str], tuple[BackendModule, Registration]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    _explicit_ids: set[str] = field(default_factory=set)
    _loader_owner: dict[str, BackendFeatureLoader] = field(default_factory=dict)
    _plugin_features: list[AddedFeature] = field(default_factory=list)

    @classmethod
    def create(
        cls, defaults: Iterable[ErasedFactory], added: Iterable[AddedFeature]
    ) -> tuple[Assembly, list[AddedFeature]]:
        """Install default and explicitly added factories; return the loaders still to run."""
        registry = ServiceRegistry()
        assembly = cls(registry=registry, services=ServiceResolver(registry))
        by_id: dict[str, list[ErasedFactory]] = {}
        for factory in defaults:
            by_id.setdefault(factory.service.id, []).append(factory)
        explicit: dict[str, list[ErasedFactory]] = {}
        loaders: list[AddedFeature] = []
        for item in added:
            feature = item.feature
            if isinstance(feature, ServiceFactory):
                sid = feature.service.id
                if sid == PLUGIN_METADATA_ID:
                    assembly.problems.append(
                        f"The {PLUGIN_METADATA_ID} service cannot be overridden ({item.label})"
                    )
                elif sid in explicit and not feature.service.multiton:
                    assembly.problems.append(
                        f"Duplicate service implementations provided for {sid} "
                        f"({explicit[sid][0].source} and {feature.source})"
                    )
                else:
                    explicit.setdefault(sid, []).append(feature)
            elif isinstance(feature, BackendPlugin | BackendModule):
                assembly._plugin_features.append(item)
            elif isinstance(feature, BackendFeatureLoader):
                loaders.append(item)
            else:
                assembly.problems.append(
                    f"Invalid backend feature at {item.label}, expected a service factory, "
                    f"plugin, module or feature loader, received {describe_kind(feature)}"
                )
        for sid, factories in explicit.items():
            if factories[0].service.multiton:
                by_id[sid] = [*by_id.get(sid, []), *factories]
            else:
                by_id[sid] = factories
            assembly._explicit_ids.add(sid)
        for sid, factories in by_id.items():
            assembly.registry.set_factories(sid, factories)
        return assembly, loaders

    async def run_loader(self, item: AddedFeature) -> None:
        """Run one feature loader and absorb what it returns, nested loaders depth-first.

        The loader's own failure is recorded as a problem; a dependency that fails to build
        raises its own error.
        """
        loader = item.feature
        assert isinstance(loader, BackendFeatureLoader)
        bad_scope = [
            (name, ref)
            for name, ref in loader.deps.items()
            if ref.scope != "root" or ref.id == PLUGIN_METADATA_ID
        ]
        for name, ref in bad_scope:
            self.problems.append(
                f"Feature loaders can only depend on root scoped services, but '{name}' is scoped "
                f"to '{ref.scope}'. Offending loader is {loader}"
            )
        if bad_scope:
            return
        missing = [ref for ref in loader.deps.values() if not self.registry.can_resolve(ref)]
        if missing:
            refs = ", ".join(str(ref) for ref in missing)
            self.problems.append(
                f"No service available for the following ref(s): {refs}, depended on by "
                f"feature loader {loader}"
            )
            return
        # Outside the try: a root service that fails to build (the config's YAML, say) is that
        # service's error, raised as is, as Backstage does; it is not the loader's failure.
        deps = {name: await self.services.get(ref, None) for name, ref in loader.deps.items()}
        try:
            items = await _collect(loader.loader(**deps))
        except Exception as error:
            self.problems.append(
                f"Feature loader {loader} failed; caused by {stringify_error(error)}"
            )
            return
        for index, produced in enumerate(items):
            label = f"feature loader {loader} -> loader output[{index}]"
            if isinstance(produced, ServiceFactory):
                self._add_loader_factory(produced, loader)
            elif isinstance(produced, BackendFeatureLoader):
                await self.run_loader(AddedFeature(produced, label))
            elif isinstance(produced, BackendPlugin | BackendModule):
                self._plugin_features.append(AddedFeature(produced, label))
            else:
                self.problems.append(
                    f"Invalid backend feature at {label}, expected a service factory, plugin, "
                    f"module or feature loader, received {describe_kind(produced)}"
                )

    def _add_loader_factory(self, factory: ErasedFactory, loader: BackendFeatureLoader) -> None:
        sid = factory.service.id
        if sid == PLUGIN_METADATA_ID:
            self.problems.append(
                f"The {PLUGIN_METADATA_ID} service cannot be overridden (feature loader {loader})"
            )
            return
        if factory.service.multiton:
            self._set(sid, [*self.registry.provided_factories(sid), factory])
            return
        if sid in self._explicit_ids:
            return  # an explicitly added factory wins over a loader's, as in Backstage
        owner = self._loader_owner.get(sid)
        if owner is not None:
            self.problems.append(
                f"Duplicate service implementations provided for {sid} by both feature loader "
                f"{owner} and feature loader {loader}"
            )
            return
        self._loader_owner[sid] = loader
        self._set(sid, [factory])

    def _set(self, sid: str, factories: list[ErasedFactory]) -> None:
        try:
            self.registry.set_factories(sid, factories)
        except Exception as error:
            self.problems.append(str(error))

    def collect_registrations(self) -> None:
        """Run every plugin's and module's ``register`` and record duplicates as problems."""
        for item in self._plugin_features:
            feature = item.feature
            assert isinstance(feature, BackendPlugin | BackendModule)
            try:
                registration = feature.get_registration()
            except Exception as error:
                self.problems.append(
                    f"register of {feature} ({feature.source}) failed; caused by "
                    f"{stringify_error(error)}"
                )
                continue
            if isinstance(feature, BackendPlugin):
                existing = self.plugins.get(feature.plugin_id)
                if existing is not None:
                    self.problems.append(
                        f"Plugin '{feature.plugin_id}' is already registered (first by "
                        f"{existing[0].source}, again by {feature.source})"
                    )
                    continue
                self.plugins[feature.plugin_id] = (feature, registration)
            else:
                key = (feature.plugin_id, feature.module_id)
                existing_module = self.modules.get(key)
                if existing_module is not None:
                    self.problems.append(
                        f"Module '{feature.module_id}' for plugin '{feature.plugin_id}' is already "
                        f"registered (first by {existing_module[0].source}, again by "
                        f"{feature.source})"
                    )
                    continue
                self.modules[key] = (feature, registration)


async def _collect(result: object) -> list[object]:
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, AsyncIterable):
        return [item async for item in result]
    if isinstance(result, Iterable) and not isinstance(result, str | bytes):
        return list(result)
    raise TypeError(f"a feature loader must return an iterable of features, got {result!r}")
