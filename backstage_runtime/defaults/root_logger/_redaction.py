"""Secret redaction: secrets and credentials are replaced by ``***`` in every written line."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["REDACTED", "PlainCheck", "Redactor", "mask_sensitive_fields"]

#: What a redacted secret is replaced with.
REDACTED: Final = "***"

# RFC 7235 token68 after the scheme. ``Basic`` also starts ordinary English ("Basic setup"), so its
# credentials must look like base64 (8+ characters, not a lower-case or capitalised word) to be
# redacted; a bearer token is redacted whatever it looks like: a false positive there only hides a
# word, a false negative leaks a credential.
_CREDENTIALS: Final = re.compile(
    r"\b(?P<scheme>Bearer)\s+[A-Za-z0-9\-._~+/]+=*"
    r"|\b(?P<basic>Basic)\s+(?-i:(?![A-Z]?[a-z]+\b))[A-Za-z0-9+/]{8,}={0,2}",
    re.IGNORECASE,
)

_SENSITIVE_KEYS: Final = frozenset({"authorization"})
_SENSITIVE_KEY_LENGTHS: Final = frozenset(len(key) for key in _SENSITIVE_KEYS)
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_STRINGS: Final = frozenset({str})
_SAFE_KEYS_KEPT: Final = 1024
_CIRCULAR: Final = "[Circular]"


def _credentials_replacement(match: re.Match[str]) -> str:
    return f"{match.group('scheme') or match.group('basic')} {REDACTED}"


class Redactor:
    """Replaces registered secrets and ``Bearer``/``Basic`` credentials in formatted text.

    Secrets are kept in one compiled alternation, longest first so that a secret containing a
    shorter one is hidden whole; it is rebuilt only when :meth:`add` learns a new secret, never per
    line. Thread-safe: writers read the current pattern, :meth:`add` swaps in a new one.
    """

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def add(self, values: Iterable[object]) -> int:
        """Register secrets; returns how many were new.

        Each value is trimmed (YAML block strings carry a trailing newline) and values of one
        character or less are skipped: they are placeholders (``--lax`` sets ``x``) and would
        shred every line. Non-strings are ignored. Additive: a secret is never forgotten.
        """
        with self._lock:
            added = 0
            for value in values:
                if not isinstance(value, str):
                    continue
                secret = value.strip()
                if len(secret) <= 1 or secret in self._secrets:
                    continue
                self._secrets.add(secret)
                added += 1
            if added:
                self._pattern = self._compile(self._secrets)
            return added

    @staticmethod
    def _compile(secrets: Iterable[str]) -> re.Pattern[str]:
        forms: set[str] = set()
        for secret in secrets:
            forms.add(secret)
            # Lines are JSON (or carry JSON field values), where a secret with a quote, backslash
            # or control character appears escaped; match that spelling too.
            forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
        ordered = sorted(forms, key=lambda form: (-len(form), form))
        return re.compile("|".join(re.escape(form) for form in ordered))

    @property
    def secret_count(self) -> int:
        """How many distinct secrets are registered."""
        return len(self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every registered secret and every credential replaced by ``***``."""
        pattern = self._pattern
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        # The credentials pattern is slow to scan (case-insensitive, tried at every word
        # boundary); most lines (a request log per request) name no scheme at all.
        lowered = text.lower()
        if "bearer" not in lowered and "basic" not in lowered:
            return text
        return _CREDENTIALS.sub(_credentials_replacement, text)


class PlainCheck:
    """Tells whether :func:`mask_sensitive_fields` would leave a mapping's fields as they are:
    string keys, values of exactly ``str``, ``int``, ``float``, ``bool`` or ``None`` (no container
    to copy, no subclass to convert) and no sensitive key.

    A request log line is plain, so its fields need no copy. The checks run in C (``map`` over
    the keys and values, not a Python loop per field), and keys once found not sensitive are
    remembered (up to a bound, as keys made from data could be countless), so that a line's
    keys are not lowered one by one each time. Shared by a root logger and its children.
    """

    __slots__ = ("_safe_keys",)

    def __init__(self) -> None:
        self._safe_keys: set[str] = set()

    def __call__(self, fields: Mapping[Any, Any]) -> bool:
        """Whether ``fields`` are plain."""
        if not (
            _SCALARS.issuperset(map(type, fields.values()))
            and _STRINGS.issuperset(map(type, fields))
        ):
            return False
        safe = self._safe_keys
        if safe.issuperset(fields):
            return True
        if not _SENSITIVE_KEYS.isdisjoint(map(str.lower, fields)):
            return False
        if len(safe) < _SAFE_KEYS_KEPT:
            safe.update(fields)
        return True


def mask_sensitive_fields(value: Any, _path: tuple[int, ...] = ()) -> Any:
    """A JSON-ready copy of ``value`` with ``authorization`` fields (at any depth) set to ``***``.

    Mappings become dicts with string keys and tuples become lists; a container that contains
    itself is rendered ``[Circular]`` (as Node's safe stringify does) instead of recursing forever.
    """
    if isinstance(value, Mapping):
        if id(value) in _path:
            return _CIRCULAR
        path = (*_path, id(value))
        masked: dict[str, Any] = {}
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            if len(name) in _SENSITIVE_KEY_LENGTHS and name.lower() in _SENSITIVE_KEYS:
                masked[name] = REDACTED
            elif type(item) in _SCALARS:
                # Most fields are plain values: no recursion, no copy (a log line per request).
                masked[name] = item
            else:
                masked[name] = mask_sensitive_fields(item, path)
        return masked
    if isinstance(value, list | tuple):
        if id(value) in _path:
            return _CIRCULAR
        path = (*_path, id(value))
        return [mask_sensitive_fields(item, path) for item in value]
    return value
