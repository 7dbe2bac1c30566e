"""Features advertised by installed distributions in the ``backstage_runtime.features`` group."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from ..api import (
    BackendFeature,
    BackendFeatureLoader,
    BackendModule,
    BackendPlugin,
    Config,
    ServiceFactory,
    core_services,
    create_backend_feature_loader,
)
from ..api.errors import BackstageError, ConfigError

__all__ = [
    "ENTRY_POINT_GROUP",
    "DiscoveredFeature",
    "EntryPointError",
    "EntryPointScan",
    "PackageFilter",
    "discover_features",
    "discovery_feature_loader",
    "scan_entry_points",
]

ENTRY_POINT_GROUP = "backstage_runtime.features"

_FEATURE_TYPES = (ServiceFactory, BackendPlugin, BackendModule, BackendFeatureLoader)


class EntryPointError(BackstageError):
    """An entry point could not be loaded or does not name a feature; the message names the
    distribution and the entry.
    """

    name = "EntryPointError"


@dataclass(frozen=True)
class DiscoveredFeature:
    """A feature found through an entry point."""

    feature: BackendFeature
    entry_name: str
    entry_value: str
    distribution: str

    @property
    def label(self) -> str:
        """``entry point 'name' of distribution 'dist'``, for error messages."""
        return f"entry point '{self.entry_name}' of distribution '{self.distribution}'"


def _normalize(name: str) -> str:
    # PEP 503 normalisation, so "My_Plugin" in config matches the distribution "my-plugin".
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PackageFilter:
    """``backend.packages``: ``all`` or ``{include: [...], exclude: [...]}``.

    Entries match a distribution name (normalised) or an entry point name.
    """

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: Config | None) -> PackageFilter:
        """Read ``backend.packages``; unset means every discovered feature."""
        if config is None or not config.has("backend.packages"):
            return cls()
        value = config.get("backend.packages")
        if value == "all":
            return cls()
        if not isinstance(value, dict):
            raise ConfigError(
                "Invalid config at 'backend.packages', expected 'all' or an object with "
                f"'include' and/or 'exclude' lists, got {value!r}"
            )
        unknown = sorted(set(value) - {"include", "exclude"})
        if unknown:
            raise ConfigError(
                f"Invalid key(s) {', '.join(unknown)} in 'backend.packages', expected "
                "'include' and/or 'exclude'"
            )
        include = config.get_optional_string_array("backend.packages.include")
        exclude = config.get_optional_string_array("backend.packages.exclude") or []
        return cls(
            include=None if include is None else frozenset(_normalize(i) for i in include),
            exclude=frozenset(_normalize(e) for e in exclude),
        )

    def allows(self, distribution: str, entry_name: str) -> bool:
        """Whether the entry ``entry_name`` of ``distribution`` is loaded."""
        names = {_normalize(distribution), _normalize(entry_name)}
        if names & self.exclude:
            return False
        return self.include is None or bool(names & self.include)


def _entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


@dataclass(frozen=True)
class EntryPointScan:
    """One entry point of the group as :func:`scan_entry_points` found it.

    ``excluded`` entries (by ``backend.packages``) are never loaded; for the others either
    ``features`` holds what the entry names or ``error`` says in one line why it could not be used.
    """

    entry_name: str
    entry_value: str
    distribution: str
    excluded: bool
    features: tuple[BackendFeature, ...] = ()
    error: str | None = None

    @property
    def where(self) -> str:
        """``entry point 'name = value' of distribution 'dist'``, for messages."""
        return (
            f"entry point '{self.entry_name} = {self.entry_value}' of distribution "
            f"'{self.distribution}'"
        )


def scan_entry_points(
    package_filter: PackageFilter, *, group_entries: Iterable[EntryPoint] | None = None
) -> list[EntryPointScan]:
    """Every entry point of the group, sorted by distribution and name, loaded unless
    ``package_filter`` excludes it; a broken one is reported in its row instead of raising.
    """
    eps = sorted(
        _entry_points() if group_entries is None else group_entries,
        key=lambda e: (_dist_name(e), e.name),
    )
    scans: list[EntryPointScan] = []
    for ep in eps:
        dist = _dist_name(ep)
        if not package_filter.allows(dist, ep.name):
            scans.append(EntryPointScan(ep.name, ep.value, dist, excluded=True))
            continue
        where = f"entry point '{ep.name} = {ep.value}' of distribution '{dist}'"
        try:
            loaded = ep.load()
        except Exception as error:
            message = f"Failed to load {where}: {type(error).__name__}: {error}"
            scans.append(EntryPointScan(ep.name, ep.value, dist, excluded=False, error=message))
            continue
        items = _as_features(loaded)
        if items is None:
            message = (
                f"The {where} is not a backend feature (a service factory, plugin, module or "
                f"feature loader) nor a list of them, it is {type(loaded).__name__}"
            )
            scans.append(EntryPointScan(ep.name, ep.value, dist, excluded=False, error=message))
            continue
        scans.append(EntryPointScan(ep.name, ep.value, dist, excluded=False, features=tuple(items)))
    return scans


def discover_features(
    config: Config | None = None, *, group_entries: Iterable[EntryPoint] | None = None
) -> list[DiscoveredFeature]:
    """Load the features advertised by installed distributions, filtered by ``backend.packages``.

    Each entry point must resolve to a feature or an iterable of features. Every broken entry
    point is reported in one :class:`EntryPointError` naming distribution and entry.
    """
    scans = scan_entry_points(PackageFilter.from_config(config), group_entries=group_entries)
    problems = [scan.error for scan in scans if scan.error is not None]
    if problems:
        raise EntryPointError("\n".join(problems))
    return [
        DiscoveredFeature(item, scan.entry_name, scan.entry_value, scan.distribution)
        for scan in scans
        for item in scan.features
    ]


def _as_features(value: object) -> list[BackendFeature] | None:
    if isinstance(value, _FEATURE_TYPES):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(v, _FEATURE_TYPES) for v in value):
        return list(value)
    return None


def _dist_name(ep: EntryPoint) -> str:
    dist = ep.dist
    return dist.metadata["Name"] if dist is not None else "<unknown distribution>"


def discovery_feature_loader() -> BackendFeatureLoader:
    """A feature loader that adds every discovered feature, honouring ``backend.packages``
    (our counterpart of Backstage's ``discoveryFeatureLoader``).
    """

    def load(*, config: Config) -> list[BackendFeature]:
        return [found.feature for found in discover_features(config)]

    return create_backend_feature_loader(
        deps={"config": core_services.root_config},
        loader=load,
        description=f"for the '{ENTRY_POINT_GROUP}' entry points",
    )
