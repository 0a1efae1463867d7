"""Find, verify, convert and cache the FID Inception weights.

Why so careful: FID is only comparable with the exact TF 2015-12-05 weights, so the official
file ``pt_inception-2015-12-05-6726825d.pth`` is checked against its full SHA-256 before use.
Lookup order: an explicit path (argument or config), ``$JAXGAN_INCEPTION_WEIGHTS``, the
cache folder (``$JAXGAN_CACHE_DIR`` or ``~/.cache/jaxgan``), torch hub's checkpoint folder,
a download from the official release when the network allows; otherwise one line says where
to put the file. Any other file in the same format is accepted as given (tests use random
weights in the real layout). The converted Flax parameters (batch norm folded into the
convolutions in float64, then cast to float32) are cached as .npz keyed by the source
file's SHA-256, so later loads skip the pickle and the folding.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from jaxgan.metrics.errors import MetricsError
from jaxgan.metrics.inception import BN_EPS, FIDInceptionV3
from jaxgan.metrics.torch_pickle import load_state_dict

OFFICIAL_NAME = "pt_inception-2015-12-05-6726825d.pth"
OFFICIAL_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
OFFICIAL_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + OFFICIAL_NAME
)
ENV_WEIGHTS = "JAXGAN_INCEPTION_WEIGHTS"
ENV_CACHE = "JAXGAN_CACHE_DIR"
DOWNLOAD_TIMEOUT_S = 10.0

_MEMO: dict[str, Any] = {}


def cache_dir() -> Path:
    """Where jaxgan keeps downloaded weights, converted weights and reference statistics."""
    return Path(os.environ.get(ENV_CACHE) or Path.home() / ".cache" / "jaxgan")


def _torch_hub_dir() -> Path:
    torch_home = os.environ.get("TORCH_HOME") or Path.home() / ".cache" / "torch"
    return Path(torch_home) / "hub" / "checkpoints"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(dest: Path) -> bool:
    """Fetch the official file into ``dest``; False (silently) when there is no network."""
    tmp = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(OFFICIAL_URL, timeout=DOWNLOAD_TIMEOUT_S) as r:
            with tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as f:
                tmp = Path(f.name)
                shutil.copyfileobj(r, f)
        os.replace(tmp, dest)  # the SHA-256 is checked by the caller, as for any copy
        return True
    except OSError:  # URLError, timeouts and HTTP errors are all OSErrors
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        return False


def find_weights(weights: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Resolve the weights file following the documented lookup order."""
    explicit = weights or os.environ.get(ENV_WEIGHTS)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            origin = "weights" if weights else f"${ENV_WEIGHTS}"
            raise MetricsError(
                f"{path}: Inception weights file not found (given by {origin}); "
                f"point it to an existing {OFFICIAL_NAME} or a file in the same format"
            )
        return path
    for folder in (cache_dir(), _torch_hub_dir()):
        if (folder / OFFICIAL_NAME).is_file():
            return folder / OFFICIAL_NAME
    dest = cache_dir() / OFFICIAL_NAME
    if download and _download(dest):
        return dest
    raise MetricsError(
        f"FID Inception weights not found and not downloadable: put {OFFICIAL_NAME} "
        f"(from {OFFICIAL_URL}) in {cache_dir()}/ or pass --weights FILE / set ${ENV_WEIGHTS}"
    )


def _verify(path: Path, digest: str) -> None:
    if path.name == OFFICIAL_NAME and digest != OFFICIAL_SHA256:
        raise MetricsError(
            f"{path}: SHA-256 {digest[:16]}... does not match the official weights "
            f"({OFFICIAL_SHA256[:16]}...); delete it and fetch it again from {OFFICIAL_URL}"
        )


def param_shapes() -> dict[tuple[str, ...], tuple[int, ...]]:
    """The Flax parameter tree of :class:`FIDInceptionV3`, flattened to path -> shape."""
    if "shapes" not in _MEMO:
        x = jax.ShapeDtypeStruct((1, 299, 299, 3), jnp.float32)
        tree = jax.eval_shape(FIDInceptionV3().init, jax.random.key(0), x)["params"]
        _MEMO["shapes"] = {k: v.shape for k, v in traverse_util.flatten_dict(tree).items()}
    return _MEMO["shapes"]


def convert_state_dict(state: dict[str, np.ndarray], source: str = "weights") -> dict:
    """Map a torch FID-Inception state dict onto Flax params, folding each batch norm.

    Folding (``w * gamma / sqrt(var + eps)``, ``beta - mean * scale``) is done in float64 so
    the float32 result differs from an unfolded float32 network by rounding only.
    """

    def get(name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
        if name not in state:
            raise MetricsError(
                f"{source}: missing tensor {name!r}; expected a FID InceptionV3 state dict "
                f"like {OFFICIAL_NAME}"
            )
        arr = np.asarray(state[name], dtype=np.float64)
        if shape is not None and arr.shape != shape:
            raise MetricsError(f"{source}: tensor {name!r} has shape {arr.shape}, expected {shape}")
        return arr

    flat = {}
    for path, shape in param_shapes().items():
        if path[-2:] == ("conv", "kernel"):
            prefix = ".".join(path[:-2])
            kh, kw, cin, cout = shape
            w = get(f"{prefix}.conv.weight", (cout, cin, kh, kw))
            gamma = get(f"{prefix}.bn.weight", (cout,))
            beta = get(f"{prefix}.bn.bias", (cout,))
            mean = get(f"{prefix}.bn.running_mean", (cout,))
            var = get(f"{prefix}.bn.running_var", (cout,))
            scale = gamma / np.sqrt(var + BN_EPS)
            flat[path] = (w * scale[:, None, None, None]).transpose(2, 3, 1, 0)
            flat[path[:-1] + ("bias",)] = beta - mean * scale
        elif path == ("fc", "kernel"):
            flat[path] = get("fc.weight", (shape[1], shape[0])).T  # fc.bias unused (see IS)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in flat.items()}


def load_params(weights: str | os.PathLike | None = None, download: bool = True) -> dict:
    """Flax params for :class:`FIDInceptionV3` from the resolved weights file (cached)."""
    path = find_weights(weights, download=download)
    digest = sha256_of(path)
    _verify(path, digest)
    if digest in _MEMO:
        return _MEMO[digest]
    cached = cache_dir() / f"inception-flax-{digest[:16]}.npz"
    flat = None
    if cached.is_file():
        try:
            with np.load(cached) as z:
                flat = {tuple(k.split("/")): z[k] for k in z.files}
            if set(flat) != set(param_shapes()):
                flat = None
        except (OSError, ValueError):
            flat = None
    if flat is None:
        flat = convert_state_dict(load_state_dict(path), source=str(path))
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cached.parent, suffix=".npz", delete=False) as t:
                np.savez(t, **{"/".join(k): v for k, v in flat.items()})
            os.replace(t.name, cached)
        except OSError:
            pass  # a read-only cache only costs speed
    params = traverse_util.unflatten_dict(flat)
    _MEMO[digest] = params
    return params


def random_state_dict(seed: int = 0) -> dict[str, np.ndarray]:
    """A torch-layout FID Inception state dict with random, well-scaled weights.

    Why: the real weights cannot be fetched on offline machines, yet tests and benchmarks need
    the real architecture. He-scaled convolutions and near-identity batch norms keep the
    activations O(1) through all 94 layers, so parity checks compare meaningful numbers.
    """
    rng = np.random.default_rng(seed)
    state: dict[str, np.ndarray] = {}
    for path, shape in param_shapes().items():
        if path[-2:] == ("conv", "kernel"):
            prefix = ".".join(path[:-2])
            kh, kw, cin, cout = shape
            std = np.sqrt(2.0 / (kh * kw * cin))
            state[f"{prefix}.conv.weight"] = rng.normal(0, std, (cout, cin, kh, kw))
            state[f"{prefix}.bn.weight"] = rng.uniform(0.8, 1.2, cout)
            state[f"{prefix}.bn.bias"] = rng.normal(0, 0.1, cout)
            state[f"{prefix}.bn.running_mean"] = rng.normal(0, 0.1, cout)
            state[f"{prefix}.bn.running_var"] = rng.uniform(0.8, 1.2, cout)
            state[f"{prefix}.bn.num_batches_tracked"] = np.array(0, dtype=np.int64)
        elif path == ("fc", "kernel"):
            state["fc.weight"] = rng.normal(0, np.sqrt(1.0 / shape[0]), (shape[1], shape[0]))
            state["fc.bias"] = rng.normal(0, 0.01, shape[1])  # unused, kept for torch
    return {k: v if v.dtype == np.int64 else v.astype(np.float32) for k, v in state.items()}
