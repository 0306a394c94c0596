# Managed by the ONEX node template: `copier update` replaces this file.
# Change the template, not this copy: docs/template.md says how.
"""Booleans spelled as Go's strconv.ParseBool reads them (Consul's rule for every flag)."""

from ..errors import ConfigurationError

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def parse_go_bool(variable: str, value: str) -> bool:
    """Parse a boolean as Go's strconv.ParseBool does, naming the variable on error."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        f"{variable}={value!r} is not a boolean: use one of "
        "1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False"
    )
