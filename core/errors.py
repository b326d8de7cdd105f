"""The few error types the layers raise; the CLI turns each into one clear message and an exit code."""


class DoraError(Exception):
    """An error the user can fix; its message says how."""


class ConfigError(DoraError):
    """dora.toml or a command-line setting is wrong."""


class InputError(DoraError):
    """An input file cannot be read at all (missing, unreadable); bad records are rejected, not raised."""


class WarehouseError(DoraError):
    """The DuckDB file cannot be opened or is in use."""
