"""Workdirs are local paths: a URL (``gs://``, ``s3://``, ``file://``, ...) is refused.

Orbax could write checkpoints to a bucket, but metrics.jsonl, the PNG grids, TensorBoard
events, config.json and the doctor's report are written with local file operations, and
``Path("gs://b/run")`` quietly becomes the relative folder ``gs:/b/run``. So a URL is
refused in one line before anything is created, and the message gives the route that
works with every writer: mount the bucket (gcsfuse for Cloud Storage) and pass the mount
path, which is also what a multi-host run needs (storage every host sees).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

from jaxgan.errors import ConfigError

__all__ = ["local_workdir", "refuse_url"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/")  # "gs://b" (or a Path's "gs:/b")


def refuse_url(path: str | PurePath, what: str = "workdir") -> None:
    """Raise ConfigError (one line, with the gcsfuse route) if `path` is a URL."""
    text = str(path)
    m = _SCHEME.match(text)
    if not m or (isinstance(path, str) and "://" not in text):
        return  # "gs:/x" as a string is a (strange) local relative path; a Path loses "//"
    rest = text[m.end():].lstrip("/")
    bucket, _, sub = rest.partition("/")
    bucket = bucket or "BUCKET"
    mount = f"/mnt/{bucket}" + (f"/{sub}" if sub else "")
    raise ConfigError(f"{what} {text} is a URL ({m.group(1)}://); jaxgan writes runs to local "
                      f"paths only: mount the bucket with gcsfuse (`gcsfuse {bucket} "
                      f"/mnt/{bucket}`) and pass the mount path, e.g. {mount}")


def local_workdir(workdir: str | PurePath, what: str = "workdir") -> Path:
    """`workdir` as a Path, refusing URLs (`refuse_url`)."""
    refuse_url(workdir, what)
    return Path(workdir)
