"""Read and write PyTorch ``.pth`` state dicts as numpy arrays, without torch.

Why: the FID Inception weights are distributed only as a torch state dict, and jaxgan must
not depend on torch at run time. ``torch.save`` writes either

* the zip format (torch >= 1.6): a zip with ``<prefix>/data.pkl`` (the pickled object, whose
  tensors refer to storages by *persistent id*) and one raw little-endian file per storage
  ``<prefix>/data/<key>``; or
* the legacy format: several pickles in one stream (magic number, protocol, system info, the
  object, the list of storage keys) followed by each storage as an int64 element count and
  its raw bytes.

Both are read with a *restricted* unpickler that only resolves the handful of globals a
state dict needs (so a malicious file cannot run code) and rebuilds each tensor as a numpy
view of its storage. :func:`save_state_dict` writes the zip format by hand, so tests can
create weight files in the real layout without torch.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from jaxgan.metrics.errors import MetricsError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_DTYPE_STORAGES = {np.dtype(v).str: k for k, v in _STORAGE_DTYPES.items()}


class _StorageType:
    """Stands in for ``torch.FloatStorage`` and friends: it only knows its numpy dtype."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


def _rebuild_tensor_v2(storage, offset, size, stride, *_unused):
    """Mirror of ``torch._utils._rebuild_tensor_v2``: a strided view into a flat storage.

    A view, not a copy: legacy files fill the storages only after the object is unpickled.
    """
    itemsize = storage.dtype.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * itemsize for s in stride)
    )


def _rebuild_parameter(data, *_unused):
    return data


_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
    """Resolves only state-dict globals; storages come from ``load_storage(key, dtype, n)``."""

    def __init__(self, file, load_storage, source: str):
        super().__init__(file)
        self._load_storage = load_storage
        self._source = source
        self._storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise MetricsError(
            f"{self._source}: unsupported object {module}.{name} in the weights file; "
            "expected a plain PyTorch state dict of tensors"
        )

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise MetricsError(f"{self._source}: unknown persistent id {pid!r} in the weights file")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) > 5 else None
        if not isinstance(storage_type, _StorageType):
            raise MetricsError(f"{self._source}: unsupported storage type {storage_type!r}")
        key = str(key)
        if key not in self._storages:
            self._storages[key] = self._load_storage(key, storage_type.dtype, int(numel))
        flat = self._storages[key]
        if view is not None:  # legacy format: (view_key, offset, size) into a root storage
            _view_key, view_offset, view_size = view
            flat = flat[view_offset : view_offset + view_size]
        return flat


def _load_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("data.pkl")]
        if not pkl:
            raise MetricsError(f"{path}: zip file without data.pkl; expected a torch.save file")
        prefix = pkl[0][: -len("data.pkl")]

        def load_storage(key: str, dtype: np.dtype, numel: int) -> np.ndarray:
            raw = zf.read(f"{prefix}data/{key}")
            arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<"))
            return arr[:numel] if numel <= arr.size else arr

        return _Unpickler(io.BytesIO(zf.read(pkl[0])), load_storage, str(path)).load()


def _load_legacy(path: Path) -> Any:
    data = path.read_bytes()
    f = io.BytesIO(data)
    pending: dict[str, tuple[np.dtype, int]] = {}

    def load_storage(key: str, dtype: np.dtype, numel: int) -> np.ndarray:
        # Legacy storages come after the object pickle: hand out a buffer filled later.
        pending[key] = (dtype, numel)
        return np.empty(numel, dtype=dtype)

    if pickle.load(f) != _LEGACY_MAGIC:
        raise MetricsError(f"{path}: not a PyTorch weights file (bad magic number)")
    pickle.load(f)  # protocol version
    pickle.load(f)  # system info
    unpickler = _Unpickler(f, load_storage, str(path))
    obj = unpickler.load()
    keys = pickle.load(f)
    for key in keys:
        storage = unpickler._storages[str(key)]
        numel = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        raw = f.read(numel * storage.dtype.itemsize)
        storage[...] = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))[: storage.size]
    return obj


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Load a ``torch.save``-d state dict (zip or legacy format) as ``{name: ndarray}``."""
    path = Path(path)
    if not path.is_file():
        raise MetricsError(f"{path}: weights file not found")
    try:
        obj = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    except MetricsError:
        raise
    except Exception as e:  # corrupt or truncated files surface as many error types
        raise MetricsError(
            f"{path}: cannot read as a PyTorch state dict ({type(e).__name__}: {e})"
        ) from None
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise MetricsError(f"{path}: holds a {type(obj).__name__}, expected a state dict")
    return {str(k): np.array(v) for k, v in obj.items()}


# --------------------------------------------------------------------------- writing


class _Global:
    """A reference to ``module.name`` written as a pickle GLOBAL without importing it."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle insists that a reduce function be callable
        raise TypeError(f"{self.module}.{self.name} is a placeholder for writing only")


class _Tensor:
    def __init__(self, key: str, array: np.ndarray):
        self.key, self.array = key, array

    def __reduce__(self):
        shape = self.array.shape
        stride = tuple(int(s) // self.array.itemsize for s in self.array.strides)
        args = (_Storage(self.key, self.array), 0, shape, stride, False, collections.OrderedDict())
        return (_Global("torch._utils", "_rebuild_tensor_v2"), args)


class _Storage:
    def __init__(self, key: str, array: np.ndarray):
        self.key, self.array = key, array


class _Pickler(pickle._Pickler):  # the pure-Python pickler lets us emit GLOBALs by name
    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _Global):
            self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            storage = _DTYPE_STORAGES[obj.array.dtype.newbyteorder("<").str]
            return ("storage", _Global("torch", storage), obj.key, "cpu", obj.array.size)
        return None


def save_state_dict(state: Mapping[str, np.ndarray], path: str | Path) -> None:
    """Write ``{name: ndarray}`` as a torch zip-format state dict that ``torch.load`` reads."""
    path = Path(path)
    prefix = path.stem or "archive"
    arrays = {}
    items = []
    for i, (name, value) in enumerate(state.items()):
        arr = np.array(value, order="C")  # not ascontiguousarray: it turns 0-d into 1-d
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        arrays[str(i)] = arr
        items.append((name, _Tensor(str(i), arr)))
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump(collections.OrderedDict(items))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", buf.getvalue())
        zf.writestr(f"{prefix}/byteorder", "little")
        for key, arr in arrays.items():
            zf.writestr(f"{prefix}/data/{key}", arr.tobytes())
        zf.writestr(f"{prefix}/version", "3\n")
