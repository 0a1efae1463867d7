"""The `jaxgan` command. Thin: every verb parses its arguments and calls a library function.

Mistakes a user can make (bad config, bad data, missing weights, corrupt checkpoints) are
printed as ONE line on stderr with exit status 2 and no traceback; a run that diverges
exits 1 with one line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from jaxgan.argparsing import intermixed

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow only feeds tfds here


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"jaxgan: {message} (see `{self.prog} --help`)\n")


def _user_errors() -> tuple[type[BaseException], ...]:
    from jaxgan.checkpoint import CheckpointError
    from jaxgan.config import ConfigError
    from jaxgan.data import DataError
    from jaxgan.diagnostics import DiagnosticsError
    from jaxgan.metrics import MetricsError

    return (ConfigError, DataError, CheckpointError, MetricsError, DiagnosticsError)


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


def cmd_sample(args: argparse.Namespace) -> int:
    import jax

    from jaxgan.config import ConfigError
    from jaxgan.readers import load_run
    from jaxgan.sampling import write_samples

    if not args.out.endswith((".png", ".npz")):
        raise ConfigError(f"--out must end in .png (a grid) or .npz (raw samples), got "
                          f"{args.out}")
    if args.num <= 0:
        raise ConfigError(f"--num must be a positive integer, got {args.num}")
    run = load_run(args.workdir)
    samples = run.sample(args.num, args.seed, use_ema=not args.no_ema)
    centers = run.source.centers if run.source.is_toy else None
    out = write_samples(samples, args.out, centers)
    if jax.process_index() == 0:
        print(f"jaxgan: wrote {args.num} samples of step {run.step} to {out}")
    return 0


def first_paragraph(doc: str) -> str:
    """A docstring's first paragraph (up to the first blank line) as one line."""
    lines = []
    for line in doc.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def cmd_presets(args: argparse.Namespace) -> int:
    from jaxgan.config import list_presets

    for name in list_presets():
        mod = __import__(f"jaxgan.configs.{name}", fromlist=["get_config"])
        print(f"{name:24s} {first_paragraph(mod.__doc__ or '')}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """`jaxgan config [PRESET] [KEY=VALUE ...] [--keys]`: what a run would be trained with."""
    import json

    from jaxgan import config as config_lib
    from jaxgan.schema import describe_keys

    preset, overrides = args.config, list(args.overrides)
    if overrides and "=" not in overrides[0]:  # `jaxgan config PRESET KEY=VALUE ...`
        if preset:
            raise config_lib.ConfigError(f"give the preset once, not both {overrides[0]} and "
                                         f"--config {preset}")
        preset = overrides.pop(0)
    cfg = config_lib.resolve(preset, overrides)
    if not args.keys:
        print(cfg.to_json())
        return 0
    chosen = {k: v for k, _, v in describe_keys(cfg)}
    rows = [("KEY", "TYPE", "DEFAULT", f"{cfg.name.upper()} (where it differs)")]
    rows += [(k, t, json.dumps(d), json.dumps(chosen[k]) if chosen[k] != d else "")
             for k, t, d in describe_keys()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print(("  ".join(f"{c:{w}}" for c, w in zip(row[:3], widths, strict=True)) +
               f"  {row[3]}").rstrip())
    return 0


# Verbs whose parsers live beside their code, imported only for the verb being run (their
# modules import JAX and more, which `jaxgan --help` must not wait for); the help line is
# what `jaxgan --help` lists (tests/test_cli.py checks it equals the module's own).
LAZY_VERBS = {
    "fid": ("jaxgan.metrics.commands", "add_fid_parser",
            "Fréchet Inception Distance between two image sets or statistics files"),
    "eval": ("jaxgan.evaluate", "add_eval_parser", "compute the configured metrics for a "
             "run's newest checkpoint and append them to metrics.jsonl"),
    "classifier": ("jaxgan.evaluate", "add_classifier_parser", "train and cache the small "
                   "classifier used by the classifier metrics of a labelled dataset"),
    "doctor": ("jaxgan.diagnostics.doctor", "add_doctor_parser",
               "diagnose a run's training health from its logs"),
    "bench": ("jaxgan.bench", "add_bench_parser", "time the compiled train step of a config"),
    "sweep": ("jaxgan.sweep", "add_sweep_parser",
              "train K GANs (seeds x settings) in one program"),
}


def _verb_of(argv: Sequence[str]) -> str | None:
    """The verb of a command line (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(verbs: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The `jaxgan` parser. Of the `LAZY_VERBS`, only those in `verbs` (all when None) get
    their full parsers; the others are listed with their help line only."""
    from jaxgan import __version__

    p = _Parser(prog="jaxgan", description="Functional GAN training in JAX.")
    p.add_argument("--version", action="version", version=f"jaxgan {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    t = intermixed(sub.add_parser("train", help="train (or resume) a GAN"))
    t.add_argument("--config", default=None,
                   help="preset name (see `jaxgan presets`) or a .py/.json config file; "
                        "default dcgan_digits")
    t.add_argument("--workdir", default=None, help="output directory; default runs/NAME")
    t.add_argument("--force", action="store_true",
                   help="reuse a workdir that holds a different run's config")
    t.add_argument("--coordinator", default=None, help="multi-host: coordinator HOST:PORT")
    t.add_argument("--num-processes", type=int, default=None, help="multi-host: process count")
    t.add_argument("--process-id", type=int, default=None, help="multi-host: this process id")
    t.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="dotted overrides, e.g. train.steps=2000 optim.d.lr=4e-4 seed=3")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="write samples of a run's newest checkpoint")
    s.add_argument("workdir")
    s.add_argument("--num", type=int, default=64)
    s.add_argument("--out", default="samples.png", help="FILE.png (grid) or FILE.npz")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--no-ema", action="store_true", help="use the raw generator weights")
    s.set_defaults(func=cmd_sample)

    pr = sub.add_parser("presets", help="list the presets")
    pr.set_defaults(func=cmd_presets)

    c = intermixed(sub.add_parser("config", help="print a preset's resolved config as JSON, "
                                  "or with --keys every key with its type and default"))
    c.add_argument("--config", default=None,
                   help="preset name or .py/.json config file (or give it first, before the "
                        "KEY=VALUEs); default dcgan_digits")
    c.add_argument("--keys", action="store_true",
                   help="every key: type, default, and this config's value where it differs")
    c.add_argument("overrides", nargs="*", metavar="[PRESET] KEY=VALUE")
    c.set_defaults(func=cmd_config)

    for verb, (mod, fn, help_line) in LAZY_VERBS.items():
        if verbs is not None and verb not in verbs:
            sub.add_parser(verb, help=help_line, add_help=False)
            continue
        getattr(__import__(mod, fromlist=[fn]), fn)(sub)
    return p


def _refuse_urls(args: argparse.Namespace) -> None:
    """A URL workdir (or output file) is refused before anything is written (`paths`)."""
    from jaxgan.paths import refuse_url

    for attr, what in (("workdir", "workdir"), ("out", "--out")):
        value = getattr(args, attr, None)
        if isinstance(value, str) and value:
            refuse_url(value, what)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser([v] if (v := _verb_of(argv)) else [])
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed as one line
        return int(e.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        _refuse_urls(args)
        return int(args.func(args) or 0)
    except _user_errors() as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(msg if msg.startswith("jaxgan:") else f"jaxgan: {msg}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `jaxgan doctor RUN --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("jaxgan: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        from jaxgan.trainer import TrainingDiverged

        if isinstance(e, TrainingDiverged):
            print(f"jaxgan: {e}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
