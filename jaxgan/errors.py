"""`ConfigError`: a user-facing configuration mistake, in a module of its own.

Every layer raises it (the schema's type checks, the config's validation, a model family's
rules for its own section), so it lives below all of them: raising it imports nothing.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A user-facing configuration mistake; the CLI prints it as one line and exits 2."""


__all__ = ["ConfigError"]
