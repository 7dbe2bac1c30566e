"""The live root config: current reader, reloads, subscribers, secret values.

Backstage's ``ObservableConfigProxy``: reads go to whichever config is current, views from
``get_config`` follow reloads, and ``subscribe`` callbacks run after every reload that changed
something.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import anyio

from backstage_runtime.api.services._json import JsonValue
from backstage_runtime.api.services.config import Config, RootConfigService

from ._reader import ConfigReader
from ._secrets import collect_secret_values
from ._source import ConfigSourceData
from ._unimplemented import unimplemented_key_warnings

__all__ = ["ErrorHandler", "RootConfig", "SourceLoader"]

_log: Final = logging.getLogger(__name__)

#: Reads every source afresh, lowest priority first; raises ConfigError when one is invalid.
SourceLoader = Callable[[], Sequence[ConfigSourceData]]
#: Receives an error that must not stop the caller (a failing subscriber or reload).
ErrorHandler = Callable[[BaseException], None]


@dataclass(frozen=True)
class _State:
    sources: tuple[ConfigSourceData, ...]
    reader: ConfigReader

    @classmethod
    def of(cls, sources: Sequence[ConfigSourceData]) -> _State:
        return cls(tuple(sources), ConfigReader.from_sources(sources))

    def same_as(self, other: _State) -> bool:
        return len(self.sources) == len(other.sources) and all(
            mine.same_content(theirs)
            for mine, theirs in zip(self.sources, other.sources, strict=True)
        )


class _Subscription:
    """Handle returned by :meth:`RootConfig.subscribe`."""

    def __init__(self, owner: RootConfig, on_change: Callable[[], None]) -> None:
        self._owner = owner
        self._on_change = on_change

    def unsubscribe(self) -> None:
        """Stop calling the callback; calling this twice is harmless."""
        self._owner._remove_subscriber(self._on_change)


class _ReadsThroughSelect:
    """The Config API, answered by whichever reader :meth:`_select` gives right now."""

    def _select(self, required: bool) -> ConfigReader | None:
        raise NotImplementedError

    def _required(self) -> ConfigReader:
        reader = self._select(True)
        assert reader is not None
        return reader

    def _root(self) -> RootConfig:
        raise NotImplementedError

    def has(self, key: str) -> bool:
        """Whether a value exists at ``key`` (a ``null`` is none, and hides lower sources)."""
        reader = self._select(False)
        return reader.has(key) if reader is not None else False

    def keys(self) -> list[str]:
        """The keys of this object, across all sources."""
        reader = self._select(False)
        return reader.keys() if reader is not None else []

    def get(self, key: str | None = None) -> JsonValue:
        """The value at ``key`` (the whole object when None); raises if missing."""
        return self._required().get(key)

    def get_optional(self, key: str | None = None) -> JsonValue | None:
        """The value at ``key``, or None."""
        reader = self._select(False)
        return reader.get_optional(key) if reader is not None else None

    def get_config(self, key: str) -> Config:
        """A live view of the object at ``key``; raises if missing or not an object."""
        self._required().get_config(key)  # fail now rather than at the first read
        return _ConfigView(self, key)

    def get_optional_config(self, key: str) -> Config | None:
        """A live view of the object at ``key``, or None."""
        reader = self._select(False)
        if reader is None or reader.get_optional_config(key) is None:
            return None
        return _ConfigView(self, key)

    def get_config_array(self, key: str) -> list[Config]:
        """Readers for the objects in the array at ``key`` (a snapshot); raises if missing."""
        return list(self._required().get_config_array(key))

    def get_optional_config_array(self, key: str) -> list[Config] | None:
        """Readers for the objects in the array at ``key`` (a snapshot), or None."""
        reader = self._select(False)
        readers = reader.get_optional_config_array(key) if reader is not None else None
        return None if readers is None else list(readers)

    def get_number(self, key: str) -> float:
        """The number at ``key``; raises if missing."""
        return self._required().get_number(key)

    def get_optional_number(self, key: str) -> float | None:
        """The number at ``key``, or None."""
        reader = self._select(False)
        return reader.get_optional_number(key) if reader is not None else None

    def get_boolean(self, key: str) -> bool:
        """The boolean at ``key``; raises if missing."""
        return self._required().get_boolean(key)

    def get_optional_boolean(self, key: str) -> bool | None:
        """The boolean at ``key``, or None."""
        reader = self._select(False)
        return reader.get_optional_boolean(key) if reader is not None else None

    def get_string(self, key: str) -> str:
        """The non-empty string at ``key``; raises if missing."""
        return self._required().get_string(key)

    def get_optional_string(self, key: str) -> str | None:
        """The non-empty string at ``key``, or None."""
        reader = self._select(False)
        return reader.get_optional_string(key) if reader is not None else None

    def get_string_array(self, key: str) -> list[str]:
        """The strings at ``key``; raises if missing."""
        return self._required().get_string_array(key)

    def get_optional_string_array(self, key: str) -> list[str] | None:
        """The strings at ``key``, or None."""
        reader = self._select(False)
        return reader.get_optional_string_array(key) if reader is not None else None

    def subscribe(self, on_change: Callable[[], None]) -> _Subscription:
        """Call ``on_change`` after every reload that changed the configuration."""
        return self._root().subscribe(on_change)


class _ConfigView(_ReadsThroughSelect):
    """The object at ``key`` under ``parent``, re-selected on every read so it follows reloads."""

    def __init__(self, parent: _ReadsThroughSelect, key: str) -> None:
        self._parent = parent
        self._key = key

    def _select(self, required: bool) -> ConfigReader | None:
        if required:
            return self._parent._required().get_config(self._key)
        parent = self._parent._select(False)
        return parent.get_optional_config(self._key) if parent is not None else None

    def _root(self) -> RootConfig:
        return self._parent._root()


class RootConfig(_ReadsThroughSelect):
    """The ``core.rootConfig`` implementation: Backstage's config reader, reloadable.

    Build with :func:`load_config` (files and environment) or :func:`create_config_from_data`.
    """

    def __init__(
        self,
        sources: Sequence[ConfigSourceData],
        loader: SourceLoader | None = None,
        *,
        on_error: ErrorHandler | None = None,
    ) -> None:
        self._state = _State.of(sources)
        self._loader = loader
        self._on_error = on_error
        self._subscribers: list[Callable[[], None]] = []

    def _select(self, required: bool) -> ConfigReader | None:
        return self._state.reader

    def _root(self) -> RootConfig:
        return self

    @property
    def sources(self) -> tuple[ConfigSourceData, ...]:
        """The sources of the current config, lowest priority first."""
        return self._state.sources

    @property
    def reader(self) -> ConfigReader:
        """The current (immutable) reader; it does not follow later reloads."""
        return self._state.reader

    def secret_values(self) -> list[str]:
        """Strings to redact from logs; our stand-in for Backstage's ``@visibility secret``.

        Backstage marks secrets in the config schema of each plugin; we have no schemas, so we
        treat as secret every string that came from the environment (``${VAR}``, ``$env``, an
        ``APP_CONFIG_`` variable) or from ``$file``, plus every value under a key whose last
        segment looks secret (contains ``password``, ``secret``, ``token``, ``privatekey``,
        ``apikey``, ``clientsecret``, or is ``key``; case-insensitive). Values of one character
        or less are left out. Longest first, so that a redactor replacing them in order never
        leaves part of a longer secret behind.
        """
        return collect_secret_values(self._state.sources)

    def startup_warnings(self) -> list[str]:
        """What the backend should warn about once at start, one message a line.

        Today: each config key set here that Backstage's backend reads but backstage-runtime
        does not implement, with where it was set. The initializer logs these through the root
        logger (which cannot exist yet while the config is being built).
        """
        return unimplemented_key_warnings(self._state.sources)

    def subscribe(self, on_change: Callable[[], None]) -> _Subscription:
        """Call ``on_change`` after every reload that changed the configuration."""
        self._subscribers.append(on_change)
        return _Subscription(self, on_change)

    def _remove_subscriber(self, on_change: Callable[[], None]) -> None:
        for index, subscriber in enumerate(self._subscribers):
            if subscriber is on_change:
                del self._subscribers[index]
                return

    def set_sources(
        self, sources: Sequence[ConfigSourceData], *, on_error: ErrorHandler | None = None
    ) -> None:
        """Switch to ``sources`` and notify every subscriber, changed or not.

        Backstage's ``ObservableConfigProxy.setConfig``: for config that something other than
        the loader decides (a test's ``mock_services.root_config().update(...)``). Subscriber
        errors go where :meth:`reload` sends them.
        """
        self._state = _State.of(sources)
        self._notify(on_error)

    def reload(self, *, on_error: ErrorHandler | None = None) -> bool:
        """Read the sources again; if the result differs, switch to it and notify subscribers.

        Returns whether the config changed. Raises :class:`ConfigError` when a source is invalid
        (the current config is kept). A subscriber that raises does not stop the others; its
        error goes to ``on_error`` (or the one given at construction, else the ``logging``
        module, as Backstage's ``console.error``).
        """
        if self._loader is None:
            return False
        return self._apply(_State.of(self._loader()), on_error)

    async def run_reload_loop(
        self, interval_seconds: float, *, on_error: ErrorHandler | None = None
    ) -> None:
        """Reload every ``interval_seconds`` until cancelled.

        Files are read in a worker thread; subscribers run in the caller's event loop. A failed
        reload keeps the current config and hands the error to ``on_error``.
        """
        if self._loader is None:
            return
        loader = self._loader
        while True:
            await anyio.sleep(interval_seconds)
            try:
                sources = await anyio.to_thread.run_sync(loader)
            except Exception as error:
                self._report(error, on_error, "Failed to reload config")
                continue
            self._apply(_State.of(sources), on_error)

    def _apply(self, state: _State, on_error: ErrorHandler | None) -> bool:
        if state.same_as(self._state):
            return False
        self._state = state
        self._notify(on_error)
        return True

    def _notify(self, on_error: ErrorHandler | None) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber()
            except Exception as error:
                self._report(error, on_error, "Config subscriber threw error")

    def _report(self, error: Exception, on_error: ErrorHandler | None, what: str) -> None:
        handler = on_error or self._on_error
        if handler is not None:
            handler(error)
        else:
            _log.error("%s, %s", what, error)


def _conforms(config: RootConfig) -> RootConfigService:
    # Lets mypy prove the implementation satisfies the protocol.
    return config
