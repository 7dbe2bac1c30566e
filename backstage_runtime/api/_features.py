"""Plugins, modules and feature loaders: the features a backend is assembled from."""

from __future__ import annotations

import re
import warnings
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, TypeAlias, TypeVar

from ._factories import ServiceFactory
from ._refs import ExtensionPoint, ServiceRef
from ._source import caller_location
from .errors import BackstageError

__all__ = [
    "BackendFeature",
    "BackendFeatureLoader",
    "BackendModule",
    "BackendPlugin",
    "InitRegistration",
    "ModuleRegistrationPoints",
    "PluginRegistrationPoints",
    "Registration",
    "RegistrationError",
    "create_backend_feature_loader",
    "create_backend_module",
    "create_backend_plugin",
]

T = TypeVar("T")

InitFunction = Callable[..., Awaitable[None] | None]

# Backstage's preferred id form, and the older one that also allows "_" (accepted with a warning).
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", re.IGNORECASE)
_LEGACY_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$", re.IGNORECASE)


class RegistrationError(BackstageError, ValueError):
    """A plugin or module was declared wrongly (an invalid id), or its ``register`` callback used
    the registration API wrongly.

    A :class:`ValueError` too, as it was before every error got :class:`BackstageError` as base,
    so ``except ValueError`` in existing code still catches it.
    """

    name = "RegistrationError"


class PluginRegistrationPoints(Protocol):
    """What a plugin's ``register`` callback receives."""

    def register_extension_point(self, extension_point: ExtensionPoint[T], impl: T) -> None:
        """Offer ``impl`` to this plugin's modules under ``extension_point``."""

    def register_init(self, *, deps: Mapping[str, ServiceRef[Any]], init: InitFunction) -> None:
        """Register the init function; it receives ``deps`` as keyword arguments.

        The type checker sees ``init`` as a callable returning ``None`` (or an awaitable of it),
        and that ``deps`` holds service refs (not extension points: those are for modules). It
        cannot link a dep's name to the parameter of that name, so annotate each parameter with
        its ref's type (``logger: LoggerService`` for ``"logger": core_services.logger``).
        """


class ModuleRegistrationPoints(Protocol):
    """What a module's ``register`` callback receives; modules may depend on extension points."""

    def register_extension_point(self, extension_point: ExtensionPoint[T], impl: T) -> None:
        """Offer ``impl`` to the other modules of the same plugin."""

    def register_init(
        self,
        *,
        deps: Mapping[str, ServiceRef[Any] | ExtensionPoint[Any]],
        init: InitFunction,
    ) -> None:
        """Register the init function; it receives ``deps`` as keyword arguments.

        As for plugins, the type checker cannot link a dep's name to the parameter of that name:
        annotate each parameter with its ref's or extension point's type.
        """


@dataclass(frozen=True)
class InitRegistration:
    """An init function and the deps it receives as keyword arguments."""

    deps: Mapping[str, ServiceRef[Any] | ExtensionPoint[Any]]
    func: InitFunction


@dataclass(frozen=True)
class Registration:
    """What a plugin's or module's ``register`` produced; ``module_id`` is None for a plugin."""

    plugin_id: str
    module_id: str | None
    extension_points: tuple[tuple[ExtensionPoint[Any], Any], ...]
    init: InitRegistration

    @property
    def description(self) -> str:
        """``plugin 'p'`` or ``module 'm' for plugin 'p'``, as used in error messages."""
        if self.module_id is None:
            return f"plugin '{self.plugin_id}'"
        return f"module '{self.module_id}' for plugin '{self.plugin_id}'"


class _Registrar:
    """Collects one ``register`` call's registrations and enforces Backstage's ordering rules."""

    def __init__(self, plugin_id: str, module_id: str | None) -> None:
        self._plugin_id = plugin_id
        self._module_id = module_id
        self._extension_points: list[tuple[ExtensionPoint[Any], Any]] = []
        self._init: InitRegistration | None = None

    def register_extension_point(self, extension_point: ExtensionPoint[Any], impl: Any) -> None:
        if self._init is not None:
            raise RegistrationError("register_extension_point called after register_init")
        if not isinstance(extension_point, ExtensionPoint):
            raise RegistrationError(
                f"register_extension_point expects an ExtensionPoint, got {extension_point!r}"
            )
        self._extension_points.append((extension_point, impl))

    def register_init(
        self, *, deps: Mapping[str, ServiceRef[Any] | ExtensionPoint[Any]], init: InitFunction
    ) -> None:
        if self._init is not None:
            raise RegistrationError("register_init must only be called once")
        for name, ref in deps.items():
            if not isinstance(ref, ServiceRef | ExtensionPoint):
                raise RegistrationError(
                    f"Dependency '{name}' is neither a service ref nor an extension point: {ref!r}"
                )
            if not name.isidentifier():
                raise RegistrationError(
                    f"Dependency name '{name}' is not a valid Python identifier; deps are passed "
                    "to init as keyword arguments"
                )
        if not callable(init):
            raise RegistrationError(f"init must be callable, got {init!r}")
        self._init = InitRegistration(deps=MappingProxyType(dict(deps)), func=init)

    def finish(self) -> Registration:
        if self._init is None:
            where = (
                self._plugin_id
                if self._module_id is None
                else f"{self._module_id} module for {self._plugin_id}"
            )
            raise RegistrationError(f"register_init was not called by register in {where}")
        return Registration(
            plugin_id=self._plugin_id,
            module_id=self._module_id,
            extension_points=tuple(self._extension_points),
            init=self._init,
        )


@dataclass(frozen=True, eq=False)
class BackendPlugin:
    """A backend plugin: one id, one init, optional extension points for its modules."""

    plugin_id: str
    register: Callable[[PluginRegistrationPoints], None]
    source: str = field(default="", compare=False)

    def get_registration(self) -> Registration:
        """Run ``register`` and return what it registered; raises :class:`RegistrationError`."""
        registrar = _Registrar(self.plugin_id, None)
        self.register(registrar)
        return registrar.finish()

    def __str__(self) -> str:
        return f"plugin '{self.plugin_id}'"


@dataclass(frozen=True, eq=False)
class BackendModule:
    """A module that extends the plugin ``plugin_id`` through its extension points."""

    plugin_id: str
    module_id: str
    register: Callable[[ModuleRegistrationPoints], None]
    source: str = field(default="", compare=False)

    def get_registration(self) -> Registration:
        """Run ``register`` and return what it registered; raises :class:`RegistrationError`."""
        registrar = _Registrar(self.plugin_id, self.module_id)
        self.register(registrar)
        return registrar.finish()

    def __str__(self) -> str:
        return f"module '{self.module_id}' for plugin '{self.plugin_id}'"


@dataclass(frozen=True, eq=False)
class BackendFeatureLoader:
    """Produces more features at start, optionally using root-scoped services."""

    deps: Mapping[str, ServiceRef[Any]]
    loader: Callable[..., Any]
    source: str = field(default="", compare=False)
    #: How errors name this loader; Backstage's form ``created at '<file:line>'`` by default.
    description: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.description or f"created at '{self.source}'"


#: Anything :meth:`backstage_runtime.Backend.add` accepts: a service factory, a plugin, a module
#: or a feature loader.
BackendFeature: TypeAlias = (
    ServiceFactory[Any] | BackendPlugin | BackendModule | BackendFeatureLoader
)


def _check_id(kind: str, value: str, suffix: str = "") -> None:
    if not isinstance(value, str) or not _LEGACY_ID_PATTERN.match(value):
        raise RegistrationError(
            f"Invalid {kind} '{value}'{suffix}, must match the pattern "
            f"{_ID_PATTERN.pattern} (letters, digits and dashes, starting with a letter)"
        )
    if not _ID_PATTERN.match(value):
        warnings.warn(
            f"The {kind} '{value}'{suffix} uses '_'; Backstage prefers dash-separated ids",
            stacklevel=3,
        )


def create_backend_plugin(
    *, plugin_id: str, register: Callable[[PluginRegistrationPoints], None]
) -> BackendPlugin:
    """Create a backend plugin.

    ``register(env)`` runs when the backend starts; it calls
    ``env.register_init(deps=..., init=...)`` exactly once and may first offer extension points
    with ``env.register_extension_point``.
    Raises :class:`RegistrationError` (a :class:`ValueError`) for an invalid plugin id.
    """
    _check_id("pluginId", plugin_id)
    return BackendPlugin(plugin_id=plugin_id, register=register, source=caller_location())


def create_backend_module(
    *, plugin_id: str, module_id: str, register: Callable[[ModuleRegistrationPoints], None]
) -> BackendModule:
    """Create a module for the plugin ``plugin_id``.

    Its init may depend on that plugin's extension points as well as on services; it runs before
    the plugin's own init. Raises :class:`RegistrationError` (a :class:`ValueError`) for
    invalid ids.
    """
    _check_id("pluginId", plugin_id)
    _check_id("moduleId", module_id, f" for plugin '{plugin_id}'")
    return BackendModule(
        plugin_id=plugin_id, module_id=module_id, register=register, source=caller_location()
    )


def create_backend_feature_loader(
    *,
    loader: Callable[..., Any],
    deps: Mapping[str, ServiceRef[Any]] | None = None,
    description: str | None = None,
) -> BackendFeatureLoader:
    """Create a feature loader.

    ``loader(**deps)`` returns features as an iterable, an async iterable, or an awaitable of an
    iterable; it runs once at start. ``deps`` must be root-scoped (checked at start).
    ``description`` names the loader in errors (default: ``created at '<file:line>'``).
    """
    return BackendFeatureLoader(
        deps=MappingProxyType(dict(deps or {})),
        loader=loader,
        source=caller_location(),
        description=description or "",
    )
