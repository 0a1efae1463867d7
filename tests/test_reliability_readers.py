"""Readers (`jaxgan sample`, `jaxgan eval`, read-only `Checkpointer`) never touch a run.

Evaluating snapshots while a run trains is routine; a reader that created, cleaned or moved
anything in `checkpoints/` would delete the trainer's in-flight save (orbax's
`*.orbax-checkpoint-tmp-*` folders) or a step the trainer still counts on.
"""

import json
import re
import time

import jax
import numpy as np
from _reliability import TOY, assert_trees_equal, load_checkpoint, popen, run

from jaxgan.checkpoint import Checkpointer, CheckpointError

STEPS = 60
ARGS = [*TOY, f"train.steps={STEPS}", "train.checkpoint_every=1", "train.keep_checkpoints=2",
        "eval.num_samples=200"]
NO_CHECKPOINT = re.compile(r"^jaxgan: .*(holds no checkpoint yet|no complete checkpoint)")


def _tree_listing(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_a_reader_leaves_a_tmp_dir_of_an_inflight_save_alone(tmp_path):
    """The data-loss case of issue 14: `sample` and `eval` on a workdir whose trainer is
    mid-save must not remove the save's temporary folder (nor anything else)."""
    wd = tmp_path / "run"
    r = run("train", "--workdir", str(wd), *TOY, "train.steps=2", "train.checkpoint_every=1")
    assert r.returncode == 0, r.stderr[-2000:]
    inflight = wd / "checkpoints" / "2500.orbax-checkpoint-tmp-1" / "x"
    inflight.mkdir(parents=True)
    before = _tree_listing(wd / "checkpoints")
    r = run("sample", str(wd), "--num", "16", "--out", str(tmp_path / "s.png"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "step 2" in r.stdout
    r = run("eval", str(wd), "eval.num_samples=100")
    assert r.returncode == 0, r.stderr[-2000:]
    assert inflight.is_dir()
    assert _tree_listing(wd / "checkpoints") == before


def test_read_only_checkpointer_creates_nothing(tmp_path):
    missing = tmp_path / "nothing" / "checkpoints"
    ckpt = Checkpointer(missing, read_only=True)
    assert ckpt.steps() == [] and ckpt.latest_step() is None
    abstract = {"x": jax.ShapeDtypeStruct((2,), np.float32)}
    try:
        ckpt.restore(abstract)
        raise AssertionError("restore of an empty directory must fail")
    except CheckpointError as e:
        assert "no complete checkpoint" in str(e) and "\n" not in str(e)
    ckpt.close()
    assert not (tmp_path / "nothing").exists()


def test_readers_in_a_loop_while_the_trainer_saves(tmp_path):
    """A trainer saving every step (async, keeping 2, so steps vanish under the readers)
    while `jaxgan sample`, `jaxgan eval` and an in-process read-only restore run in a loop.

    The run must end bit-exactly as an undisturbed one, and every reader call must succeed
    or say in one line that no complete checkpoint exists yet.
    """
    straight = tmp_path / "straight"
    r = run("train", "--workdir", str(straight), *ARGS)
    assert r.returncode == 0, r.stderr[-2000:]

    wd = tmp_path / "busy"
    proc = popen("train", "--workdir", str(wd), *ARGS)
    end = time.monotonic() + 600
    while not (wd / "config.json").exists():  # readers need the run's config
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        assert time.monotonic() < end
        time.sleep(0.02)
    calls = {"sample": 0, "eval": 0, "restore": 0, "succeeded": 0, "no_checkpoint": 0}
    abstract = None
    while proc.poll() is None:
        for verb in ("sample", "eval"):
            args = ([str(wd), "--num", "8", "--out", str(tmp_path / "s.npz")]
                    if verb == "sample" else [str(wd), "--json", "eval.num_samples=200"])
            r = run(verb, *args)
            calls[verb] += 1
            if r.returncode == 0:
                calls["succeeded"] += 1
                continue
            lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
            assert len(lines) == 1 and NO_CHECKPOINT.match(lines[0]), r.stderr[-2000:]
            calls["no_checkpoint"] += 1
        # and the library's read-only view, in process, as a notebook would use it
        ckpt = Checkpointer(wd / "checkpoints", read_only=True)
        if abstract is None and ckpt.latest_step() is not None:
            raw = load_checkpoint(straight, STEPS)
            abstract = jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), raw)
        if abstract is not None:
            try:
                step, restored = ckpt.restore(abstract)
            except CheckpointError as e:  # only "not yet": any other failure fails the test
                assert "no complete checkpoint" in str(e), e
                calls["no_checkpoint"] += 1
            else:
                assert 1 <= step <= STEPS and int(restored["step"]) == step
                calls["succeeded"] += 1
            calls["restore"] += 1
        ckpt.close()
    out, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    print("reader calls", calls)
    assert calls["sample"] >= 2 and calls["eval"] >= 2 and calls["succeeded"] >= 2, calls
    assert calls["restore"] >= 1, calls  # the in-process read-only restore ran too

    assert_trees_equal(load_checkpoint(straight, STEPS), load_checkpoint(wd, STEPS))
    # the trainer's own records are those of the undisturbed run (eval records added)
    def train_records(path):
        recs = [json.loads(ln) for ln in (path / "metrics.jsonl").read_text().splitlines()]
        return [{k: v for k, v in rec.items() if k not in ("steps_per_s", "wall_time")}
                for rec in recs
                if rec.get("kind") != "eval"]
    assert train_records(wd) == train_records(straight)
    assert sorted(p.name for p in (wd / "checkpoints").iterdir()) == \
        sorted(p.name for p in (straight / "checkpoints").iterdir())
