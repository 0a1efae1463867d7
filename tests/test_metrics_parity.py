"""Parity with pytorch-fid, the reference implementation: the same random weights saved by
torch in the standard .pth format, the same PNG folders -> the same pool3 features (1e-4
relative) and the same FID (1e-3 relative). torch, torchvision and pytorch-fid are test-only
dependencies; the real weights cannot be downloaded here, so random, well-scaled weights in
the real architecture stand in for them."""

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch", reason="parity needs torch (test-only dependency)")
pytest.importorskip("torchvision", reason="parity needs torchvision (test-only dependency)")
pfid_inception = pytest.importorskip(
    "pytorch_fid.inception", reason="parity needs pytorch-fid (test-only dependency)"
)
pfid_score = pytest.importorskip("pytorch_fid.fid_score", reason="parity needs pytorch-fid")

from jaxgan.metrics import InceptionFeatures, compute_statistics, fid_from_stats  # noqa: E402
from jaxgan.metrics import weights as W  # noqa: E402
from jaxgan.metrics.fid import iter_folder  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    state = {k: torch.from_numpy(v) for k, v in W.random_state_dict(seed=3).items()}
    weights = root / "random_fid_inception.pth"
    torch.save(state, weights)  # written by torch itself, read by jaxgan without torch
    rng = np.random.default_rng(0)
    folders = []
    for name, smooth in (("a", False), ("b", True)):
        folder = root / name
        folder.mkdir()
        for i in range(8):
            img = rng.integers(0, 256, size=(32, 32, 3))
            if smooth:  # a different distribution: blurred, brighter
                img = (img + np.roll(img, 1, 0) + np.roll(img, 1, 1)) // 3 + 40
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"{i}.png")
        folders.append(folder)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(W.ENV_CACHE, str(root / "cache"))
        # pytorch-fid's FID network, built exactly as fid_inception_v3() does, but loading
        # our state dict instead of downloading the real one
        mp.setattr(pfid_inception, "load_state_dict_from_url", lambda *a, **k: torch.load(weights))
        torch.set_num_threads(2)
        model = pfid_inception.InceptionV3([3]).eval()
        refs = [_reference_activations(model, folder) for folder in folders]
        yield weights, folders, refs, InceptionFeatures(weights, batch_size=8)


def _reference_activations(model, folder):
    files = sorted(str(p) for p in folder.iterdir())
    return pfid_score.get_activations(
        files, model, batch_size=8, dims=2048, device="cpu", num_workers=0
    )


def test_pool3_features_match_pytorch_fid(setup):
    _, folders, refs, extractor = setup
    for folder, ref in zip(folders, refs, strict=True):
        ours, _ = extractor(iter_folder(folder), with_logits=False)
        assert ref.std() > 0.1  # the random weights give O(1), non-degenerate features
        scale = np.abs(ref).max()
        rel = np.abs(ours - ref).max() / scale
        print(f"{folder.name}: max |jaxgan - pytorch-fid| / max |pytorch-fid| = {rel:.2e}")
        assert rel < 1e-4
        np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * scale)


def test_fid_matches_pytorch_fid(setup):
    _, folders, refs, extractor = setup
    stats = [(np.mean(act, axis=0), np.cov(act, rowvar=False)) for act in refs]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):  # scipy's sqrtm of 2048 x 2048 is slow
        expected = pfid_score.calculate_frechet_distance(*stats[0], *stats[1])
    a, b = (compute_statistics(iter_folder(f), extractor=extractor) for f in folders)
    got = fid_from_stats(a.mu, a.sigma, b.mu, b.sigma)
    assert expected > 1.0
    assert got == pytest.approx(expected, rel=1e-3)
    print(f"jaxgan FID {got:.6f}, pytorch-fid FID {expected:.6f}, rel {got / expected - 1:.2e}")
