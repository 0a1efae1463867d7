"""Throughput of the train step with the health signals on vs off, in one run.

The health signals (discriminator accuracies and probabilities, per-layer gradient norms,
update ratios, batch diversity, NaN flags) must not cost the step: the goal is a
throughput ratio (on / off) of at least 0.95. The "on" side calls the steps the trainer
calls: with one iteration per call, the light step inside each log interval and the full
one at its end (`RunSetup.light_fn`). Rounds alternate between the two compiled
steps so that load on a shared machine hits both alike; the ratio is the median of the
per-round ratios.

The trainer also computes one signal per log record outside the step: the live mode count
of a 2-D toy, the live class count of a labelled image run (256 samples through jaxgan's
small classifier), each for the training and the EMA generator
(`jaxgan.coverage_probe.CoverageProbe`). `--records` times that against one log interval of
steps of the same run (`train.log_every` iterations), the share a user pays for it.

    python benchmarks/health_overhead.py [--rounds 7] [--steps 40]
    python benchmarks/health_overhead.py --records
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax

from jaxgan import config as config_lib
from jaxgan import parallel
from jaxgan.run import host_batches, setup_run
from jaxgan.state import init_state

WORKLOADS = {
    "dcgan_digits (16x16, batch 64)": ("dcgan_digits", []),
    "dcgan 64x64x3, batch 64": ("dcgan_digits", ["data.resolution=64", "data.channels=3",
                                                 "model.latent_dim=100"]),
    "toy_ring MLP (batch 256, 50 steps/call)": ("toy_ring_vanilla", []),
    "toy_ring preset (pack 4, 3 x 256, batch 1,024)": ("toy_ring", []),
}


def _runner(preset: str, overrides: list[str], health: bool):
    cfg = config_lib.resolve(preset, [*overrides, f"health.enabled={health}"])
    run = setup_run(cfg)
    state = parallel.create_replicated(
        lambda: init_state(run.models, cfg.seed, run.sample_shape), run.mesh)
    batch = parallel.host_to_global(next(host_batches(run, 0, cfg.train.steps_per_call)),
                                    run.mesh, batch_axis=2)
    for fn in {run.step_fn, run.light_fn} - {None}:  # compile (the full and light steps)
        state, m = fn(state, batch)
    jax.block_until_ready(m)
    holder = {"state": state, "step": 0}

    def timed(calls: int) -> float:
        s, step = holder["state"], holder["step"]
        t = time.perf_counter()
        for _ in range(calls):  # the trainer's choice of step at each call
            s, m = run.step_at(step % cfg.train.steps)(s, batch)
            step += cfg.train.steps_per_call
        jax.block_until_ready((s, m))
        holder["state"], holder["step"] = s, step
        return calls * cfg.train.steps_per_call / (time.perf_counter() - t)

    return timed, cfg.train.steps_per_call


RECORD_WORKLOADS = {
    "dcgan_digits, class count (log every 50)": ("dcgan_digits", []),
    "toy_ring, mode count (log every 200)": ("toy_ring", []),
}


def record_signal_cost(preset: str, overrides: list[str], rounds: int) -> dict[str, float]:
    """Median seconds of one record's signal and of one log interval of steps."""
    from jaxgan.classifier import health_classifier
    from jaxgan.coverage_probe import CoverageProbe

    cfg = config_lib.resolve(preset, overrides)
    run = setup_run(cfg)
    state = parallel.create_replicated(
        lambda: init_state(run.models, cfg.seed, run.sample_shape), run.mesh)
    batch = parallel.host_to_global(next(host_batches(run, 0, cfg.train.steps_per_call)),
                                    run.mesh, batch_axis=2)
    clf = None if run.source.is_toy else health_classifier(cfg, run.source)

    probe = CoverageProbe(run, clf)

    def signal(s):
        return probe(s, cfg.train.steps)  # both generators, as logged

    state, m = run.step_fn(state, batch)
    signal(state)  # compile both
    steps_t, sig_t = [], []
    calls = cfg.train.log_every // cfg.train.steps_per_call
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            state, m = run.step_fn(state, batch)
        jax.block_until_ready((state, m))
        steps_t.append(time.perf_counter() - t)
        t = time.perf_counter()
        signal(state)
        sig_t.append(time.perf_counter() - t)
    interval, sig = statistics.median(steps_t), statistics.median(sig_t)
    return {"log_interval_s": interval, "signal_s": sig, "share": sig / (interval + sig)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=40, help="GAN iterations per round")
    p.add_argument("--only", default="", help="substring of a workload name")
    p.add_argument("--records", action="store_true",
                   help="time the per-record signals (mode / class count) instead")
    args = p.parse_args()
    results = {}
    if args.records:
        for name, (preset, overrides) in RECORD_WORKLOADS.items():
            results[name] = r = record_signal_cost(preset, overrides, args.rounds)
            print(f"{name:42s} interval {r['log_interval_s']:.3f} s  signal "
                  f"{r['signal_s']:.4f} s  share {100 * r['share']:.1f} %", flush=True)
        print(json.dumps(results))
        return
    for name, (preset, overrides) in WORKLOADS.items():
        if args.only and args.only not in name:
            continue
        on, spc = _runner(preset, overrides, True)
        off, _ = _runner(preset, overrides, False)
        calls = max(args.steps // spc, 1)
        ratios, r_on, r_off = [], [], []
        for _ in range(args.rounds):
            a, b = on(calls), off(calls)
            r_on.append(a)
            r_off.append(b)
            ratios.append(a / b)
        results[name] = {"steps_per_s_on": statistics.median(r_on),
                         "steps_per_s_off": statistics.median(r_off),
                         "ratio_on_over_off": statistics.median(ratios)}
        print(f"{name:42s} on {results[name]['steps_per_s_on']:8.1f} it/s  off "
              f"{results[name]['steps_per_s_off']:8.1f} it/s  ratio "
              f"{results[name]['ratio_on_over_off']:.3f}", flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
