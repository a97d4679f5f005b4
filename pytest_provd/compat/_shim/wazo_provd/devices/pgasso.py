"""Plugin association: how well a plugin supports a device."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from enum import IntEnum
from typing import Any


class DeviceSupport(IntEnum):
    """Support levels, ordered; provd assigns a plugin only from PROBABLE up."""

    NONE = 0
    IMPROBABLE = 100
    UNKNOWN = 200
    PROBABLE = 300
    INCOMPLETE = 400
    COMPLETE = 500
    EXACT = 600


# Lowest score with which provd assigns a plugin to a device.
MIN_ASSOCIATION_LEVEL = DeviceSupport.PROBABLE


class AbstractPluginAssociator(metaclass=ABCMeta):
    """Scores a device-info dict."""

    @abstractmethod
    def associate(self, dev_info: dict[str, Any]) -> int:
        """Support score for *dev_info*."""


class BasePgAssociator(AbstractPluginAssociator):
    """Splits a device info into vendor/model/version for :meth:`_do_associate`."""

    def associate(self, dev_info: dict[str, Any]) -> int:
        vendor = dev_info.get("vendor")
        if vendor is None:
            return DeviceSupport.UNKNOWN
        return self._do_associate(vendor, dev_info.get("model"), dev_info.get("version"))

    def _do_associate(self, vendor: str, model: str | None, version: str | None) -> int:
        raise NotImplementedError("must be overridden in derived class")


class AbstractConflictSolver(metaclass=ABCMeta):
    """Chooses one plugin among equally scored ones."""

    @abstractmethod
    def solve(self, pg_ids: list[str]) -> str | None:
        """The chosen plugin id, or None."""


class ReverseAlphabeticConflictSolver(AbstractConflictSolver):
    """Prefers the greatest plugin id (usually the newest version)."""

    def solve(self, pg_ids: list[str]) -> str | None:
        return max(pg_ids) if pg_ids else None
