"""The GPU check of issue #18: every figure in one run, each stage in its own process.

    python benchmarks/gpu_check.py all --out DIR [--cpu] [--budget SECONDS]
    python benchmarks/gpu_check.py stage NAME --out DIR [--cpu]
    python benchmarks/gpu_check.py summary --out DIR

`all` runs the stages of `gpu_stages.STAGES` in priority order, each in a subprocess with
its own timeout (at most what is left of `--budget`), so one that fails or hangs loses only
its own figures; then it prints the summary table and writes ``summary.json`` and
``summary.md`` (the table for benchmarks/RESULTS.md) beside the stages' JSON files.
``--cpu`` is the dry run: tiny sizes on JAX's CPU backend (and torch on the CPU), to check
that every step runs; its numbers are not GPU figures and its targets are not judged.
`benchmarks/gpu_check.sh` is the one command for the GPU machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from gpu_stages import SIZES, STAGES  # noqa: E402

# Seconds per stage at most, in priority order: on the GPU, and in the CPU dry run (tiny
# sizes, ~80 s of CPU time in all, but XLA:CPU compiles each step for 10-40 s and the
# shared 2-core machine ran at load 10-11 when it was measured: caps for that).
TIMEOUTS = {
    "gpu": {"env": 45, "dcgan": 150, "torch": 150, "sweep": 75, "fid": 90, "toy": 45,
            "layers": 90},
    "cpu": {"env": 60, "dcgan": 240, "torch": 150, "sweep": 180, "fid": 240, "toy": 180,
            "layers": 180},
}
BUDGET_S = {"gpu": 470, "cpu": 1230}  # GPU: all of it in under 8 minutes, install included
# Dense datasheet peaks of one H200 SXM (the H100 SXM's compute; issue #18's figures).
H200_PEAKS = {"bf16": 989e12, "float32": 67e12}
TARGETS = {"dcgan_vs_eager": 1.5, "dcgan_vs_compile": 1.0, "mfu": 0.25, "sweep_ratio": 0.1,
           "fid_ratio": 2.0}


def stage_command(name: str, out: Path, cpu: bool) -> list[str]:
    """The command line of one stage's process."""
    return [sys.executable, __file__, "stage", name, "--out", str(out)] + \
        (["--cpu"] if cpu else [])


def run_stages(out: Path, cpu: bool, budget: float, stages: list[str],
               command: Callable[[str, Path, bool], list[str]] = stage_command
               ) -> dict[str, Any]:
    """Each stage in a subprocess with min(its timeout, what is left of `budget`); one
    that fails or times out is recorded with its output's tail and the next one runs.
    Returns (and writes as status.json) what became of each."""
    env = dict(os.environ)
    if cpu:
        env["JAX_PLATFORMS"] = "cpu"
        env["CUDA_VISIBLE_DEVICES"] = ""
    start, status = time.monotonic(), {}
    for name in stages:
        left = budget - (time.monotonic() - start)
        limit = min(TIMEOUTS["cpu" if cpu else "gpu"][name], left)
        if limit < 5:
            status[name] = {"status": "skipped: the budget is spent"}
            print(f"gpu_check: {name}: skipped (budget spent)", flush=True)
            continue
        cmd = command(name, out, cpu)
        t = time.monotonic()
        try:
            r = subprocess.run(cmd, env=env, timeout=limit, capture_output=True, text=True)
            st = "ok" if r.returncode == 0 else f"failed (exit {r.returncode})"
            tail = (r.stdout + r.stderr)[-1500:]
        except subprocess.TimeoutExpired as e:
            st = f"timed out after {limit:.0f} s"
            tail = ((e.stdout or b"") + (e.stderr or b""))[-1500:]
            tail = tail.decode(errors="replace") if isinstance(tail, bytes) else tail
        status[name] = {"status": st, "seconds": round(time.monotonic() - t, 1)}
        if st != "ok":
            status[name]["tail"] = tail
        print(f"gpu_check: {name}: {st} in {status[name]['seconds']} s", flush=True)
        if st != "ok":
            print("  " + tail.strip().replace("\n", "\n  ")[-800:], flush=True)
    (out / "status.json").write_text(json.dumps(status, indent=1))
    return status


def _load(out: Path, name: str) -> Any:
    p = out / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _fmt(v: Any, spec: str = ".1f") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, spec) if isinstance(v, (int, float)) else str(v)


def _peaks(env: dict[str, Any] | None) -> tuple[dict[str, float] | None, str]:
    kind = (env or {}).get("device_kind", "")
    if "H200" in kind:
        return H200_PEAKS, f"datasheet dense peaks of {kind}"
    from jaxgan.bench import PEAKS

    return (PEAKS.get(kind.strip()), f"datasheet peaks of {kind}") if kind in PEAKS \
        else (None, f"no datasheet peak for {kind or 'this device'}")


def summarize(out: Path) -> dict[str, Any]:
    """Every figure of the stages' files in one dict and one markdown table."""
    env, dcgan, torch_, layers = (_load(out, n) for n in ("env", "dcgan", "torch", "layers"))
    toy, sweep, fid, status = (_load(out, n) for n in ("toy", "sweep", "fid", "status"))
    peaks, peak_src = _peaks(env)
    mm = (env or {}).get("matmul_flops_per_s", {})
    trows = (torch_ or {}).get("rows", [])
    torch_flops = {r["batch_size"]: r["flops_per_step"] for r in trows if "flops_per_step" in r}
    lines = ["| DCGAN-64 | jaxgan img/s | torch eager | torch.compile | vs eager | "
             "vs compile | jaxgan compile s | torch.compile warm-up s | MFU (datasheet) | "
             "MFU (measured matmul) | MFU, torch's FLOPs |", "|" + " --- |" * 11]
    rows = []
    for r in dcgan or []:
        b, p = r["batch_size"], r["precision"]
        eager = next((t for t in trows if (t["batch_size"], t["precision"], t["mode"])
                      == (b, p, "eager")), {})
        comp = next((t for t in trows if (t["batch_size"], t["precision"], t["mode"])
                     == (b, p, "compile")), {})
        steps_s = r["steps_per_s"]
        peak = (peaks or {}).get(p)
        measured = mm.get(p)
        row = {"batch": b, "precision": p, "jaxgan": r["images_per_s"],
               "eager": eager.get("images_per_s"), "compile": comp.get("images_per_s"),
               "jaxgan_compile_s": r["compile_s"], "torch_warmup_s": comp.get("warmup_s"),
               "flops_per_step": r["flops_per_step"],
               "mfu_datasheet": r["flops_per_step"] * steps_s / peak if peak else None,
               "mfu_matmul": r["flops_per_step"] * steps_s / measured if measured else None,
               "mfu_torch_flops": torch_flops[b] * steps_s / peak
               if peak and b in torch_flops else None}
        row["vs_eager"] = row["jaxgan"] / row["eager"] if row["eager"] else None
        row["vs_compile"] = row["jaxgan"] / row["compile"] if row["compile"] else None
        rows.append(row)
        pct = lambda v: _fmt(None if v is None else 100 * v, ".1f") + \
            (" %" if v is not None else "")  # noqa: E731
        lines.append(f"| batch {b} {p} | {_fmt(row['jaxgan'])} | {_fmt(row['eager'])} | "
                     f"{_fmt(row['compile'])} | {_fmt(row['vs_eager'], '.2f')} | "
                     f"{_fmt(row['vs_compile'], '.2f')} | {_fmt(row['jaxgan_compile_s'])} | "
                     f"{_fmt(row['torch_warmup_s'])} | {pct(row['mfu_datasheet'])} | "
                     f"{pct(row['mfu_matmul'])} | {pct(row['mfu_torch_flops'])} |")
    lay = []
    for r in (layers or {}).get("rows", []):
        base = next((d for d in dcgan or [] if (d["batch_size"], d["precision"]) ==
                     (r["batch_size"], r["precision"])), None)
        lay.append({"precision": r["precision"], "batch": r["batch_size"],
                    "auto": (layers or {}).get("auto"), "auto_images_per_s":
                    base and base["images_per_s"], "other": r["layers"],
                    "other_images_per_s": r["images_per_s"], "other_compile_s": r["compile_s"]})
    extra = ["", "| other figures | value |", "| --- | --- |"]
    for x in lay:
        extra.append(f"| layers {x['precision']} batch {x['batch']}: auto {x['auto']} vs "
                     f"{x['other']} | {_fmt(x['auto_images_per_s'])} vs "
                     f"{_fmt(x['other_images_per_s'])} img/s |")
    if toy and "jaxgan" in toy:
        j = toy["jaxgan"]
        extra.append(f"| toy MLP batch {j['batch_size']}, steps_per_call {j['steps_per_call']}: "
                     f"jaxgan vs torch eager | {_fmt(j['steps_per_s'])} vs "
                     f"{_fmt((toy.get('torch') or {}).get('steps_per_s'))} steps/s "
                     f"(compile {_fmt(j['compile_s'])} s) |")
    if sweep and "sweep_s" in sweep:
        extra.append(f"| sweep of {sweep['runs']} toy runs x {sweep['steps']} steps vs "
                     f"sequential (one compile reused) | {_fmt(sweep['sweep_s'])} s vs "
                     f"{_fmt(sweep.get('sequential_s'))} s, ratio "
                     f"{_fmt(sweep.get('ratio'), '.3f')} |")
    if fid:
        extra.append(f"| FID features {fid['images']} images {fid['size']}px: jaxgan vs "
                     f"pytorch-fid | {_fmt(fid.get('jaxgan_images_per_s'))} vs "
                     f"{_fmt(fid.get('pytorch_fid_images_per_s', fid.get('pytorch_fid')))} "
                     f"img/s, ratio {_fmt(fid.get('ratio'), '.2f')} (jaxgan first call "
                     f"{_fmt(fid.get('jaxgan_first_s'))} s, max rel diff "
                     f"{_fmt(fid.get('max_rel_diff'), '.1e')}) |")
    for k, v in mm.items():
        extra.append(f"| matmul {env.get('matmul_n')}^3 {k} | {v / 1e12:.2f} TFLOP/s |")
    summary = {"env": env, "peaks": peaks, "peak_source": peak_src, "dcgan": rows,
               "layers": lay, "toy": toy, "sweep": sweep, "fid": fid, "status": status,
               "table": "\n".join(lines + extra)}
    summary["targets"] = judge(summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (out / "summary.md").write_text(summary["table"] + "\n")
    return summary


def judge(s: dict[str, Any]) -> dict[str, Any]:
    """Issue #18's targets on one H200, from the run's own ratios; None where the run has
    no figure (or is not on a GPU: a dry run judges nothing)."""
    if ((s.get("env") or {}).get("platform")) != "gpu":
        return {"judged": False, "why": "not a GPU run"}
    big = [r for r in s["dcgan"] if r["precision"] == "bf16" and r["batch"] >= 256]
    r = big[0] if big else {}
    t = {"dcgan_bf16_256_vs_eager": r.get("vs_eager"),
         "dcgan_bf16_256_vs_compile": r.get("vs_compile"),
         "dcgan_bf16_256_mfu": r.get("mfu_datasheet"),
         "sweep_ratio": (s.get("sweep") or {}).get("ratio"),
         "fid_ratio": (s.get("fid") or {}).get("ratio")}
    goal = dict(zip(t, TARGETS.values(), strict=True))
    met = {k: None if v is None else (v <= goal[k] if k == "sweep_ratio" else v >= goal[k])
           for k, v in t.items()}
    return {"judged": True, "values": t, "goals": goal, "met": met}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("all", "stage", "summary"))
    ap.add_argument("name", nargs="?", help="the stage, for `stage`")
    ap.add_argument("--out", default=os.environ.get("OUT") or "gpu_check_out")
    ap.add_argument("--cpu", action="store_true", help="the dry run: tiny sizes on the CPU")
    ap.add_argument("--budget", type=float, default=None,
                    help=f"seconds for all stages (default {BUDGET_S})")
    ap.add_argument("--stages", default=",".join(TIMEOUTS["gpu"]))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.what == "stage":
        if args.cpu:
            os.environ["JAX_PLATFORMS"] = "cpu"
        STAGES[args.name](out, SIZES["cpu" if args.cpu else "gpu"])
        return
    if args.what == "all":
        budget = args.budget if args.budget is not None else BUDGET_S[
            "cpu" if args.cpu else "gpu"]
        run_stages(out, args.cpu, budget, args.stages.split(","))
    s = summarize(out)
    print(s["table"])
    print(json.dumps({"targets": s["targets"], "peak_source": s["peak_source"]}, indent=1,
                     default=str))


if __name__ == "__main__":
    main()
