"""The one exception type of the metrics package.

Every bad input (missing or corrupt weights, an empty folder, an unreadable image, an .npz
with the wrong keys, too few images) raises :class:`MetricsError` with a single line that
names the file or value and says what would be right; the CLI prints it and exits 2.
"""

from __future__ import annotations


class MetricsError(ValueError):
    """A user-facing metrics input error; its message is one line meant for people."""
