"""Damaged checkpoints are detected, reported in one line and skipped for the previous good
one; a killed save's temporary directory is ignored; saving never deletes the last good
checkpoint before the new one is committed."""

import shutil
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest
from jax.sharding import SingleDeviceSharding

from jaxgan.checkpoint import Checkpointer, CheckpointError, abstract_like

TREE = {"w": jnp.zeros((64, 64)), "b": jnp.zeros(10)}


def _tree(step: int) -> dict:
    return {"w": jnp.full((64, 64), float(step)), "b": jnp.arange(10.0) * step}


def _abstract():
    return abstract_like(TREE, SingleDeviceSharding(jax.devices()[0]))


@pytest.fixture(scope="module")
def two_steps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ckpt")
    c = Checkpointer(root / "checkpoints", keep=3)
    for s in (1, 2):
        c.save(s, _tree(s))
    c.close()
    return root


def _files(root: Path) -> list[str]:
    newest = root / "checkpoints" / "2"
    return sorted(str(p.relative_to(newest)) for p in newest.rglob("*") if p.is_file())


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # orbax's
# abandoned read coroutines on a damaged file; the restore itself reports the damage
@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_every_damaged_file_is_detected_or_harmless(two_steps, tmp_path, damage, capfd):
    """Damage each file of the newest checkpoint in turn: the restore either reports it in
    one line and falls back to step 1, or (a file the restore does not need) returns step 2
    with the right values. Never wrong values, never a traceback."""
    detected = []
    for rel in _files(two_steps):
        work = tmp_path / rel.replace("/", "_")
        shutil.copytree(two_steps, work)
        path = work / "checkpoints" / "2" / rel
        data = bytearray(path.read_bytes())
        if damage == "truncate":
            data = data[: len(data) // 2]
        else:
            for i in range(len(data) // 3, len(data) // 3 + 16):
                data[i] ^= 0xFF
        path.write_bytes(bytes(data))
        c = Checkpointer(work / "checkpoints")
        step, state = c.restore(_abstract())
        c.close()
        np.testing.assert_array_equal(np.asarray(state["w"]), np.full((64, 64), float(step)))
        np.testing.assert_array_equal(np.asarray(state["b"]), np.arange(10.0) * step)
        err = capfd.readouterr().err
        if step == 1:
            detected.append(rel)
            lines = [ln for ln in err.splitlines() if ln.startswith("jaxgan:")]
            assert len(lines) == 1 and "checkpoints/2 is unreadable" in lines[0], err
            assert "moved to" in lines[0] and "trying an older one" in lines[0]
            # moved aside, not deleted, so that step 2 can be saved again
            assert not (work / "checkpoints" / "2").exists()
            assert list((work / "checkpoints.corrupt").iterdir())
        else:
            assert step == 2
    # the array data and the tree metadata are always among the detected ones
    assert any(r.startswith("d/") or "/d/" in r for r in detected), detected
    assert "default/_METADATA" in detected


def test_nothing_readable_is_one_line_error(two_steps, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(two_steps, work)
    for s in ("1", "2"):
        (work / "checkpoints" / s / "default" / "_METADATA").write_bytes(b"\x00garbage")
    c = Checkpointer(work / "checkpoints")
    with pytest.raises(CheckpointError) as e:
        c.restore(_abstract())
    assert "no readable checkpoint" in str(e.value) and "\n" not in str(e.value)


def test_partial_tmp_dir_of_a_killed_save_is_ignored_and_cleaned(two_steps, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(two_steps, work)
    partial = work / "checkpoints" / "3.orbax-checkpoint-tmp-1234567"
    (partial / "default").mkdir(parents=True)
    (partial / "default" / "_METADATA").write_bytes(b"{half a json")
    c = Checkpointer(work / "checkpoints")
    assert c.steps() == [1, 2]
    step, _ = c.restore(_abstract())
    assert step == 2
    c.save(3, _tree(3))  # the step the killed save was writing can be saved again
    c.close()
    assert not partial.exists()
    assert Checkpointer(work / "checkpoints").steps() == [1, 2, 3]


def test_old_checkpoint_is_deleted_only_after_the_new_one_is_committed(tmp_path, monkeypatch):
    """keep=1: when orbax deletes step 1, step 2 must already be complete and readable."""
    c = Checkpointer(tmp_path / "checkpoints", keep=1)
    c.save(1, _tree(1))
    c.wait()
    seen = []
    deleter = c.manager._checkpoint_deleter
    real = deleter.delete_steps

    def spy(steps):
        if steps:
            assert (tmp_path / "checkpoints" / "2").is_dir()
            restored = ocp.PyTreeCheckpointer().restore(
                str(tmp_path / "checkpoints" / "2" / "default"))
            seen.append((list(steps), float(np.asarray(restored["w"])[0, 0])))
        return real(steps)

    monkeypatch.setattr(deleter, "delete_steps", spy)
    c.save(2, _tree(2))
    c.close()
    assert seen == [([1], 2.0)]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["2"]


def test_training_resumes_from_the_previous_good_checkpoint(tmp_path, capfd):
    """Through the trainer: the newest checkpoint's array data truncated (a disk that
    filled up); the re-run says so in one line, resumes from the one before, saves that
    step again and finishes with the same parameters as an undamaged run."""
    from jaxgan import config as config_lib
    from jaxgan.trainer import train
    from jaxgan.writers import read_jsonl

    cfg = config_lib.resolve("toy_ring_vanilla", [
        "model.latent_dim=8", "model.mlp.hidden=16", "model.mlp.depth=1",
        "train.batch_size=16", "train.progress=false", "train.steps_per_call=1",
        "train.sample_every=100000", "train.log_every=1", "train.checkpoint_every=2",
        "train.steps=4"])
    train(cfg, tmp_path)
    shutil.copytree(tmp_path / "checkpoints" / "4", tmp_path / "good4")
    data = [p for p in (tmp_path / "checkpoints" / "4" / "default" / "d").iterdir()]
    for p in data:
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    capfd.readouterr()
    result = train(cfg, tmp_path)
    err = [ln for ln in capfd.readouterr().err.splitlines() if ln.startswith("jaxgan:")]
    assert len(err) == 4 and "checkpoints/4 is unreadable" in err[0], err
    assert err[1:] == ["jaxgan: toy_ring_vanilla on 1 cpu device, global batch 16",
                       "jaxgan: resumed from step 2", "jaxgan: compiling the step..."], err
    assert int(result.state.step) == 4
    assert [r["step"] for r in read_jsonl(tmp_path / "metrics.jsonl")] == [1, 2, 3, 4]
    again = ocp.PyTreeCheckpointer().restore(str(tmp_path / "checkpoints" / "4" / "default"))
    first = ocp.PyTreeCheckpointer().restore(str(tmp_path / "good4" / "default"))
    for x, y in zip(jax.tree.leaves(first), jax.tree.leaves(again), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
