"""The NaN guard: a NaN injected into the parameters mid-run is caught on device (the
step's `nonfinite` metric); `train.on_nan=stop` keeps the last good checkpoint, writes the
doctor's report and exits 1 with one line; `rollback` restores it with halved learning
rates and goes on, at most `train.max_rollbacks` times."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan import config as config_lib
from jaxgan import run as run_lib
from jaxgan import trainer
from jaxgan.cli import main
from jaxgan.guards import all_finite, learning_rates
from jaxgan.writers import read_jsonl

TOY = ["model.latent_dim=8", "model.mlp.hidden=16", "model.mlp.depth=1",
       "train.batch_size=16", "train.steps_per_call=1", "train.progress=false",
       "train.sample_every=100000", "train.log_every=1", "train.checkpoint_every=2"]


def poison_after(monkeypatch, step: int, times: int) -> list[int]:
    """A test-only wrapper around the compiled step: the first `times` times the state
    reaches `step`, the discriminator's parameters become NaN (as an overflow would)."""
    real = run_lib.build_step
    fired: list[int] = []

    def build(*args, **kwargs):
        fn = real(*args, **kwargs)

        def step_fn(state, batch):
            state, m = fn(state, batch)
            if int(state.step) == step and len(fired) < times:
                fired.append(step)
                state = state.replace(d_params=jax.tree.map(lambda x: x * jnp.nan,
                                                            state.d_params))
            return state, m

        return step_fn

    monkeypatch.setattr(run_lib, "build_step", build)
    return fired


def test_on_nan_stop_keeps_last_good_checkpoint_and_exits_1(tmp_path, monkeypatch, capsys):
    poison_after(monkeypatch, 3, times=99)
    code = main(["train", "--config", "toy_ring_vanilla", "--workdir", str(tmp_path), *TOY,
                 "train.steps=8"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1].startswith("jaxgan: NaN/Inf in losses, gradients or parameters by step 4")
    assert "the last good checkpoint is step 2" in err[-1]
    assert not any("Traceback" in line for line in err)
    steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir()
                   if p.name.isdigit())
    assert steps == [2]  # step 4's non-finite state was refused
    last = read_jsonl(tmp_path / "metrics.jsonl")[-1]
    assert last["step"] == 4 and last["verdict"] == "diverged" and last["nonfinite"] > 0
    assert (tmp_path / "doctor" / "report.md").is_file()


def test_on_nan_rollback_halves_learning_rates_and_finishes(tmp_path, monkeypatch, capsys):
    fired = poison_after(monkeypatch, 5, times=1)
    cfg = config_lib.resolve("toy_ring_vanilla", [*TOY, "train.steps=8", "train.on_nan=rollback"])
    result = trainer.train(cfg, tmp_path)
    assert fired == [5]
    assert int(result.state.step) == 8 and all_finite(result.state)
    assert "rolled back to step 4 with halved learning rates (rollback 1/3)" in \
        capsys.readouterr().err
    assert learning_rates(result.state) == pytest.approx([cfg.optim.g.lr / 2, cfg.optim.d.lr / 2])
    steps = [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")]
    assert steps == [1, 2, 3, 4, 5, 6, 5, 6, 7, 8]  # NaN seen at 6; steps 5-6 re-run


def test_rollbacks_are_bounded(tmp_path, monkeypatch):
    poison_after(monkeypatch, 3, times=99)
    cfg = config_lib.resolve("toy_ring_vanilla", [*TOY, "train.steps=8", "train.on_nan=rollback",
                                          "train.max_rollbacks=2"])
    with pytest.raises(trainer.TrainingDiverged, match="after 2 rollbacks"):
        trainer.train(cfg, tmp_path)
    assert np.isfinite(read_jsonl(tmp_path / "metrics.jsonl")[1]["d_loss"])
