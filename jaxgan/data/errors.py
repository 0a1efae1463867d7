"""The one user-facing error type of the data package.

Bad input data (a missing folder, a corrupt PNG, an .npz with the wrong keys, a tfds dataset
that cannot be downloaded offline) is the user's to fix, not a bug; the CLI prints a
`DataError` as one line and exits with status 2, so every message names the file or field
and says what would be right.
"""

from __future__ import annotations


class DataError(ValueError):
    """A user-facing data problem; its message is one line naming what is wrong."""


__all__ = ["DataError"]
