"""Model families' own config sections (``model.NAME.*``) and the table of the old flat
``model.*`` keys they replaced (`jaxgan.legacy.RENAMED`): old config.json files load and
resume, old overrides fail in one line naming the new key, `jaxgan config` shows the
sections."""

import json
from pathlib import Path

import pytest

from jaxgan import config as C
from jaxgan.legacy import RENAMED, migrate
from jaxgan.schema import describe_keys

FIXTURE = Path(__file__).parent / "fixtures" / "run_before_16" / "config.json"


def _distinct(typ: str, i: int):
    """A value of the key's type that no default has."""
    return {"int": 7 + i, "float": 0.125 + i, "bool": "flip", "list[int]": [3 + i, 1]}[typ]


def _every_section_key_set() -> C.Config:
    cfg = C.load_preset("dcgan_digits")
    keys = {k: (t, v) for k, t, v in describe_keys(cfg)}
    for i, new in enumerate(RENAMED.values()):
        typ, value = keys[new]
        section, name = new.split(".")[1:]
        setattr(getattr(cfg.model, section), name,
                (not value) if typ == "bool" else _distinct(typ, i))
    return cfg


def test_every_old_key_maps_to_a_current_key_and_back():
    """Each entry names a key that exists now (and its old name does not), and a config
    written in the old layout, every moved key at a non-default value, reads back equal."""
    current = {k for k, _, _ in describe_keys()}
    assert set(RENAMED.values()) <= current
    assert not set(RENAMED) & current
    cfg = _every_section_key_set()
    old = cfg.to_dict()
    for before, after in RENAMED.items():  # write it as a pre-sections config.json
        section, name = after.split(".")[1:]
        old["model"][before.split(".")[1]] = old["model"][section].pop(name)
    for section in {a.split(".")[1] for a in RENAMED.values()}:
        if not old["model"][section]:
            del old["model"][section]
    assert C.from_dict(old) == cfg
    assert C.from_dict(old).model.infogan.weight == cfg.model.infogan.weight != 1.0
    # dotted top-level keys too, and a value already at the new place wins
    assert migrate({"model.info_weight": 3.0})["model"]["infogan"]["weight"] == 3.0
    both = migrate({"model": {"info_weight": 3.0, "infogan": {"weight": 4.0}}})
    assert both["model"] == {"infogan": {"weight": 4.0}}


def test_a_run_from_before_the_sections_loads_and_resumes(tmp_path):
    """The checkpoint fixture's config.json (flat keys) is the same run as its migrated
    config: workdir_guard finds no difference, and still finds a real one."""
    from jaxgan.runtime import workdir_guard

    raw = json.loads(FIXTURE.read_text())
    assert "mlp_hidden" in raw["model"] and "mlp" not in raw["model"]
    cfg = C.from_dict(raw)
    assert (cfg.model.mlp.hidden, cfg.model.progan.stage_steps) == (128, 1000)
    (tmp_path / "config.json").write_text(FIXTURE.read_text())
    workdir_guard(cfg, tmp_path, write=False)  # no error: nothing changed
    changed = C.apply_overrides(cfg, ["model.mlp.hidden=64"])
    with pytest.raises(C.ConfigError, match=r"model.mlp.hidden: 128 -> 64"):
        workdir_guard(changed, tmp_path, write=False)


@pytest.mark.parametrize("old", sorted(RENAMED))
def test_an_old_override_fails_in_one_line_naming_the_new_key(old):
    with pytest.raises(C.ConfigError) as e:
        C.resolve("dcgan_digits", [f"{old}=1"])
    assert str(e.value) == (f"config key {old!r} is now {RENAMED[old]!r} (the family's own "
                            f"section); use {RENAMED[old]}=1")


def test_a_preset_setting_an_old_name_fails_instead_of_being_ignored():
    cfg = C.Config()
    with pytest.raises(C.ConfigError, match="'model.mlp_hidden' is now 'model.mlp.hidden'"):
        cfg.model.mlp_hidden = 512
    with pytest.raises(C.ConfigError, match="unknown config key 'model.widht'"):
        cfg.model.widht = 3
    cfg.model.mlp.hidden = 512
    assert C.from_dict(cfg.to_dict()).model.mlp.hidden == 512


def test_jaxgan_config_shows_the_sections(capsys):
    from jaxgan.cli import main

    assert main(["config", "infogan_digits"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert model["infogan"] == {"categorical": 10, "continuous": 2, "weight": 1.0}
    assert {"mlp", "biggan", "stylegan", "progan"} <= set(model)
    assert not any("_" in k and k.split("_")[0] in ("info", "stylegan", "progan", "biggan")
                   for k in model)
    assert main(["config", "--keys", "dcgan_digits"]) == 0
    assert "model.stylegan.w_dim" in capsys.readouterr().out
    assert main(["config", "dcgan_digits", "model.info_weight=2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "use model.infogan.weight=2" in err
    assert "Traceback" not in err
