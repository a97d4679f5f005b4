"""pytest-provd's stand-in for the provd modules that plugins import."""

HARNESS_COMPAT = True
