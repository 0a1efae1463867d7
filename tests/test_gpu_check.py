"""benchmarks/gpu_check.py, the GPU check's driver, without a GPU and without its stages:
each stage runs in its own process under its own timeout, so one that hangs or fails costs
only its figures; the summary computes ratios and MFU from the stages' files and judges
issue #18's targets only on a GPU. (The stages themselves run in the `--cpu` dry run,
`bash benchmarks/gpu_check.sh --cpu`, whose result is in benchmarks/RESULTS.md.)"""

from __future__ import annotations

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import gpu_check  # noqa: E402


def _fake(name, out, cpu):
    """Stand-in stages: one writes its file, one hangs, one fails."""
    code = {"env": f"open({str(out / 'env.json')!r}, 'w').write('{{}}')",
            "dcgan": "import time; time.sleep(30)",
            "torch": "raise SystemExit(3)"}.get(name, "pass")
    return [sys.executable, "-c", code]


def test_a_hung_or_failed_stage_costs_only_itself(tmp_path, monkeypatch):
    monkeypatch.setitem(gpu_check.TIMEOUTS, "cpu", {"env": 20, "dcgan": 6, "torch": 20,
                                                    "sweep": 20, "fid": 20})
    status = gpu_check.run_stages(tmp_path, True, 60, ["env", "dcgan", "torch", "sweep"],
                                  command=_fake)
    assert status["env"]["status"] == "ok" and (tmp_path / "env.json").exists()
    assert status["dcgan"]["status"] == "timed out after 6 s"
    assert 5.5 < status["dcgan"]["seconds"] < 15
    assert status["torch"]["status"] == "failed (exit 3)"
    assert status["sweep"]["status"] == "ok"  # the next stage still ran
    assert json.loads((tmp_path / "status.json").read_text()) == status
    # a spent budget skips what is left instead of starting it
    status = gpu_check.run_stages(tmp_path, True, 3, ["env", "fid"], command=_fake)
    assert status == {"env": {"status": "skipped: the budget is spent"},
                      "fid": {"status": "skipped: the budget is spent"}}


def _write(out, name, data):
    (out / f"{name}.json").write_text(json.dumps(data))


def _stage_files(out, platform="gpu"):
    _write(out, "env", {"platform": platform, "device_kind": "NVIDIA H200",
                        "matmul_flops_per_s": {"bf16": 790e12, "float32": 60e12},
                        "matmul_n": 8192})
    _write(out, "dcgan", [{"batch_size": 256, "precision": "bf16", "images_per_s": 30000.0,
                           "steps_per_s": 30000.0 / 256, "compile_s": 12.0,
                           "flops_per_step": 2.0e12}])
    _write(out, "torch", {"rows": [
        {"batch_size": 256, "precision": "bf16", "mode": "eager", "images_per_s": 15000.0,
         "warmup_s": 1.0, "flops_per_step": 1.5e12},
        {"batch_size": 256, "precision": "bf16", "mode": "compile", "images_per_s": 25000.0,
         "warmup_s": 40.0}]})
    _write(out, "sweep", {"runs": 64, "steps": 2000, "sweep_s": 3.0, "sequential_s": 40.0,
                          "ratio": 3.0 / 40.0})
    _write(out, "fid", {"images": 2048, "size": 32, "jaxgan_images_per_s": 5000.0,
                        "pytorch_fid_images_per_s": 2000.0, "ratio": 2.5})


def test_summary_ratios_mfu_and_targets(tmp_path):
    _stage_files(tmp_path)
    s = gpu_check.summarize(tmp_path)
    (row,) = s["dcgan"]
    assert row["vs_eager"] == pytest.approx(2.0) and row["vs_compile"] == pytest.approx(1.2)
    steps_s = 30000.0 / 256
    assert row["mfu_datasheet"] == pytest.approx(2.0e12 * steps_s / 989e12)  # 23.7 %
    assert row["mfu_matmul"] == pytest.approx(2.0e12 * steps_s / 790e12)
    assert row["mfu_torch_flops"] == pytest.approx(1.5e12 * steps_s / 989e12)
    t = s["targets"]
    assert t["judged"] and t["met"] == {
        "dcgan_bf16_256_vs_eager": True, "dcgan_bf16_256_vs_compile": True,
        "dcgan_bf16_256_mfu": False, "sweep_ratio": True, "fid_ratio": True}
    assert "| batch 256 bf16 | 30000.0 | 15000.0 | 25000.0 | 2.00 | 1.20 |" in s["table"]
    assert (tmp_path / "summary.md").read_text().startswith("| DCGAN-64 |")


def test_a_dry_run_or_missing_files_judge_nothing(tmp_path):
    _stage_files(tmp_path, platform="cpu")
    assert gpu_check.summarize(tmp_path)["targets"] == {"judged": False,
                                                        "why": "not a GPU run"}
    empty = tmp_path / "empty"
    empty.mkdir()
    s = gpu_check.summarize(empty)  # nothing measured: a table with no rows, no crash
    assert s["dcgan"] == [] and s["targets"]["judged"] is False
