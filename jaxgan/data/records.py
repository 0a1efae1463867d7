"""jaxgan's streaming format: uint8 images in ArrayRecord files, one record per image.

A prepared dataset is a folder (`jaxgan prepare` writes it, `jaxgan.data.stream` reads it):

* ``images-NNNNN.array_record`` files written with ``group_size:1``, the layout Grain's
  `ArrayRecordDataSource` reads by index without decompressing neighbours;
* ``labels.npy`` (int32, one per image) when the dataset is labelled: a few bytes per
  image, held in memory by every process so metrics and the class signal know the classes;
* ``meta.json``, written last: the commit marker (a folder without it is an interrupted
  prepare and is refused) and the shape, count, encoding and file list.

A record is ``label (int32) | crc32 of the payload (uint32) | payload``, the payload being
the raw ``R x R x C`` bytes (``raw``: decoding is a `np.frombuffer`) or a PNG (``png``:
lossless, smaller, decoded by PIL in the loader). The checksum is ours because riegeli's
chunk hashes do not cover every byte of a ``group_size:1`` file: a flipped byte in an
image would otherwise train silently on garbage; here it is a one-line `DataError`.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from jaxgan.data.errors import DataError

FORMAT = "jaxgan-arrayrecord"
VERSION = 1
ENCODINGS = ("raw", "png")
WRITER_OPTIONS = "group_size:1,uncompressed"  # random access by index; images are dense
_HEADER = struct.Struct("<iI")  # label, crc32(payload)


def require_grain(what: str) -> None:
    """One `DataError` line, not an ImportError traceback, when Grain or ArrayRecord is not
    installed (an accelerator image may lack them): `what` needs them."""
    import importlib.util

    missing = [m for m in ("grain", "array_record") if importlib.util.find_spec(m) is None]
    if missing:
        names = {"grain": "grain", "array_record": "array-record"}
        raise DataError(f"{what} needs {' and '.join(missing)}, not installed: pip install "
                        f"{' '.join(names[m] for m in missing)}")


def encode_record(image: np.ndarray, label: int, encoding: str = "raw") -> bytes:
    """One uint8 (R, R, C) image and its label as a record."""
    if encoding == "raw":
        payload = np.ascontiguousarray(image, np.uint8).tobytes()
    else:
        buf = io.BytesIO()
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
            buf, "PNG", compress_level=1)
        payload = buf.getvalue()
    return _HEADER.pack(int(label), zlib.crc32(payload)) + payload


@dataclass(frozen=True)
class RecordSet:
    """A prepared dataset as read from its meta.json (and labels.npy)."""

    root: str
    files: tuple[str, ...]
    count: int
    resolution: int
    channels: int
    encoding: str
    num_classes: int
    labels: np.ndarray | None

    @property
    def paths(self) -> list[str]:
        return [str(Path(self.root) / f) for f in self.files]

    @property
    def nbytes(self) -> int:
        """The dataset's size as uint8 images at its prepared resolution."""
        return self.count * self.resolution * self.resolution * self.channels

    def decode(self, record: bytes, index: int) -> tuple[np.ndarray, int]:
        """Record `index` -> (uint8 (R, R, C) image, label); a corrupt one raises
        `DataError` naming the dataset and the record."""
        if len(record) < _HEADER.size:
            raise self.corrupt_error(index, f"{len(record)} bytes, shorter than its header")
        label, crc = _HEADER.unpack_from(record)
        payload = memoryview(record)[_HEADER.size:]
        if zlib.crc32(payload) != crc:
            raise self.corrupt_error(index, "checksum mismatch")
        r, c = self.resolution, self.channels
        if self.encoding == "raw":
            if len(payload) != r * r * c:
                raise self.corrupt_error(index, f"{len(payload)} image bytes, expected {r * r * c}")
            return np.frombuffer(payload, np.uint8).reshape(r, r, c), label
        try:
            with Image.open(io.BytesIO(payload)) as im:
                arr = np.asarray(im)
        except (OSError, ValueError, SyntaxError) as e:
            raise self.corrupt_error(index, f"PNG does not decode ({type(e).__name__})") from None
        arr = arr.reshape(*arr.shape[:2], -1)
        if arr.shape != (r, r, c):
            raise self.corrupt_error(index, f"image shape {arr.shape}, expected {(r, r, c)}")
        return arr, label

    def corrupt_error(self, index: int, why: str) -> DataError:
        """The one line for record `index` of this dataset being unreadable."""
        return DataError(f"data.path={self.root!r}: record {index} is corrupt ({why}); "
                         "re-run `jaxgan prepare` for this dataset")


def open_records(path: str | Path) -> RecordSet:
    """The prepared dataset at `path`, checked: meta.json present and sane, every file
    there. Every problem is one `DataError` line saying how to make the folder."""
    root = Path(path).expanduser()
    how = "(make one with `jaxgan prepare folder|npz|tfds SRC --out DIR --resolution R`)"
    meta_path = root / "meta.json"
    if not root.is_dir():
        raise DataError(f"data.path={str(path)!r} is not a prepared dataset folder {how}")
    if not meta_path.is_file():
        raise DataError(f"data.path={str(path)!r} has no meta.json: not a prepared dataset, "
                        f"or its prepare was interrupted {how}")
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("format") != FORMAT or int(meta.get("version", 0)) > VERSION:
            raise ValueError(f"format {meta.get('format')!r} v{meta.get('version')}")
        files = tuple(str(f) for f in meta["files"])
        rs = RecordSet(str(root), files, int(meta["count"]), int(meta["resolution"]),
                       int(meta["channels"]), str(meta["encoding"]),
                       int(meta.get("num_classes", 0)), None)
    except (ValueError, KeyError, TypeError) as e:
        raise DataError(f"{str(meta_path)!r} is not a jaxgan prepared-dataset meta.json "
                        f"({type(e).__name__}: {e}) {how}") from None
    if rs.encoding not in ENCODINGS or rs.count <= 0 or rs.channels not in (1, 3):
        raise DataError(f"{str(meta_path)!r}: encoding {rs.encoding!r}, {rs.count} images, "
                        f"{rs.channels} channels: not a dataset jaxgan can read {how}")
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise DataError(f"data.path={str(path)!r}: {len(missing)} of its {len(files)} record "
                        f"files are missing (first: {missing[0]}) {how}")
    labels = None
    if (root / "labels.npy").is_file():
        labels = np.load(root / "labels.npy", allow_pickle=False).astype(np.int32)
        if labels.shape != (rs.count,):
            raise DataError(f"{str(root / 'labels.npy')!r} has shape {labels.shape}, "
                            f"expected ({rs.count},) {how}")
    return RecordSet(rs.root, rs.files, rs.count, rs.resolution, rs.channels, rs.encoding,
                     rs.num_classes, labels)


__all__ = ["RecordSet", "open_records", "encode_record", "require_grain", "ENCODINGS",
           "FORMAT", "VERSION", "WRITER_OPTIONS"]
