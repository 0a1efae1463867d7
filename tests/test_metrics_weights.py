"""The torch-free .pth reader/writer and the Inception weights lookup, check and cache."""

import pickle
import zipfile

import numpy as np
import pytest

from jaxgan.metrics import MetricsError
from jaxgan.metrics import weights as W
from jaxgan.metrics.torch_pickle import load_state_dict, save_state_dict


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Empty cache folders, no env override and no network."""
    monkeypatch.setenv(W.ENV_CACHE, str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv(W.ENV_WEIGHTS, raising=False)
    monkeypatch.setattr(W, "_download", lambda dest: False)
    monkeypatch.setattr(W, "_MEMO", {})
    return tmp_path


def _sample_state():
    rng = np.random.default_rng(0)
    return {
        "a.weight": rng.normal(size=(4, 3, 2, 2)).astype(np.float32),
        "a.t": rng.normal(size=(3, 5)).astype(np.float32).T,  # non-contiguous
        "b.double": rng.normal(size=(3,)),
        "b.half": rng.normal(size=(2, 2)).astype(np.float16),
        "bn.num_batches_tracked": np.array(7, dtype=np.int64),
        "mask": np.array([True, False]),
        "bytes": np.arange(5, dtype=np.uint8),
    }


def test_pth_round_trip_without_torch(tmp_path):
    state = _sample_state()
    save_state_dict(state, tmp_path / "w.pth")
    assert zipfile.is_zipfile(tmp_path / "w.pth")
    got = load_state_dict(tmp_path / "w.pth")
    assert list(got) == list(state)
    for k, v in state.items():
        assert got[k].dtype == v.dtype and got[k].shape == v.shape
        np.testing.assert_array_equal(got[k], v)


@pytest.mark.parametrize("zip_format", [True, False])
def test_pth_written_by_torch(tmp_path, zip_format):
    torch = pytest.importorskip("torch", reason="torch is a test-only dependency")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = {
        "w": torch.randn(3, 2, 3, 3),
        "view": base[1:3, ::2],  # strided view with an offset into a shared storage
        "base": base,
        "n": torch.tensor(5),
        "h": torch.randn(4).half(),
    }
    path = tmp_path / "t.pth"
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    got = load_state_dict(path)
    for k, v in state.items():
        np.testing.assert_array_equal(got[k], v.numpy())
        assert got[k].shape == tuple(v.shape)
    back = torch.load(path)  # and torch reads what jaxgan writes
    save_state_dict(got, tmp_path / "mine.pth")
    again = torch.load(tmp_path / "mine.pth", weights_only=True)
    assert all(torch.equal(again[k], back[k].contiguous()) for k in back)


def test_reader_refuses_code_and_garbage(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with zipfile.ZipFile(tmp_path / "evil.pth", "w") as zf:
        zf.writestr("archive/data.pkl", pickle.dumps({"x": Evil()}))
    with pytest.raises(MetricsError, match="unsupported object builtins.print"):
        load_state_dict(tmp_path / "evil.pth")
    (tmp_path / "junk.pth").write_bytes(b"\x00" * 100)
    with pytest.raises(MetricsError, match="cannot read as a PyTorch state dict"):
        load_state_dict(tmp_path / "junk.pth")
    with pytest.raises(MetricsError, match="not found"):
        load_state_dict(tmp_path / "nope.pth")


def test_lookup_order(isolated, monkeypatch):
    hub = isolated / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / W.OFFICIAL_NAME).write_bytes(b"hub")
    assert W.find_weights() == hub / W.OFFICIAL_NAME
    cache = isolated / "cache"
    cache.mkdir()
    (cache / W.OFFICIAL_NAME).write_bytes(b"cache")
    assert W.find_weights() == cache / W.OFFICIAL_NAME
    env = isolated / "env.pth"
    env.write_bytes(b"env")
    monkeypatch.setenv(W.ENV_WEIGHTS, str(env))
    assert W.find_weights() == env
    given = isolated / "given.pth"
    given.write_bytes(b"given")
    assert W.find_weights(given) == given
    with pytest.raises(MetricsError, match="not found"):
        W.find_weights(isolated / "missing.pth")


def test_missing_weights_say_where_to_put_them(isolated):
    with pytest.raises(MetricsError) as info:
        W.load_params()
    msg = str(info.value)
    assert W.OFFICIAL_NAME in msg and str(isolated / "cache") in msg and "\n" not in msg


def test_official_name_with_wrong_hash_is_refused(isolated):
    cache = isolated / "cache"
    cache.mkdir()
    save_state_dict({"x": np.zeros(2, np.float32)}, cache / W.OFFICIAL_NAME)
    with pytest.raises(MetricsError, match="SHA-256 .* does not match the official weights"):
        W.load_params()


def test_convert_checks_names_and_shapes_and_folds_bn(isolated):
    state = W.random_state_dict(seed=1)
    params = W.convert_state_dict(state)
    assert len(params) == 2 * 94 + 1  # 94 conv (kernel, bias) pairs and the fc kernel
    p = "Conv2d_4a_3x3"
    scale = state[f"{p}.bn.weight"] / np.sqrt(
        state[f"{p}.bn.running_var"].astype(np.float64) + 1e-3
    )
    np.testing.assert_allclose(
        params[(p, "conv", "kernel")],
        (state[f"{p}.conv.weight"] * scale[:, None, None, None]).transpose(2, 3, 1, 0),
        rtol=1e-6,
    )
    broken = dict(state)
    del broken["Mixed_6e.branch_pool.bn.running_var"]
    with pytest.raises(MetricsError, match="missing tensor 'Mixed_6e.branch_pool.bn.running_var'"):
        W.convert_state_dict(broken)
    broken = dict(state, **{"fc.weight": np.zeros((1000, 2048), np.float32)})
    with pytest.raises(MetricsError, match=r"'fc.weight' has shape \(1000, 2048\)"):
        W.convert_state_dict(broken)


def test_converted_weights_are_cached(isolated, monkeypatch):
    path = isolated / "random.pth"
    save_state_dict(W.random_state_dict(seed=2), path)
    first = W.load_params(path)
    assert list((isolated / "cache").glob("inception-flax-*.npz"))
    monkeypatch.setattr(W, "_MEMO", {"shapes": W.param_shapes()})

    def no_pickle(*a):
        raise AssertionError("the converted cache should have been used")

    monkeypatch.setattr(W, "load_state_dict", no_pickle)
    second = W.load_params(path)
    np.testing.assert_array_equal(
        second["Mixed_7c"]["branch_pool"]["conv"]["kernel"],
        first["Mixed_7c"]["branch_pool"]["conv"]["kernel"],
    )
