"""Progressive GAN's per-stage batch sizes: the data stream, the programs, the checks.

The end-to-end check (a run with per-stage batches resumes mid-growth exactly) is
`tests/test_zoo_train.py::test_progan_resumes_mid_growth_in_the_same_stage_and_alpha`.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from jaxgan import config as C
from jaxgan.data.images import ImageSource
from jaxgan.models.progan import _stages_of_batch, batch_plan, stage_batch_size


def _cfg(*overrides: str) -> C.Config:
    return C.resolve("progan_celeba", ["data.source=digits", "data.channels=1",
                                       "data.resolution=8", "model.progan.stage_steps=2",
                                       "train.batch_size=8", "model.progan.batch_sizes=8,4",
                                       *overrides])


def test_stage_batch_sizes_repeat_the_last_entry():
    cfg = _cfg("data.resolution=32", "model.progan.batch_sizes=8,8,4")
    assert [stage_batch_size(cfg, s) for s in range(4)] == [8, 8, 4, 4]
    plain = _cfg("model.progan.batch_sizes=", "train.batch_size=6")
    assert [stage_batch_size(plain, s) for s in range(2)] == [6, 6]


@pytest.mark.parametrize("n_critic", [1, 2])
def test_batch_plan_reads_one_contiguous_stream(n_critic):
    """8x8: stage 0 for steps 0-1 at batch 8, stage 1 from step 2 at batch 4. Round k
    starts where round k-1 ended, and `source.batch(index, b)` starts at index * b."""
    plan = batch_plan(_cfg(f"train.n_critic={n_critic}"))
    rounds = [plan(k) for k in range(7 * n_critic)]
    sizes = [b for _, b in rounds]
    assert sizes == [8] * (2 * n_critic) + [4] * (5 * n_critic)
    starts = [i * b for i, b in rounds]
    assert starts == list(np.cumsum([0] + sizes[:-1]))
    # the same rounds asked for out of order (as a resume does) give the same answers
    assert [plan(k) for k in reversed(range(len(rounds)))] == rounds[::-1]


def test_host_batches_follow_the_stage_and_the_stream():
    """The trainer's host batches: shape per step from the stage, samples 0..27 of the
    epoch-0 permutation in order, whether the run starts at step 0 or resumes at step 3."""
    from jaxgan.run import host_batches

    cfg = _cfg()
    images = np.arange(40, dtype=np.uint8).reshape(40, 1, 1, 1) * np.ones((1, 8, 8, 1),
                                                                         np.uint8)
    src = ImageSource(images, seed=3)
    run = SimpleNamespace(cfg=cfg, source=src)
    got = list(host_batches(run, 0, 5))
    assert [g["image"].shape for g in got] == [(1, 1, 8, 8, 8, 1)] * 2 + \
        [(1, 1, 4, 8, 8, 1)] * 3
    seen = np.concatenate([np.rint((g["image"][0, 0, :, 0, 0, 0] + 1) * 127.5) for g in got])
    np.testing.assert_array_equal(seen, src.permutation(0)[:28])
    resumed = list(host_batches(run, 3, 5))
    for a, b in zip(resumed, got[3:], strict=True):
        np.testing.assert_array_equal(a["image"], b["image"])


def test_each_program_holds_only_the_stages_of_its_batch():
    cfg = _cfg("data.resolution=16", "model.progan.batch_sizes=8,4")

    def batch(b):
        return {"image": np.zeros((1, b, 16, 16, 1), np.float32)}

    assert _stages_of_batch(cfg, batch(8), None, 2) == [0]
    assert _stages_of_batch(cfg, batch(4), None, 2) == [1, 2]
    assert _stages_of_batch(cfg, batch(6), None, 2) == [0, 1, 2]  # e.g. a bench at any size
    plain = _cfg("model.progan.batch_sizes=")
    assert _stages_of_batch(plain, batch(8), None, 1) == [0, 1]


@pytest.mark.parametrize("overrides, message", [
    (["model.progan.batch_sizes=8,3"], "stage 1's batch 3 must divide the 16 samples"),
    (["train.batch_size=4"], "train.batch_size=4 must equal the first stage's batch"),
    (["train.steps_per_call=4"], "progan.stage_steps=2 must be a multiple of train.steps_"),
    (["model.progan.batch_sizes=8,0"], "must be positive integers"),
])
def test_batch_size_mistakes_name_the_field(overrides, message):
    with pytest.raises(C.ConfigError, match=message):
        _cfg(*overrides)


def test_batch_sizes_only_for_progan_and_divisible_by_devices():
    with pytest.raises(C.ConfigError, match="applies to model.generator=progan only"):
        C.resolve("dcgan_digits", ["model.progan.batch_sizes=64"])
    with pytest.raises(C.ConfigError, match="must all be divisible by the device count 8"):
        C.validate(_cfg("model.progan.batch_sizes=8,4"), 8)
    # the preset's schedule is valid at 128x128 and at any smaller resolution
    for res in (128, 32):
        C.resolve("progan_celeba", [f"data.resolution={res}"])


def test_a_run_from_before_new_config_keys_still_resumes(tmp_path):
    """config.json written before `tricks.drift_penalty` and `model.progan.batch_sizes`
    existed: an absent key meant its default, so the workdir is the same run."""
    from jaxgan.runtime import workdir_guard

    cfg = C.resolve("dcgan_digits", [])
    old = json.loads(cfg.to_json())
    del old["tricks"]["drift_penalty"], old["model"]["progan"]["batch_sizes"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    workdir_guard(cfg, tmp_path, write=False)  # no error
    changed = C.resolve("dcgan_digits", ["tricks.drift_penalty=0.01"])
    with pytest.raises(C.ConfigError, match="tricks.drift_penalty: 0.0 -> 0.01"):
        workdir_guard(changed, tmp_path, write=False)
