"""`jaxgan eval WORKDIR` (`jaxgan.evaluate.evaluate`) and `jaxgan classifier`
(`jaxgan.classifier.train_classifier`)."""

from __future__ import annotations

import json
from typing import Any

from jaxgan.argparsing import intermixed
from jaxgan.evaluate import evaluate


def add_eval_parser(subparsers: Any) -> None:
    p = intermixed(subparsers.add_parser("eval", help="compute the configured metrics for "
                                          "a run's newest checkpoint and append them to "
                                          "metrics.jsonl"))
    p.add_argument("workdir")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: one on a terminal, if train.progress)")
    p.add_argument("--step", type=int, default=None,
                   help="evaluate this kept checkpoint instead of the newest (see "
                        "train.keep_every and train.keep_best)")
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                   help="e.g. eval.num_samples=5000 eval.metrics=fid,kid")
    p.set_defaults(func=run_eval)


def run_eval(args: Any) -> int:
    rec = evaluate(args.workdir, args.overrides,
                   progress=False if getattr(args, "no_progress", False) else None,
                   step=getattr(args, "step", None))
    if args.json:
        print(json.dumps(rec))
    else:
        shown = {k: v for k, v in rec.items() if k not in ("kind",)}
        print("jaxgan: " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in shown.items()))
    return 0


def add_classifier_parser(subparsers: Any) -> None:
    p = intermixed(subparsers.add_parser("classifier", help="train and cache the small "
                                          "classifier used by the classifier metrics of a "
                                          "labelled dataset"))
    p.add_argument("--config", default=None, help="preset or config file naming the data")
    p.add_argument("--out", default=None, help="where to save it (default: the cache)")
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    p.set_defaults(func=run_classifier)


def run_classifier(args: Any) -> int:
    from jaxgan.classifier import train_classifier
    from jaxgan.config import resolve

    cfg = resolve(args.config, args.overrides)
    clf = train_classifier(cfg, args.out, steps=args.steps)
    print(f"jaxgan: classifier for {cfg.data.name or cfg.data.source} "
          f"({cfg.data.resolution}px): held-out accuracy {clf.test_accuracy:.3f}, saved to "
          f"{clf.path}")
    return 0
