"""`benchmarks/grid_sweep.py` as the GPU session used it: variants whose values hold commas,
and `--rescore` of uint8 samples saved elsewhere, which must give the judge's own figures
for the same images (the archive's uint8 round trip is exact for uint8 images)."""

import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
from grid_sweep import main, parse_variant  # noqa: E402
from judge import MNIST_DIR, MnistJudge  # noqa: E402
from quality import load_data, score  # noqa: E402


def test_a_variant_value_may_hold_commas():
    assert parse_variant("aug:train.steps=20,tricks.diffaugment=translation,cutout,"
                         "optim.g.lr=1e-3") == \
        ("aug", ["train.steps=20", "tricks.diffaugment=translation,cutout", "optim.g.lr=1e-3"])
    assert parse_variant("preset:") == ("preset", [])


@pytest.mark.skipif(not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the shared MNIST test set is not here")
def test_rescore_gives_the_judges_figures_per_variant_and_seed(tmp_path):
    images = load_data("mnist")[0]  # uint8 (N, 32, 32)
    rng = np.random.default_rng(0)
    digits = images[:300]
    noise = rng.integers(0, 256, digits.shape, dtype=np.uint8)
    folder = tmp_path / "samples"
    folder.mkdir()
    for name, x in (("real_s0", digits), ("real_s1", digits[::-1]), ("noise_s3", noise)):
        np.savez_compressed(folder / f"{name}.npz", samples_u8=x[..., None])
    out = tmp_path / "rows.json"
    assert main(["--rescore", str(folder), "--json", str(out)]) == 0
    rows = {(r["variant"], r["seed"]): r for r in json.loads(out.read_text())}
    assert sorted(rows) == [("noise", 3), ("real", 0), ("real", 1)]
    want = score(MnistJudge(images), digits / 127.5 - 1.0)
    for key in ("fd", "confident", "classes_3pct"):
        assert rows["real", 0][key] == pytest.approx(want[key], rel=1e-9)
        assert rows["real", 1][key] == pytest.approx(want[key], rel=1e-6)  # order-free
    assert rows["noise", 3]["fd"] > 10 * rows["real", 0]["fd"]
