"""The README's lists of plug-ins are the registries: a loss, model family, metric,
detector, data source or optimizer registered without its README line (or a README line
left for one that is gone) fails here, so the README cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _sections(text: str) -> dict[str, str]:
    """Header title -> the text up to the next header (headers in code blocks ignored)."""
    out: dict[str, list[str]] = {}
    current, fenced = "", False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,6} ", line):
            current = line.lstrip("#").strip()
            out[current] = []
        else:
            out.setdefault(current, []).append(line)
    return {k: "\n".join(v) for k, v in out.items()}


SECTIONS = _sections(README)


def _table_names(section: str, header: str) -> list[str]:
    """The backticked names in the first column of the table whose header starts with
    ``| header |`` (rows whose first cell has no backticks, e.g. notes, are skipped)."""
    lines = SECTIONS[section].splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(f"| {header} |"))
    names = []
    for ln in lines[start + 2:]:
        if not ln.startswith("|"):
            break
        names += re.findall(r"`([^`]+)`", ln.split("|")[1])
    return names


def _tree_list(entry: str, marker: str) -> list[str]:
    """The names listed after `marker` in the architecture tree's entry `entry` (e.g.
    ``losses.py``): from the first ':' after it to the first ';' or the entry's end,
    parenthesized notes dropped, names separated by ',' or '/'."""
    block = SECTIONS["Architecture"].split("```text")[1].split("```")[0]
    lines = block.splitlines()
    start = next(i for i, ln in enumerate(lines) if re.match(rf"  {re.escape(entry)}\s", ln))
    text = lines[start]
    for ln in lines[start + 1:]:
        if not ln.startswith("    "):
            break
        text += " " + ln.strip()
    text = text[text.index(marker) + len(marker):]
    while re.search(r"\([^()]*\)", text):
        text = re.sub(r"\([^()]*\)", "", text)
    text = text[text.index(":") + 1:].split(";")[0]
    return [n.strip() for n in re.split(r"[,/]", text) if n.strip()]


def _registry(kind: str) -> list[str]:
    if kind == "loss":
        from jaxgan.losses import LOSSES as table
    elif kind == "model family":
        from jaxgan.models import FAMILIES as table
    elif kind == "metric":
        from jaxgan.metrics.registry import METRICS as table
    elif kind == "detector":
        from jaxgan.diagnostics.detectors import REGISTRY as table
    elif kind == "data source":
        from jaxgan.data.sources import SOURCES as table
    else:
        from jaxgan.state import OPTIMIZERS as table
    return list(table)


LISTS = {
    "loss": lambda: _tree_list("losses.py", "register_loss"),
    "model family": lambda: _tree_list("models/", "register_model"),
    "optimizer": lambda: _tree_list("state.py", "register_optimizer"),
    "metric": lambda: _table_names("Evaluation", "metric"),
    "detector": lambda: _table_names("Training health: is my GAN healthy?", "detector"),
    "detector (troubleshooting)": lambda: _table_names(
        "Troubleshooting: what to try for each verdict", "verdict"),
    "data source": lambda: [n for ln in SECTIONS["Data"].splitlines()
                            if (m := re.match(r"\* (`[^`]+`(?:, `[^`]+`)*) —", ln))
                            for n in re.findall(r"`([^`]+)`", m.group(1))],
}


@pytest.mark.parametrize("kind", sorted(LISTS))
def test_readme_list_is_the_registry(kind):
    listed = LISTS[kind]()
    registered = _registry(kind.split(" (")[0])
    assert len(listed) == len(set(listed)), f"README lists a {kind} twice: {listed}"
    missing, stale = set(registered) - set(listed), set(listed) - set(registered)
    assert not missing and not stale, (f"README.md's {kind} list: add {sorted(missing)}, "
                                       f"remove {sorted(stale)}")


def test_readme_detector_priority_is_the_registry_order():
    text = SECTIONS["Training health: is my GAN healthy?"]
    line = " ".join(text.split("Priority when several fire:")[1].split(".")[0].split())
    assert [n.strip() for n in line.split(">")] == _registry("detector")


def test_the_list_parsers_see_real_lists():
    """Not vacuous: each parser finds the names a reader sees today."""
    assert _tree_list("models/", "register_model")[:2] == ["dcgan", "mlp"]
    assert "least_squares" in LISTS["loss"]() and "rmsprop" in LISTS["optimizer"]()
    assert {"fid", "mode_coverage"} <= set(LISTS["metric"]())
    assert {"folder", "npz", "toy_grid"} <= set(LISTS["data source"]())
