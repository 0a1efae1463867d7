"""Config keys that moved: the flat ``model.*`` fields that became model families' own
sections (``model.info_weight`` is ``model.infogan.weight`` since issue 16).

Why a table, and why here: a run's ``config.json`` (in its workdir, beside its
checkpoints) records every key by the name it had when the run started, and such a run
must still resume, sample and be read. `migrate` rewrites a saved config dict to the
current layout before it is parsed (`jaxgan.schema.from_dict`) or compared with a resumed
run's (`jaxgan.runtime.workdir_guard`). This is history, frozen: the one place outside a
family's own module that spells the family's fields, and it only ever grows.

A KEY=VALUE override with an old name is refused in one line naming the new key
(`renamed_message`) rather than silently translated: a command line says what it sets
by the one name `jaxgan config` prints, and a script using the old name is fixed once.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["RENAMED", "migrate", "renamed_message"]

# old dotted key -> new dotted key
RENAMED: dict[str, str] = {
    "model.mlp_hidden": "model.mlp.hidden",
    "model.mlp_depth": "model.mlp.depth",
    "model.mlp_bias_init": "model.mlp.bias_init",
    "model.info_categorical": "model.infogan.categorical",
    "model.info_continuous": "model.infogan.continuous",
    "model.info_weight": "model.infogan.weight",
    "model.biggan_shared_dim": "model.biggan.shared_dim",
    "model.biggan_hier": "model.biggan.hier",
    "model.stylegan_w_dim": "model.stylegan.w_dim",
    "model.stylegan_mapping_layers": "model.stylegan.mapping_layers",
    "model.stylegan_mapping_lr": "model.stylegan.mapping_lr",
    "model.stylegan_mixing": "model.stylegan.mixing",
    "model.stylegan_mbstd_group": "model.stylegan.mbstd_group",
    "model.stylegan_pl_weight": "model.stylegan.pl_weight",
    "model.stylegan_pl_every": "model.stylegan.pl_every",
    "model.stylegan_pl_batch_shrink": "model.stylegan.pl_batch_shrink",
    "model.progan_stage_steps": "model.progan.stage_steps",
    "model.progan_batch_sizes": "model.progan.batch_sizes",
}


def migrate(raw: Any) -> Any:
    """A copy of the config dict `raw` with every old key (nested, as config.json holds
    them, or dotted at the top level) moved to its new place; a value already at the new
    place wins. Anything that is not a dict is returned as it is, for the parser to
    refuse."""
    if not isinstance(raw, dict):
        return raw
    out = copy.deepcopy(raw)
    for old, new in RENAMED.items():
        section, _, name = old.partition(".")
        holder = out.get(section)
        if isinstance(holder, dict) and name in holder:
            _put(out, new, holder.pop(name))
        if old in out:
            _put(out, new, out.pop(old))
    return out


def _put(d: dict[str, Any], dotted: str, value: Any) -> None:
    *path, leaf = dotted.split(".")
    for part in path:
        nxt = d.get(part)
        if not isinstance(nxt, dict):
            nxt = d[part] = {}
        d = nxt
    d.setdefault(leaf, value)


def renamed_message(key: str, value: str) -> str | None:
    """The one-line refusal of an override that uses an old name, or None."""
    new = RENAMED.get(key)
    if new is None:
        return None
    return f"config key {key!r} is now {new!r} (the family's own section); use {new}={value}"
