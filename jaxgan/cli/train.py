"""`jaxgan train`: train (or resume) the run a preset and its overrides describe
(`jaxgan.trainer.train`)."""

from __future__ import annotations

import argparse
import os


def cmd_train(args: argparse.Namespace) -> int:
    from jaxgan import config as config_lib
    from jaxgan.parallel import maybe_initialize_distributed

    maybe_initialize_distributed(args.coordinator, args.num_processes, args.process_id)
    import jax

    from jaxgan.trainer import train

    cfg = config_lib.resolve(args.config, args.overrides, jax.device_count())
    workdir = args.workdir or os.path.join("runs", cfg.name)
    result = train(cfg, workdir, force=args.force)
    if jax.process_index() == 0 and not result.already_finished:  # (train() said so)
        rec = result.last_record
        summary = ", ".join(f"{k}={rec[k]:.3f}" for k in ("d_loss", "g_loss") if k in rec)
        status = f" (stopped early: {result.stopped_early})" if result.stopped_early else ""
        print(f"jaxgan: step {rec.get('step', 0)} in {workdir}: {summary}"
              f"{', health=' + rec['verdict'] if 'verdict' in rec else ''}{status}")
    if jax.process_index() == 0:
        print(f"jaxgan: samples in {os.path.join(workdir, 'samples', 'latest.png')}, metrics "
              f"in {os.path.join(workdir, 'metrics.jsonl')}")
    return 0
