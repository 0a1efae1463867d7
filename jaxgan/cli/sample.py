"""`jaxgan sample WORKDIR`: samples of a run's newest checkpoint (`jaxgan.load_run`),
without loading its dataset."""

from __future__ import annotations

import argparse


def cmd_sample(args: argparse.Namespace) -> int:
    import jax

    from jaxgan.errors import ConfigError
    from jaxgan.readers import load_run
    from jaxgan.sampling import write_samples

    if not args.out.endswith((".png", ".npz")):
        raise ConfigError(f"--out must end in .png (a grid) or .npz (raw samples), got "
                          f"{args.out}")
    if args.num <= 0:
        raise ConfigError(f"--num must be a positive integer, got {args.num}")
    truncation = getattr(args, "truncation", None)
    if truncation is not None and not truncation > 0:
        raise ConfigError(f"--truncation must be a positive threshold, got {truncation}")
    run = load_run(args.workdir)
    samples = run.sample(args.num, args.seed, use_ema=not args.no_ema, truncation=truncation)
    centers = run.source.centers if run.source.is_toy else None
    out = write_samples(samples, args.out, centers)
    if jax.process_index() == 0:
        note = f" (latents truncated at {truncation})" if truncation is not None else ""
        print(f"jaxgan: wrote {args.num} samples of step {run.step} to {out}{note}")
    return 0
