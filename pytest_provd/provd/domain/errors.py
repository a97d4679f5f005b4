"""What the provisioning application refuses, with the HTTP status the REST API answers."""

from __future__ import annotations

from pytest_provd.problems import ProvdHarnessError


class ConfigError(ProvdHarnessError):
    """A config provd would refuse (HTTP 400)."""


class RawConfigError(ConfigError):
    """A raw config that does not follow provd's raw config schema."""


class UnknownConfig(ProvdHarnessError, KeyError):
    """No config with that id (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown config"


class NotDeletable(ConfigError):
    """DELETE of a config marked ``deletable: false`` (HTTP 403)."""


class DeviceError(ProvdHarnessError):
    """A device provd would refuse (HTTP 400)."""


class UnknownDevice(ProvdHarnessError, KeyError):
    """No device with that id (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown device"


class ParameterError(ProvdHarnessError):
    """A configure parameter value provd would refuse (HTTP 400)."""


class UnknownParameter(ProvdHarnessError, KeyError):
    """No configure parameter with that name (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown parameter"


class UnknownTenant(ProvdHarnessError):
    """A ``Wazo-Tenant`` the server does not know (HTTP 401, as wazo-auth answers)."""


class PluginStateError(ProvdHarnessError):
    """A plugin operation that does not apply (already installed, not installed...)."""
