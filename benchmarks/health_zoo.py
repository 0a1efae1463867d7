"""The failure benchmark the health detectors were not tuned on (issue 12, item 1).

Why: the failure zoo (`jaxgan/configs/zoo_*.py`) is one dataset, one model and one
mechanism per failure, and the detectors were written against it, so their 18/18 there
says little about a user's run. Here every failure kind is induced by four or five
*different* mechanisms (learning rates and their ratio, n_critic, optimizer and momentum,
latent size, capacity imbalance, loss, data size) on four base presets (the 8-mode ring,
the 25-mode grid, the embedded 8x8 digits, the real MNIST test set of `../shared/data/mnist`
at 16x16), each at three seeds, beside stock presets at five seeds as healthy controls.

Ground truth never comes from the detectors: each run is labelled from independent
evidence recorded per run - the judges of `benchmarks/judge.py` on 2,500 (toys) or 1,000
(images) samples of the finished run (the VEEGAN/PacGAN mode count; a scikit-learn digits
classifier's class coverage and confidence) and the raw traces of `metrics.jsonl`
(finiteness, losses, D's accuracies, G's gradient norm), by the rules in `label()`, which
were written before any detector was scored. A run that does not fail as intended is
relabelled to what the evidence says, or dropped when it did not fail at all; the table
says which.

The mechanisms are split in two halves: thresholds may be tuned on half A only, recall and
false positives are reported on half B (and the other way round). Scoring replays each
run's `metrics.jsonl` through the current `HealthMonitor` (`jaxgan doctor`'s replay, which
equals the live verdict), so re-scoring after a detector change needs no retraining.

    python benchmarks/health_zoo.py run --root /tmp/hz --jobs 2      # trains what is missing
    python benchmarks/health_zoo.py score --root /tmp/hz [--json out.json]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from judge import TOYS, DigitsJudge, MnistJudge, mode_count  # noqa: E402
from preset_seeds import train_and_sample  # noqa: E402

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
KINDS = ("mode_collapse", "convergence_failure", "vanishing_gradient", "diverged",
         "oscillation")
SEEDS = (0, 1, 2)
MC_B_SEEDS = (0, 1, 2, 3, 4)
CONTROL_SEEDS = (5, 6, 7, 8, 9)
TINY = 64  # images in the "data size" mechanism's training set


@dataclass(frozen=True)
class Case:
    kind: str  # the failure the mechanism is meant to induce (or "healthy")
    mechanism: str
    half: str  # "A" (thresholds may be tuned on it) | "B" (reported) | "control"
    base: str  # key of BASES
    overrides: tuple[str, ...] = ()
    seeds: tuple[int, ...] = SEEDS

    @property
    def name(self) -> str:
        return f"{self.kind}__{self.base}__{self.mechanism.replace(' ', '_')}"


# base -> (preset, overrides that make it the base). The data paths are filled in by `run`.
# The ring cases keep the batch of 256 they were built and measured on (the stock toy_ring
# moved to 1,024 in session 15); its control is the stock preset, at its own batch.
BASES = {
    "ring": ("toy_ring", ("train.steps=3000", "train.log_every=100", "train.batch_size=256")),
    "grid": ("toy_grid", ("train.steps=3000", "train.log_every=100")),
    "digits": ("dcgan_digits", ("train.steps=1500",)),
    "mnist": ("dcgan_digits", ("data.source=npz", "data.path={mnist16}",
                               "data.resolution=16", "train.steps=1000")),
}
SGD = ("optim.g.name=sgd", "optim.d.name=sgd")
RMS = ("optim.g.name=rmsprop", "optim.d.name=rmsprop")

CASES = [
    # mode collapse
    Case("mode_collapse", "G 10x faster than D", "A", "ring",
         ("optim.g.lr=5e-3", "optim.d.lr=5e-4")),
    Case("mode_collapse", "no packing, small MLPs", "A", "ring",
         ("model.pack=1", "model.mlp.hidden=128", "model.mlp.depth=2")),
    Case("mode_collapse", "G lr 10x D", "A", "digits", ("optim.g.lr=2e-3",)),
    Case("mode_collapse", "batch 8", "A", "digits", ("train.batch_size=8",)),
    Case("mode_collapse", "batch 8", "A", "mnist", ("train.batch_size=8",)),
    # held out at five seeds: three mechanisms give too few labelled collapses at three
    Case("mode_collapse", "latent size 1", "B", "grid", ("model.latent_dim=1",), MC_B_SEEDS),
    Case("mode_collapse", "latent size 1", "B", "digits", ("model.latent_dim=1",), MC_B_SEEDS),
    Case("mode_collapse", "Adam b1 0.9 at lr 2e-3", "B", "mnist",
         ("optim.g.lr=2e-3", "optim.d.lr=2e-3", "optim.g.b1=0.9", "optim.d.b1=0.9"),
         MC_B_SEEDS),
    # D beats G, G still has a gradient
    Case("convergence_failure", "D lr 50x G", "A", "digits",
         ("optim.g.lr=1e-5", "optim.d.lr=5e-4")),
    Case("convergence_failure", "n_critic 5, D lr 100x G", "A", "ring",
         ("train.n_critic=5", "optim.g.lr=2e-5", "optim.d.lr=2e-3")),
    Case("convergence_failure", "tiny dataset", "B", "mnist",
         ("data.path={mnist_tiny}",)),
    Case("convergence_failure", "capacity imbalance", "B", "digits",
         ("model.g_width=4", "model.d_width=128")),
    Case("convergence_failure", "hinge, n_critic 3, D lr 20x G", "B", "grid",
         ("loss.name=hinge", "train.n_critic=3", "optim.g.lr=5e-5", "optim.d.lr=1e-3")),
    # D beats G and G's gradient saturates
    Case("vanishing_gradient", "minimax, D lr 20x G", "A", "ring",
         ("loss.name=minimax", "optim.g.lr=5e-5", "optim.d.lr=1e-3")),
    Case("vanishing_gradient", "minimax, n_critic 5", "A", "digits",
         ("loss.name=minimax", "train.n_critic=5")),
    Case("vanishing_gradient", "minimax, D lr 10x G", "B", "mnist",
         ("loss.name=minimax", "optim.g.lr=2e-5", "optim.d.lr=2e-4")),
    Case("vanishing_gradient", "minimax, tiny dataset", "B", "digits",
         ("loss.name=minimax", "data.source=npz", "data.path={digits_tiny}")),
    Case("vanishing_gradient", "minimax, capacity imbalance", "B", "grid",
         ("loss.name=minimax", "model.mlp.hidden=512", "optim.g.lr=1e-4")),
    # divergence
    Case("diverged", "unconstrained Wasserstein", "A", "ring", ("loss.name=wasserstein",)),
    Case("diverged", "SGD lr 1, momentum 0.9", "A", "digits",
         (*SGD, "optim.g.lr=1.0", "optim.d.lr=1.0", "optim.g.b1=0.9", "optim.d.b1=0.9")),
    Case("diverged", "RMSprop lr 0.05", "B", "mnist",
         (*RMS, "optim.g.lr=5e-2", "optim.d.lr=5e-2")),
    Case("diverged", "SGD lr 2", "B", "grid",
         (*SGD, "optim.g.lr=2.0", "optim.d.lr=2.0", "optim.g.b1=0", "optim.d.b1=0")),
    Case("diverged", "unconstrained Wasserstein, Adam 1e-3", "B", "digits",
         ("loss.name=wasserstein", "optim.g.lr=1e-3", "optim.d.lr=1e-3")),
    # oscillation
    Case("oscillation", "Adam b1 0.9 b2 0.9 at lr 1e-3", "A", "ring",
         ("optim.g.b1=0.9", "optim.d.b1=0.9", "optim.g.b2=0.9", "optim.d.b2=0.9",
          "optim.g.lr=1e-3", "optim.d.lr=1e-3")),
    Case("oscillation", "SGD momentum 0.95", "A", "digits",
         (*SGD, "optim.g.lr=1e-2", "optim.d.lr=1e-2", "optim.g.b1=0.95", "optim.d.b1=0.95")),
    Case("oscillation", "RMSprop lr 1e-3", "B", "grid",
         (*RMS, "optim.g.lr=1e-3", "optim.d.lr=1e-3")),
    Case("oscillation", "Adam b1 0.95 at lr 1e-3", "B", "mnist",
         ("optim.g.lr=1e-3", "optim.d.lr=1e-3", "optim.g.b1=0.95", "optim.d.b1=0.95")),
    Case("oscillation", "Adam b1 0.99 at lr 1e-3", "B", "ring",
         ("optim.g.b1=0.99", "optim.d.b1=0.99", "optim.g.lr=1e-3", "optim.d.lr=1e-3")),
]
# Stock presets (full length, their own settings) as the healthy controls.
CONTROLS = [
    Case("healthy", "stock toy_ring", "control", "ring", ("train.steps=10000",
         "train.log_every=200", "train.batch_size=1024"), CONTROL_SEEDS),
    Case("healthy", "stock toy_grid", "control", "grid", ("train.steps=16000",
         "train.log_every=400"), CONTROL_SEEDS),
    Case("healthy", "stock dcgan_digits", "control", "digits", ("train.steps=3000",),
         CONTROL_SEEDS),
    Case("healthy", "dcgan_digits recipe", "control", "mnist", ("train.steps=2000",),
         CONTROL_SEEDS[:3]),
]


def data_files(root: Path) -> dict[str, str]:
    """The .npz training sets the cases name: MNIST at 16x16, and tiny subsets."""
    from sklearn.datasets import load_digits

    from jaxgan.data.images import to_resolution

    out = {}
    root.mkdir(parents=True, exist_ok=True)
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz") as f:
        m_labels = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    m16 = to_resolution(raw[..., None], 16, 1)
    d = load_digits()
    digits = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    # labels ride along so that the trainer's live class count works as for a user's data
    for key, images, labels in (("mnist16", m16, m_labels),
                                ("mnist_tiny", m16[:TINY], m_labels[:TINY]),
                                ("digits_tiny", digits[:TINY], d.target[:TINY])):
        path = root / f"{key}.npz"
        if not path.exists():
            np.savez(path, images=images, labels=labels)
        out[key] = str(path)
    return out


def command(case: Case, files: dict[str, str]) -> tuple[str, list[str]]:
    preset, base = BASES[case.base]
    overrides = [o.format(**files) for o in (*base, *case.overrides)]
    return preset, overrides


def train_case(case: Case, seed: int, root: Path, files: dict[str, str]) -> dict:
    """Train one run with the real commands (unless done before) and record its evidence."""
    wd_root = root / case.name
    evidence = wd_root / f"s{seed}.json"
    if evidence.exists():
        return json.loads(evidence.read_text())
    preset, overrides = command(case, files)
    toy = case.base in ("ring", "grid")
    done = wd_root / f"{preset}_s{seed}" / "samples.npz"
    try:
        if done.exists():  # trained before (an interrupted benchmark, or copied in)
            samples, wall, workdir = np.load(done)["samples"], None, str(done.parent)
        else:
            res = train_and_sample(preset, seed, overrides, wd_root, 2500 if toy else 1000)
            samples, wall, workdir = res["samples"], res["wall_s"], res["workdir"]
    except RuntimeError as e:  # the trainer refused or stopped (a NaN stop exits 0)
        samples, wall, workdir = None, None, str(wd_root / f"{preset}_s{seed}")
        if not Path(workdir, "metrics.jsonl").exists():
            raise RuntimeError(f"{case.name} seed {seed}: {e}") from None
    out = {"case": case.name, "seed": seed, "wall_s": wall, "workdir": workdir,
           "judge": judge_samples(case, samples), "trace": trace(Path(workdir))}
    evidence.write_text(json.dumps(out, indent=1))
    return out


_JUDGES: dict[str, object] = {}


def judge_samples(case: Case, samples: np.ndarray | None) -> dict | None:
    """The independent judge's view of the finished run's samples (None: no samples)."""
    if samples is None:
        return None
    samples = np.asarray(samples, np.float64)
    if not np.isfinite(samples).all():
        return {"finite": False}
    if case.base in ("ring", "grid"):
        centers, std = TOYS[f"toy_{case.base}"]
        return {"finite": True, **mode_count(samples, centers, std)}
    if case.base not in _JUDGES:
        _JUDGES[case.base] = DigitsJudge() if case.base == "digits" else \
            MnistJudge(_mnist16_images(), train=8000)
    out = _JUDGES[case.base].score(samples).as_dict()
    return {"finite": True, **out}


def _mnist16_images() -> np.ndarray:
    """The judge's MNIST set at 16x16 uint8 scaled to its 0..255 input."""
    from jaxgan.data.images import to_resolution

    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    return to_resolution(raw[..., None], 16, 1)[..., 0]


def trace(workdir: Path) -> dict:
    """The raw signals of metrics.jsonl, per record (no verdict fields)."""
    keys = ("step", "d_loss", "g_loss", "d_real_acc", "d_fake_acc", "d_fake_prob",
            "g_grad_norm", "d_grad_norm", "nonfinite")
    rows = []
    for line in (workdir / "metrics.jsonl").read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "step" in rec and ("d_loss" in rec or "nonfinite" in rec):
            rows.append({k: _num(rec.get(k)) for k in keys if k in rec})
    return {"records": rows}


def _num(v):
    if isinstance(v, str):
        return float(v)  # "nan" / "inf" as the writer stores them
    return v


# ---------------------------------------------------------------------------------------
# Ground truth: rules over the judge and the raw traces, never the detectors.
NN_RATIO_MAX = 1.5  # samples' distance to the nearest training image / held-out reals'
SPREAD_MIN = 0.2  # distance between samples / between held-out reals


def label(case: Case, ev: dict) -> tuple[str | None, str]:
    """(the failure the evidence shows or None for a run that did not fail, why)."""
    recs = ev["trace"]["records"]
    j = ev["judge"]
    bound = 1e4 if "wasserstein" in " ".join(case.overrides) else 1e3
    for r in recs:
        vals = [r.get(k) for k in ("d_loss", "g_loss", "g_grad_norm", "d_grad_norm")]
        if r.get("nonfinite") or any(v is not None and not np.isfinite(v) for v in vals):
            return "diverged", f"non-finite values at step {r['step']}"
        if any(v is not None and abs(v) >= bound for v in vals[:2]):
            return "diverged", f"|loss| >= {bound:g} at step {r['step']}"
    if j is None or not j.get("finite", True):
        return "diverged", "no finite samples"
    late = recs[len(recs) // 2:]
    early = recs[: max(2, len(recs) // 10)]
    toy = case.base in ("ring", "grid")
    if toy:
        coverage_lost, poor = j["modes"] <= 0.5 * j["num_modes"], j["high_quality"] < 0.1
        quality = f"{j['modes']}/{j['num_modes']} modes, {100 * j['high_quality']:.1f} % HQ"
    else:
        # Good samples are classified with confidence AND lie near the data: the judge's
        # MLP is sure of gray noise or stripes too (1 class, 95-100 % confident, at 2.4-4.4x
        # held-out reals' distance to the nearest training image; healthy runs 0.85-0.95).
        # Every z giving the same image (spread near 0) loses coverage whatever it looks like.
        near = j.get("nn_ratio", 1.0) <= NN_RATIO_MAX
        coverage_lost = j["classes_3pct"] <= 6 or j.get("spread_ratio", 1.0) < SPREAD_MIN
        poor = j["confident"] < 0.3 or not near
        quality = f"{j['classes_3pct']} classes >= 3 %, {100 * j['confident']:.1f} % " \
            f"confident, NN x{j.get('nn_ratio', float('nan')):.2f}, spread " \
            f"x{j.get('spread_ratio', float('nan')):.2f}"
    if coverage_lost and not poor:  # good samples, of few modes
        return "mode_collapse", quality
    if not (poor or coverage_lost):
        return None, quality
    med = {k: _median(late, k) for k in ("d_real_acc", "d_fake_acc", "d_fake_prob",
                                         "g_grad_norm", "g_loss")}
    g_start, g_loss_start = _median(early, "g_grad_norm"), _median(early, "g_loss")
    d_ahead = (med["d_real_acc"] or 0) >= 0.85 and (med["d_fake_acc"] or 0) >= 0.85
    g_losing = (med["d_fake_prob"] is not None and med["d_fake_prob"] <= 0.2) or \
        (g_loss_start is not None and med["g_loss"] is not None and
         med["g_loss"] > 2 * abs(g_loss_start) + 0.5)
    if d_ahead and g_losing:
        # minimax: G's gradient scales with D(G(z)); <= 0.05 is 10x below a balanced game
        saturated = med["d_fake_prob"] is not None and med["d_fake_prob"] <= 0.05
        g_dead = bool(g_start) and med["g_grad_norm"] is not None and \
            med["g_grad_norm"] < 0.1 * g_start
        if "loss.name=minimax" in case.overrides and (saturated or g_dead):
            return "vanishing_gradient", f"{quality}; D ahead, D(G(z)) " \
                f"{med['d_fake_prob']:.3g}, G grad {med['g_grad_norm']:.3g} " \
                f"(early {g_start:.3g})"
        return "convergence_failure", f"{quality}; D ahead (late medians " \
            f"{med['d_real_acc']:.2f} / {med['d_fake_acc']:.2f}), G losing"
    # D's accuracy swinging across its range late in the run is an oscillation whatever
    # the coverage: a G flung around by the swings covers few modes at the end too, and
    # judging coverage first labelled every oscillating toy run a collapse (session 12).
    crossings, amplitude = _oscillates(late, "d_fake_acc")
    if crossings >= 4 and amplitude >= 0.2:
        return "oscillation", f"{quality}; late D fake accuracy crosses its median " \
            f"{crossings} times, p90-p10 {amplitude:.2f}"
    if coverage_lost:  # few modes and D neither winning nor swinging: G on a thin set
        return "mode_collapse", quality
    return "failed", quality  # failed, but by none of the kinds' evidence


def onset(case: Case, ev: dict, truth: str | None) -> int | None:
    """The step the raw traces show the failure from, where they can: the first record of
    divergence; for D beating G, the first record from which both D accuracies stay >= 0.85
    in 70 % of the remaining records. None for collapse and oscillation (the judge sees only
    the finished run)."""
    recs = ev["trace"]["records"]
    if truth == "diverged":
        bound = 1e4 if "wasserstein" in " ".join(case.overrides) else 1e3
        for r in recs:
            vals = [r.get(k) for k in ("d_loss", "g_loss", "g_grad_norm", "d_grad_norm")]
            if r.get("nonfinite") or any(v is not None and not np.isfinite(v) for v in vals) \
                    or any(v is not None and abs(v) >= bound for v in vals[:2]):
                return int(r["step"])
        return None
    if truth in ("convergence_failure", "vanishing_gradient"):
        ahead = [(r.get("d_real_acc") or 0) >= 0.85 and (r.get("d_fake_acc") or 0) >= 0.85
                 for r in recs]
        for i in range(len(recs)):
            if ahead[i] and np.mean(ahead[i:]) >= 0.7:
                return int(recs[i]["step"])
    return None


def _median(recs: list[dict], key: str) -> float | None:
    vals = [r[key] for r in recs if r.get(key) is not None]
    return float(np.median(vals)) if vals else None


def _oscillates(recs: list[dict], key: str) -> tuple[int, float]:
    """(swings from below the p25 band to above the p75 band or back, p90 - p10)."""
    vals = np.array([r[key] for r in recs if r.get(key) is not None], np.float64)
    if len(vals) < 6:
        return 0, 0.0
    lo, hi = np.percentile(vals, [25, 75])
    side, crossings = 0, 0
    for v in vals:
        now = 1 if v >= hi else (-1 if v <= lo else 0)
        if now and side and now != side:
            crossings += 1
        side = now or side
    return crossings, float(np.percentile(vals, 90) - np.percentile(vals, 10))


# ---------------------------------------------------------------------------------------
@dataclass
class Scored:
    case: Case
    seed: int
    truth: str | None
    why: str
    verdicts: list[tuple[int, str]] = field(default_factory=list)  # (step, verdict) changes
    at_risk: list[str] = field(default_factory=list)
    onset: int | None = None

    @property
    def latency(self) -> int | None:
        """Steps from the raw traces' onset to the first verdict naming the truth."""
        found = self.first(self.truth) if self.truth in KINDS else None
        return None if found is None or self.onset is None else found - self.onset

    @property
    def seen(self) -> set[str]:
        return {v for _, v in self.verdicts} - {"healthy"}

    def first(self, name: str) -> int | None:
        return next((s for s, v in self.verdicts if v == name), None)


def replay(workdir: str) -> tuple[list[tuple[int, str]], list[str]]:
    """The verdict changes and at-risk warnings of the current monitor on a run's records."""
    from jaxgan.diagnostics.doctor import diagnose

    report = diagnose(workdir)
    changes, risks = [], []
    for v in report.verdicts:
        if not changes or changes[-1][1] != v.name:
            changes.append((v.step, v.name))
        if v.at_risk and v.at_risk not in risks:
            risks.append(v.at_risk)
    return changes, risks


def score(root: Path) -> list[Scored]:
    out = []
    for case in CASES + CONTROLS:
        for seed in case.seeds:
            path = root / case.name / f"s{seed}.json"
            if not path.exists():
                continue
            ev = _refreshed(case, path, json.loads(path.read_text()))
            truth, why = label(case, ev)
            if case.half == "control":
                truth = "healthy" if truth is None else f"control failed: {truth}"
            changes, risks = replay(ev["workdir"])
            out.append(Scored(case, seed, truth, why, changes, risks, onset(case, ev, truth)))
    return out + score_kept(root / "kept")


# Controls kept as traces (too long to retrain with the benchmark): the shipped dcgan_mnist
# at its full budget, five seeds, with the judge's scores of their EMA samples (session 18).
KEPT = Path(__file__).resolve().parent / "traces" / "dcgan_mnist_5000"
KEPT_CASE = Case("healthy", "stock dcgan_mnist, 32x32, 5,000 it. (kept traces)", "control",
                 "mnist32", (), (0, 1, 2, 3, 4))


def score_kept(scratch: Path) -> list[Scored]:
    """The kept controls replayed through the current monitor; truth by the same image rule
    as `label` (>= 7 classes with >= 3 % of the samples and >= 30 % confident) and the FD."""
    kept = json.loads((KEPT / "judge.json").read_text())
    judged, floor = {r["seed"]: r for r in kept["rows"]}, kept["fd_floor"]
    out = []
    for seed in KEPT_CASE.seeds:
        wd = scratch / f"dcgan_mnist_s{seed}"
        wd.mkdir(parents=True, exist_ok=True)
        (wd / "config.json").write_bytes((KEPT / "config.json").read_bytes())
        with gzip.open(KEPT / f"s{seed}.metrics.jsonl.gz") as f:
            (wd / "metrics.jsonl").write_bytes(f.read())
        j = judged[seed]
        good = j["classes_3pct"] > 6 and j["confident"] >= 0.3
        why = f"{j['classes_3pct']} classes >= 3 %, {100 * j['confident']:.1f} % confident, " \
            f"FD {j['fd']:.2f} (held-out reals {floor:.2f})"
        changes, risks = replay(str(wd))
        out.append(Scored(KEPT_CASE, seed, "healthy" if good else "control failed", why,
                          changes, risks))
    return out


def _refreshed(case: Case, path: Path, ev: dict) -> dict:
    """Evidence judged before the judge measured spread: judged again from the run's saved
    samples (no retraining), and saved."""
    j = ev.get("judge")
    samples = Path(ev["workdir"], "samples.npz")
    if case.base in ("ring", "grid") or not j or "spread_ratio" in j or not samples.exists():
        return ev
    ev["judge"] = judge_samples(case, np.load(samples)["samples"])
    path.write_text(json.dumps(ev, indent=1))
    return ev


def summarize(rows: list[Scored]) -> dict:
    """Recall per (half, kind) over runs whose truth is a failure kind; false positives of
    the controls; and each run's line."""
    table: dict = defaultdict(lambda: {"runs": 0, "named": 0, "worst_latency": None})
    for r in rows:
        if r.truth in KINDS:
            t = table[(r.case.half, r.truth)]
            t["runs"] += 1
            t["named"] += r.truth in r.seen
            if r.latency is not None:
                t["worst_latency"] = max(r.latency, t["worst_latency"] or r.latency)
    controls = [r for r in rows if r.case.half == "control"]
    # runs of a failure mechanism that did not fail by the evidence (good samples, covered):
    # a failure verdict standing at their end is a false alarm too
    fine = [r for r in rows if r.case.half in ("A", "B") and r.truth is None]
    return {"recall": {f"{h}/{k}": v for (h, k), v in sorted(table.items())},
            "controls": {"runs": len(controls),
                         "valid": sum(r.truth == "healthy" for r in controls),
                         "flagged": sum(bool(r.seen) for r in controls if r.truth == "healthy"),
                         "at_risk": sum(bool(r.at_risk) for r in controls)},
            "did_not_fail": {"runs": len(fine),
                             "ending_flagged": sum(bool(r.verdicts) and
                                                   r.verdicts[-1][1] != "healthy"
                                                   for r in fine)}}


def print_rows(rows: list[Scored]) -> None:
    for r in rows:
        named = "-" if r.truth not in KINDS else ("NAMED" if r.truth in r.seen else "missed")
        if r.case.half == "control":
            named = "flagged" if r.seen else "clean"
        first = r.first(r.truth) if r.truth in KINDS else None
        shown = " > ".join(f"{v}@{s}" for s, v in r.verdicts)
        print(f"{r.case.half} {r.case.name:<64} s{r.seed} truth={r.truth} "
              f"({'as intended' if r.truth == r.case.kind else 'relabelled'}) {named}"
              f"{'' if first is None else f' at step {first}'}"
              f"{'' if r.onset is None else f' (onset {r.onset})'} | {shown} | {r.why}")


# ---------------------------------------------------------------------------------------
# The autopilot's rescue rate: each failing run trained again with health.on_failure=remedy.
RESCUE_CKPT = {"ring": 200, "grid": 200, "digits": 250, "mnist": 250}  # a recent healthy one


def rescue(root: Path, rows: list[Scored], files: dict[str, str], seeds: tuple[int, ...],
           jobs: int, only: tuple[str, ...] = ()) -> list[dict]:
    """Retrain the failing runs (truth in KINDS, the given seeds, names containing one of
    `only`, or all)
    with the autopilot on and judge them: rescued = the final verdict healthy and the judge
    within 10 % of the healthy controls' median coverage (toys: modes; images: classes
    >= 3 % and confidence)."""
    controls = _control_medians(root, rows)
    todo = [r for r in rows if r.truth in KINDS and r.seed in seeds and r.case.base in controls
            and _picked(r.case.name, only)]

    def one(r: Scored) -> dict:
        case = Case(r.case.kind, r.case.mechanism + " remedy", r.case.half, r.case.base,
                    (*r.case.overrides, "health.on_failure=remedy",
                     f"train.checkpoint_every={RESCUE_CKPT[r.case.base]}"), (r.seed,))
        ev = train_case(case, r.seed, root / "rescue", files)
        changes, _ = replay(ev["workdir"])
        pilot = Path(ev["workdir"], "autopilot.json")
        applied = json.loads(pilot.read_text()) if pilot.exists() else []
        j, ref = ev["judge"], controls[r.case.base]
        if j is None or not j.get("finite", True):
            close = False
        elif r.case.base in ("ring", "grid"):
            close = j["modes"] >= 0.9 * ref["modes"]
        else:
            close = j["classes_3pct"] >= 0.9 * ref["classes_3pct"] and \
                j["confident"] >= 0.9 * ref["confident"]
        final = changes[-1][1] if changes else "?"
        return {"case": r.case.name, "seed": r.seed, "truth": r.truth, "final": final,
                "judge": j, "close_to_healthy": close, "rescued": final == "healthy" and close,
                "remedies": [a.get("remedy", a) if isinstance(a, dict) else a
                             for a in (applied if isinstance(applied, list)
                                       else applied.get("applied", []))]}

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, todo))


def _picked(name: str, only: tuple[str, ...]) -> bool:
    return not only or any(o in name for o in only)


def _control_medians(root: Path, rows: list[Scored]) -> dict[str, dict[str, float]]:
    by_base: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.case.half == "control" and r.truth == "healthy" and r.case.base in BASES:
            ev = json.loads((root / r.case.name / f"s{r.seed}.json").read_text())
            by_base[r.case.base].append(ev["judge"])
    return {b: {k: float(np.median([j[k] for j in js])) for k in js[0]
                if isinstance(js[0][k], (int, float)) and not isinstance(js[0][k], bool)}
            for b, js in by_base.items()}


def markdown(rows: list[Scored]) -> str:
    """One table row per mechanism: what each seed turned out to be and what was named."""
    lines = ["| half | intended | mechanism (base) | per seed: truth -> named? (first step) |",
             "|---|---|---|---|"]
    by_case: dict = defaultdict(list)
    for r in rows:
        by_case[r.case].append(r)
    for case, rs in by_case.items():
        cells = []
        for r in rs:
            if case.half == "control":
                cells.append(f"s{r.seed}: {r.truth}, " + ("flagged " + "/".join(sorted(r.seen))
                                                          if r.seen else "clean"))
            elif r.truth not in KINDS:
                cells.append(f"s{r.seed}: {r.truth or 'did not fail'} (dropped)")
            else:
                got = r.first(r.truth)
                other = "/".join(sorted(r.seen - {r.truth})) or "-"
                cells.append(f"s{r.seed}: {r.truth} -> " + (f"named ({got})" if got is not None
                                                            else f"missed (said {other})"))
        lines.append(f"| {case.half} | {case.kind} | {case.mechanism} ({case.base}) | "
                     + "; ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["run", "score", "rescue"])
    p.add_argument("--seeds", type=int, nargs="+", default=None,
                   help="the seeds to train (run: default each case's own; rescue: of the "
                   "failing runs to retrain, default 0)")
    p.add_argument("--root", required=True)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--only", nargs="+", default=(),
                   help="train only cases whose name contains one of these")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    root = Path(args.root)
    if args.action == "rescue":
        out = rescue(root, score(root), data_files(root / "data"),
                     tuple(args.seeds or [0]), args.jobs, tuple(args.only))
        for o in out:
            print(json.dumps({k: v for k, v in o.items() if k != "judge"}), o["judge"])
        by_kind: dict = defaultdict(lambda: [0, 0])
        for o in out:
            by_kind[o["truth"]][0] += o["rescued"]
            by_kind[o["truth"]][1] += 1
        print({k: f"{a}/{n}" for k, (a, n) in by_kind.items()})
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1))
        return 0
    if args.action == "run":
        files = data_files(root / "data")
        todo = [(c, s) for c in CASES + CONTROLS if _picked(c.name, tuple(args.only))
                for s in c.seeds if args.seeds is None or s in args.seeds]
        with ThreadPoolExecutor(args.jobs) as pool:
            for ev in pool.map(lambda cs: train_case(*cs, root, files), todo):
                print(ev["case"], ev["seed"], ev["judge"], flush=True)
        return 0
    rows = score(root)
    print_rows(rows)
    print(markdown(rows))
    summary = summarize(rows)
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"summary": summary, "rows": [{"case": r.case.name, "half": r.case.half,
                                           "seed": r.seed, "truth": r.truth, "why": r.why,
                                           "verdicts": r.verdicts, "at_risk": r.at_risk}
                                          for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
