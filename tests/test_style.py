"""The code base stays ruff-clean (the house style), checked with the same tests as the rest."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_ruff_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    r = subprocess.run([ruff, "check", "jaxgan", "tests", "benchmarks", "notebooks"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:]


def test_modules_stay_small():
    """About 400 lines at most per module; a module that grows past 460 should be split."""
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
             for p in (ROOT / "jaxgan").rglob("*.py")}
    too_big = {k: v for k, v in sizes.items() if v > 460}
    assert not too_big, too_big
