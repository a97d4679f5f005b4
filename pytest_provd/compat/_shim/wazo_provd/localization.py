"""Process-wide locale used to pick localized plugin descriptions."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

LOCALE_CHANGED = "locale_changed"
_LOCALE_RE = re.compile(r"\A[a-z]{2,3}(?:_[A-Z]{2,3})?\Z")


class LocalizationService:
    """Holds a locale such as ``fr`` or ``fr_CA`` and notifies observers of changes."""

    def __init__(self, locale: str | None = None) -> None:
        self._locale = locale
        self._observers: WeakKeyDictionary[Callable[[Any], None], None] = WeakKeyDictionary()

    def attach_observer(self, observer: Callable[[Any], None]) -> None:
        self._observers[observer] = None

    def detach_observer(self, observer: Callable[[Any], None]) -> None:
        self._observers.pop(observer, None)

    def set_locale(self, locale: str | None) -> None:
        """Change the locale; ValueError when malformed."""
        if locale is not None and not _LOCALE_RE.match(locale):
            raise ValueError(f"Invalid locale {locale}")
        if locale != self._locale:
            self._locale = locale
            for observer in list(self._observers):
                observer((LOCALE_CHANGED, None))

    def get_locale(self) -> str | None:
        return self._locale

    def get_locale_and_language(self) -> tuple[str | None, str | None]:
        if self._locale is None:
            return None, None
        return self._locale, self._locale.split("_", 1)[0]


_SERVICE: LocalizationService | None = None


def register_localization_service(l10n_service: LocalizationService) -> None:
    global _SERVICE
    _SERVICE = l10n_service


def unregister_localization_service() -> None:
    global _SERVICE
    _SERVICE = None


def get_localization_service() -> LocalizationService | None:
    return _SERVICE


def get_locale() -> str | None:
    return None if _SERVICE is None else _SERVICE.get_locale()


def get_locale_and_language() -> tuple[str | None, str | None]:
    return (None, None) if _SERVICE is None else _SERVICE.get_locale_and_language()
