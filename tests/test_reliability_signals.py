"""SIGTERM/SIGINT during `jaxgan train` (a real subprocess): save, flush, exit 0; a second
signal exits at once and leaves every committed checkpoint readable."""

import json
import signal
import time

from _reliability import TOY, load_checkpoint, popen, wait_for_step

ARGS = [*TOY, "train.steps=100000", "train.checkpoint_every=5", "train.keep_checkpoints=3"]
BOUND_S = 60  # generous: the test machine is shared; on a quiet one it takes ~1 s


def test_sigterm_saves_flushes_and_exits_0(tmp_path):
    proc = popen("train", "--workdir", str(tmp_path), *ARGS)
    assert wait_for_step(proc, tmp_path, 3), proc.stderr.read()[-2000:]
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=BOUND_S * 3)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, err[-2000:]
    assert elapsed < BOUND_S, elapsed
    assert "SIGTERM received" in err and "Traceback" not in err
    assert "stopped early: signal" in out
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text()
               .splitlines()]
    last = records[-1]["step"]
    assert 3 <= last < 100000
    # the step in flight was finished, logged AND checkpointed, whatever checkpoint_every says
    steps = sorted(int(p.name) for p in (tmp_path / "checkpoints").iterdir()
                   if p.name.isdigit())
    assert steps[-1] == last, (steps, last)
    assert int(load_checkpoint(tmp_path, last)["step"]) == last


def test_second_signal_exits_at_once_without_corrupting_checkpoints(tmp_path):
    proc = popen("train", "--workdir", str(tmp_path), *ARGS)
    assert wait_for_step(proc, tmp_path, 6), proc.stderr.read()[-2000:]
    while not (tmp_path / "checkpoints" / "5").is_dir():  # committed (renamed from tmp)
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)  # starts a final save that the second signal cuts
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=BOUND_S * 3)
    assert time.monotonic() - t0 < BOUND_S
    assert proc.returncode in (0, 128 + signal.SIGINT), err[-2000:]  # 0: the save won
    assert "Traceback" not in err
    if proc.returncode:
        assert "second signal, exiting now" in err
    committed = [p for p in (tmp_path / "checkpoints").iterdir() if p.name.isdigit()]
    assert committed
    for p in committed:  # every checkpoint orbax calls committed is complete and readable
        assert int(load_checkpoint(tmp_path, int(p.name))["step"]) == int(p.name)
