"""Plugin service interfaces (configure/install) and the small helpers plugins build on."""

from __future__ import annotations

import json
import logging
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class InvalidParameterError(Exception):
    """A service parameter got a value it does not accept."""


class UnknownParameterError(KeyError):
    """A service has no parameter of that name."""


class AbstractConfigurationService(metaclass=ABCMeta):
    """Named parameters a plugin exposes for configuration."""

    @abstractmethod
    def get(self, name: str) -> Any:
        """Value of a parameter (KeyError when unknown)."""

    @abstractmethod
    def set(self, name: str, value: Any) -> None:
        """Change a parameter; None unsets it."""

    @property
    @abstractmethod
    def description(self) -> list[tuple[str, str]]:
        """(name, description) of every parameter."""


class AbstractInstallationService(metaclass=ABCMeta):
    """Packages (firmware, languages...) a plugin can install."""

    @abstractmethod
    def install(self, pkg_id: str) -> Any:
        """(Deferred, OperationInProgress) of the installation."""

    @abstractmethod
    def uninstall(self, pkg_id: str) -> None:
        """Remove an installed package."""

    @abstractmethod
    def list_installable(self) -> dict[str, dict[str, Any]]:
        """Installable packages by id."""

    @abstractmethod
    def list_installed(self) -> dict[str, dict[str, Any]]:
        """Installed packages by id."""


class AbstractConfigurationServiceParameter(metaclass=ABCMeta):
    """One parameter of a configuration service."""

    description: str | None = None

    @abstractmethod
    def get(self) -> Any: ...

    @abstractmethod
    def set(self, value: Any) -> None: ...


class AttrConfigurationServiceParameter(AbstractConfigurationServiceParameter):
    """A parameter stored as an attribute of some object."""

    def __init__(
        self,
        obj: Any,
        name: str,
        description: str | None = None,
        check_fun: Callable[[Any], Any] | None = None,
        **localized: Any,
    ) -> None:
        self._obj = obj
        self._name = name
        self.description = description
        self._check_fun = check_fun
        self.__dict__.update(localized)

    def get(self) -> Any:
        return getattr(self._obj, self._name)

    def set(self, value: Any) -> None:
        if self._check_fun is not None:
            self._check_fun(value)
        setattr(self._obj, self._name, value)


class DictConfigurationServiceParameter(AbstractConfigurationServiceParameter):
    """A parameter stored under a key of a dict; setting None removes the key."""

    def __init__(
        self,
        data: dict[str, Any],
        key: str,
        description: str | None = None,
        check_fun: Callable[[Any], Any] | None = None,
        **localized: Any,
    ) -> None:
        self._dict = data
        self._key = key
        self.description = description
        self._check_fun = check_fun
        self.__dict__.update(localized)

    def get(self) -> Any:
        return self._dict.get(self._key)

    def set(self, value: Any) -> None:
        if self._check_fun is not None:
            self._check_fun(value)
        if value is None:
            self._dict.pop(self._key, None)
        else:
            self._dict[self._key] = value


class BaseConfigurationService(AbstractConfigurationService):
    """A configuration service over a dict of parameter objects."""

    def __init__(self, params: dict[str, AbstractConfigurationServiceParameter]) -> None:
        self._params = params

    def get(self, name: str) -> Any:
        return self._params[name].get()

    def set(self, name: str, value: Any) -> None:
        self._params[name].set(value)

    @property
    def description(self) -> list[tuple[str, str]]:
        return [(k, v.description or "") for k, v in self._params.items()]

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("description_"):
            raise AttributeError(name)
        found = [(k, getattr(v, name)) for k, v in self._params.items() if hasattr(v, name)]
        if not found:
            raise AttributeError(name)
        return found


class JsonConfigPersister:
    """Parameters persisted as one JSON object in a file."""

    def __init__(self, filename: str) -> None:
        self._filename = filename
        self._cache: dict[str, Any] = {}
        try:
            with open(self._filename, encoding="utf-8") as f:
                loaded = json.load(f)
        except OSError:
            loaded = {}
        except ValueError as e:
            logger.warning("%s: invalid JSON, ignored: %s", self._filename, e)
            loaded = {}
        if isinstance(loaded, dict):
            self._cache = loaded

    def params(self) -> dict[str, Any]:
        return dict(self._cache)

    def update(self, name: str, value: Any) -> None:
        self._cache[name] = value
        with open(self._filename, "w", encoding="utf-8") as f:
            json.dump(self._cache, f)


class PersistentConfigurationServiceDecorator:
    """Configuration service whose changes are saved through a persister."""

    def __init__(self, cfg_service: Any, persister: JsonConfigPersister) -> None:
        self._cfg_service = cfg_service
        self._persister = persister
        for name, value in persister.params().items():
            try:
                cfg_service.set(name, value)
            except KeyError:
                logger.info("ignoring unknown persisted parameter %r", name)
            except InvalidParameterError as e:
                logger.warning("ignoring invalid persisted %r=%r: %s", name, value, e)

    def get(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._cfg_service.get(name, *args, **kwargs)

    def set(self, name: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self._cfg_service.set(name, value, *args, **kwargs)
        virtual = getattr(self._cfg_service, "VIRTUAL_ATTRIBUTES", None) or {}
        if name in virtual:
            name = virtual[name]["parent"]
            value = self._cfg_service.get(name)
        self._persister.update(name, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cfg_service, name)


# Name used by plugins written for provd before 24.02.
