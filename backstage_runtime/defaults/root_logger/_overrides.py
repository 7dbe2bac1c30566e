"""Per-entry level overrides (``backend.logger.overrides``) and the level filter using them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ...api.errors import ConfigError
from ...api.services.config import Config
from ._levels import LEVELS, parse_level

__all__ = ["LevelFilter", "LevelOverride", "read_level_overrides"]

_MISSING: Any = object()

# JavaScript RegExp flags that change what ``test()`` answers, and their Python equivalents.
# ``g``, ``u``, ``d`` and ``v`` do not change a single ``test()`` on a fresh RegExp; ``y``
# (sticky) anchors the match at the start, which is ``re.match``.
_JS_FLAGS: Mapping[str, int] = {
    "i": re.IGNORECASE,
    "m": re.MULTILINE,
    "s": re.DOTALL,
    "g": 0,
    "u": 0,
    "d": 0,
    "v": 0,
    "y": 0,
}


@dataclass(frozen=True)
class LevelOverride:
    """One entry of ``backend.logger.overrides``.

    An entry whose fields match every matcher is kept iff its level is at least as severe as
    ``level``. A matcher is a scalar (strict equality), a ``/pattern/flags`` string (a regular
    expression tested against string fields only) or a list (any of its matchers).
    """

    matchers: Mapping[str, Any]
    level: str


Predicate = Callable[[Mapping[str, Any]], bool]


def _parse_regex(text: str) -> re.Pattern[str] | None:
    """The regex of a ``/pattern/flags`` string, or None when ``text`` is not one.

    Invalid patterns or flags fall back to plain string equality, as Backstage does.
    """
    if not text.startswith("/"):
        return None
    last = text.rfind("/")
    if last <= 0:
        return None
    pattern, flags = text[1:last], text[last + 1 :]
    if len(set(flags)) != len(flags) or any(flag not in _JS_FLAGS for flag in flags):
        return None
    options = 0
    for flag in flags:
        options |= _JS_FLAGS[flag]
    if "y" in flags:
        # Sticky: the match must start at index 0; ``\A`` gives that with ``search``.
        pattern = rf"\A(?:{pattern})"
    try:
        return re.compile(pattern, options)
    except re.error:
        return None


def _strict_equal(field_value: Any, matcher: Any) -> bool:
    """JavaScript's ``===`` between a log field and a config scalar."""
    if field_value is _MISSING:
        return False
    # In Python True == 1, which would let a boolean matcher hit numbers; JavaScript's === doesn't.
    if isinstance(field_value, bool) or isinstance(matcher, bool):
        return type(field_value) is type(matcher) and field_value == matcher
    if isinstance(field_value, int | float) and isinstance(matcher, int | float):
        return field_value == matcher
    if isinstance(field_value, str) and isinstance(matcher, str):
        return field_value == matcher
    # Objects compare by identity in JavaScript, so a config object never equals a log field.
    return field_value is None and matcher is None


def _field_matcher(matcher: Any) -> Callable[[Any], bool]:
    if isinstance(matcher, list | tuple):
        alternatives = [_field_matcher(item) for item in matcher]
        return lambda value: any(test(value) for test in alternatives)
    if isinstance(matcher, str):
        regex = _parse_regex(matcher)
        if regex is not None:
            return lambda value: isinstance(value, str) and regex.search(value) is not None
    return lambda value: _strict_equal(value, matcher)


def _entry_matcher(matchers: Mapping[str, Any]) -> Predicate:
    tests = [(key, _field_matcher(matcher)) for key, matcher in matchers.items()]
    return lambda entry: all(test(entry.get(key, _MISSING)) for key, test in tests)


@dataclass
class LevelFilter:
    """Decides whether an entry is written: the first matching override, else the global level.

    Shared by a root logger and all its children, so :meth:`set_overrides` (a config reload)
    applies to every logger at once.
    """

    level: str
    #: The least severe rank that the global level or any override admits: an entry of a
    #: higher rank is never written (the loggers' first check, before any other work).
    widest: int = field(init=False)
    _rank: int = field(init=False)
    _overrides: tuple[tuple[Predicate, int], ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        self._rank = LEVELS[self.level]
        self.widest = self._rank

    def set_overrides(self, overrides: Sequence[LevelOverride]) -> None:
        """Replace the overrides; ``LEVELS`` must contain every override level."""
        compiled = tuple((_entry_matcher(o.matchers), LEVELS[o.level]) for o in overrides)
        # Assigning the tuple in one step keeps concurrent writers on the old or the new list.
        self._overrides = compiled
        self.widest = max([self._rank, *(rank for _, rank in compiled)])

    def could_pass(self, rank: int) -> bool:
        """Cheap pre-check: False when no override or global level could admit ``rank``."""
        return rank <= self.widest

    @property
    def has_overrides(self) -> bool:
        """Whether any override is configured (then :meth:`allows` needs the entry's fields)."""
        return bool(self._overrides)

    def allows(self, rank: int, entry: Mapping[str, Any]) -> bool:
        """Whether an entry of severity ``rank`` with fields ``entry`` is written.

        ``entry`` holds ``level``, ``message`` and every metadata field, as winston's info object.
        """
        for predicate, override_rank in self._overrides:
            if predicate(entry):
                return rank <= override_rank
        return rank <= self._rank


def read_level_overrides(config: Config) -> list[LevelOverride]:
    """Read ``backend.logger.overrides``; raises :class:`ConfigError` naming the bad entry."""
    entries = config.get_optional_config_array("backend.logger.overrides")
    overrides: list[LevelOverride] = []
    for index, entry in enumerate(entries or []):
        key = f"backend.logger.overrides[{index}]"
        level = entry.get_optional_string("level")
        if level is None:
            raise ConfigError(f"Missing required config value at '{key}.level'")
        matchers = entry.get_optional("matchers")
        if not isinstance(matchers, dict):
            raise ConfigError(
                f"Invalid config at {key}.matchers, expected an object of field matchers"
            )
        overrides.append(
            LevelOverride(
                matchers=dict(matchers), level=parse_level(level, source=f"config at {key}.level")
            )
        )
    return overrides
