"""Bit-exact resume after `kill -9` at random moments, through the real command."""

import random
import signal
import time

from _reliability import (
    TOY,
    assert_trees_equal,
    last_logged_step,
    load_checkpoint,
    popen,
    run,
    wait_for_step,
)

STEPS = 40
ARGS = [*TOY, f"train.steps={STEPS}", "train.checkpoint_every=2", "train.keep_checkpoints=2"]


def test_kill_9_at_random_moments_then_resume_is_bit_exact(tmp_path):
    """SIGKILL three times at random steps (between and during checkpoint saves), re-run
    the same command after each, and end with the parameters of an uninterrupted run.

    Checkpoints every 2 steps with async saves, so kills land mid-save, between saves and
    right after one; the data order and every RNG must come back from the checkpoint.
    """
    straight = tmp_path / "straight"
    r = run("train", "--workdir", str(straight), *ARGS)
    assert r.returncode == 0, r.stderr[-2000:]

    rng = random.Random(20261122)
    wd = tmp_path / "killed"
    kills = []
    for _ in range(3):
        proc = popen("train", "--workdir", str(wd), *ARGS)
        start = last_logged_step(wd)
        target = rng.randint(start + 1, min(start + 8, STEPS - 4))
        reached = wait_for_step(proc, wd, target)
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        assert reached and proc.returncode == -signal.SIGKILL, proc.stderr.read()[-2000:]
        kills.append(last_logged_step(wd))
    print('killed after logged steps', kills)
    assert kills[-1] < STEPS, kills  # every kill interrupted a run that had steps left

    r = run("train", "--workdir", str(wd), *ARGS)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    a, b = load_checkpoint(straight, STEPS), load_checkpoint(wd, STEPS)
    assert int(a["step"]) == int(b["step"]) == STEPS
    assert assert_trees_equal(a, b) > 10  # params, batch stats, both optimizers, EMA, rng
