"""`prepare`: convert a folder of images, an .npz or a tfds dataset into the streaming format.

Done once per dataset and resolution (`jaxgan prepare`), so training never decodes a JPEG
folder or imports TensorFlow again: it reads fixed-size records by index
(`jaxgan.data.records`). Images are converted chunk by chunk, never all in memory, with the
same crop-and-resize as the in-memory sources (`to_resolution`), so a prepared dataset
trains on exactly the pixels the in-memory source would have held.

The output appears atomically: records go to ``OUT.partial`` and the folder is renamed to
``OUT`` after meta.json is written; an existing ``OUT`` is never overwritten.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import to_resolution
from jaxgan.data.records import (
    ENCODINGS,
    FORMAT,
    VERSION,
    WRITER_OPTIONS,
    encode_record,
    require_grain,
)

PER_FILE = 16384  # records per ArrayRecord file: shards for parallel reads, few open files
_CHUNK = 512  # images converted at a time
Chunks = Iterator[tuple[np.ndarray, np.ndarray | None]]


def _folder_chunks(path: str, resolution: int, channels: int) -> tuple[int, Chunks]:
    from jaxgan.data.files import list_images, load_image

    files = list_images(path)

    def gen() -> Chunks:
        for lo in range(0, len(files), _CHUNK):
            yield np.stack([load_image(f, resolution, channels)
                            for f in files[lo:lo + _CHUNK]]), None
    return len(files), gen()


def _npz_chunks(path: str, resolution: int, channels: int) -> tuple[int, Chunks]:
    from jaxgan.data.files import load_npz_arrays

    images, labels = load_npz_arrays(path)

    def gen() -> Chunks:
        for lo in range(0, len(images), _CHUNK):
            yield (to_resolution(images[lo:lo + _CHUNK], resolution, channels),
                   None if labels is None else labels[lo:lo + _CHUNK])
    return len(images), gen()


def _tfds_chunks(name: str, split: str, resolution: int, channels: int,
                 data_dir: str | None) -> tuple[int | None, Chunks, int]:
    import tensorflow_datasets as tfds

    from jaxgan.data.tfds_source import _feature_keys, prepare_builder

    builder = prepare_builder(name, data_dir)
    image_key, label_key, num_classes = _feature_keys(builder, name)
    try:
        ds = builder.as_dataset(split=split, shuffle_files=False)
    except (ValueError, KeyError, AssertionError) as e:
        raise DataError(f"tfds dataset {name!r} cannot read split {split!r} "
                        f"({type(e).__name__}: {e}); available splits: "
                        f"{', '.join(sorted(builder.info.splits.keys()))}") from None
    try:  # only for the progress bar's total
        total = int(builder.info.splits[split].num_examples)
    except (ValueError, KeyError, AssertionError, TypeError):
        total = None

    def gen() -> Chunks:
        for ex in tfds.as_numpy(ds):  # one by one: images may differ in size
            label = np.asarray(ex[label_key]).reshape(1) if label_key else None
            yield to_resolution(ex[image_key][None], resolution, channels), label
    return total, gen(), num_classes


def prepare(kind: str, src: str, out: str | Path, resolution: int, channels: int = 3,
            encoding: str = "raw", split: str = "train", data_dir: str | None = None,
            progress: bool = True, per_file: int = PER_FILE) -> Path:
    """Convert `src` (a folder, an .npz, or a tfds name, by `kind`) to a prepared dataset
    at `out` with images `resolution` x `resolution` x `channels`; returns `out`.

    Train on it with ``data.source=arrayrecord data.path=OUT``. Labels come from the .npz's
    `labels` or the tfds `label` feature (folders are unlabelled).
    """
    if kind not in ("folder", "npz", "tfds"):
        raise DataError(f"jaxgan prepare: source kind {kind!r}; choose folder, npz or tfds")
    if encoding not in ENCODINGS:
        raise DataError(f"--encoding {encoding!r}; choose one of: {', '.join(ENCODINGS)}")
    if resolution <= 0 or channels not in (1, 3) or per_file <= 0:
        raise DataError(f"--resolution must be positive and --channels 1 or 3, got "
                        f"{resolution} and {channels}")
    require_grain("jaxgan prepare")
    out = Path(out).expanduser()
    if out.exists():
        raise DataError(f"--out {str(out)!r} already exists; jaxgan prepare never "
                        "overwrites (remove it or choose another folder)")
    num_classes = 0
    if kind == "folder":
        total, chunks = _folder_chunks(src, resolution, channels)
    elif kind == "npz":
        total, chunks = _npz_chunks(src, resolution, channels)
    else:
        total, chunks, num_classes = _tfds_chunks(src, split, resolution, channels, data_dir)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)  # an interrupted earlier prepare
    partial.mkdir(parents=True)
    bar = _bar(total, f"prepare {out.name}", progress)
    files, labels = _write(partial, chunks, encoding, per_file, bar)
    if bar is not None:
        bar.close()
    count = sum(n for _, n in files)
    if count == 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise DataError(f"{src!r} has no images to prepare")
    if labels is not None:
        np.save(partial / "labels.npy", labels)
        num_classes = max(num_classes, int(labels.max()) + 1)
    meta = {"format": FORMAT, "version": VERSION, "count": count, "resolution": resolution,
            "channels": channels, "encoding": encoding, "num_classes": num_classes,
            "files": [f for f, _ in files], "counts": [n for _, n in files],
            "source": {"kind": kind, "src": str(src), "split": split if kind == "tfds" else ""}}
    (partial / "meta.json").write_text(json.dumps(meta, indent=1))
    partial.rename(out)
    return out


def _write(folder: Path, chunks: Chunks, encoding: str, per_file: int, bar
           ) -> tuple[list[tuple[str, int]], np.ndarray | None]:
    """Records into ``images-NNNNN.array_record`` files of `per_file` each."""
    from array_record.python.array_record_module import ArrayRecordWriter

    files: list[tuple[str, int]] = []
    labels: list[np.ndarray] = []
    labelled: bool | None = None
    writer, in_file = None, 0
    try:
        for images, lab in chunks:
            labelled = lab is not None if labelled is None else labelled
            lab_arr = np.asarray(lab if lab is not None else np.zeros(len(images)), np.int64)
            for image, label in zip(images, lab_arr, strict=True):
                if writer is None or in_file == per_file:
                    if writer is not None:
                        writer.close()
                    name = f"images-{len(files):05d}.array_record"
                    writer = ArrayRecordWriter(str(folder / name), WRITER_OPTIONS)
                    files.append((name, 0))
                    in_file = 0
                writer.write(encode_record(image, int(label), encoding))
                in_file += 1
                files[-1] = (files[-1][0], in_file)
            if labelled:
                labels.append(lab_arr.astype(np.int32))
            if bar is not None:
                bar.update(len(images))
    finally:
        if writer is not None:
            writer.close()
    return files, (np.concatenate(labels) if labelled and labels else None)


def _bar(total: int | None, desc: str, progress: bool):
    if not progress:
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="img", dynamic_ncols=True, file=sys.stderr)


__all__ = ["prepare", "PER_FILE"]
