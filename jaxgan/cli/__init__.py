"""The `jaxgan` command. Thin: every verb parses its arguments and calls a library function.

One module per verb (`jaxgan/cli/VERB.py`); this one builds the parser and runs the verb.
Library modules hold no argparse: what a verb does, a notebook can call too.

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
from jaxgan.cli.config import cmd_config, cmd_presets
from jaxgan.cli.sample import cmd_sample
from jaxgan.cli.train import cmd_train

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow only feeds tfds here


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"jaxgan: {message} (see `{self.prog} --help`)\n")


def _user_errors() -> tuple[type[BaseException], ...]:
    from jaxgan.checkpoint import CheckpointError
    from jaxgan.data import DataError
    from jaxgan.diagnostics import DiagnosticsError
    from jaxgan.errors import ConfigError
    from jaxgan.metrics import MetricsError

    return (ConfigError, DataError, CheckpointError, MetricsError, DiagnosticsError)


# Verbs whose modules import JAX and more, which `jaxgan --help` must not wait for: each
# is imported only for the verb being run; the help line is what `jaxgan --help` lists
# (tests/test_cli.py checks it equals the module's own).
LAZY_VERBS = {
    "fid": ("jaxgan.cli.fid", "add_fid_parser",
            "Fréchet Inception Distance between two image sets or statistics files"),
    "eval": ("jaxgan.cli.eval", "add_eval_parser", "compute the configured metrics for a "
             "run's newest checkpoint and append them to metrics.jsonl"),
    "classifier": ("jaxgan.cli.eval", "add_classifier_parser", "train and cache the small "
                   "classifier used by the classifier metrics of a labelled dataset"),
    "doctor": ("jaxgan.cli.doctor", "add_doctor_parser",
               "diagnose a run's training health from its logs"),
    "bench": ("jaxgan.cli.bench", "add_bench_parser",
              "time the compiled train step of a config"),
    "sweep": ("jaxgan.cli.sweep", "add_sweep_parser",
              "train K GANs (seeds x settings) in one program"),
    "prepare": ("jaxgan.cli.prepare", "add_prepare_parser",
                "convert a folder, .npz or tfds dataset to ArrayRecord files for streaming"),
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
    s.add_argument("--truncation", type=float, default=None, metavar="T",
                   help="the truncation trick: redraw latent entries with |z| > T (e.g. 0.5)")
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
