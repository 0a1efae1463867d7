"""One declaration per plug-in: a registered loss, model family, metric or detector is
valid in the config and used everywhere at once; a name nobody registered fails at
validation, in one line, before anything runs."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import pytest

from jaxgan import config as C
from jaxgan.config import ConfigError
from jaxgan.schema import describe_keys


def _base(*overrides: str) -> C.Config:
    return C.apply_overrides(C.load_preset("toy_ring_vanilla"), list(overrides))


@pytest.fixture
def restore_registries():
    """Leave every registry as it was (the tests add entries)."""
    from jaxgan import losses, schema, tricks
    from jaxgan.diagnostics import detectors as det
    from jaxgan.metrics import registry as metrics
    from jaxgan.models import family

    tables = (losses.LOSSES, family.FAMILIES, family.GENERATORS, family.DISCRIMINATORS,
              metrics.METRICS, metrics._GROUPS, det.REGISTRY, det.REMEDIES, det.VERDICT_COLORS,
              schema.SECTIONS, tricks.TRICKS)
    saved = tuple(dict(t) for t in tables)
    yield
    for table, old in zip(tables, saved, strict=True):
        table.clear()
        table.update(old)
    det.DETECTORS = tuple((k, v.detect) for k, v in det.REGISTRY.items())


@pytest.mark.parametrize("override, key", [
    ("loss.name=hinj", "loss.name='hinj'"),
    ("model.generator=dcgam", "model.generator='dcgam'"),
    ("model.discriminator=mlpp", "model.discriminator='mlpp'"),
    ("optim.d.name=adamm", "optim.d.name='adamm'"),
    ("data.source=toy_rnig", "data.source='toy_rnig'"),
    ("eval.metrics=fid,kidd", "eval.metrics has unknown ['kidd']"),
])
def test_unregistered_names_fail_at_validation_in_one_line(override, key):
    with pytest.raises(ConfigError) as e:
        C.validate(_base(override))
    assert key in str(e.value) and "\n" not in str(e.value)


def test_allowed_values_are_the_registries(restore_registries):
    from jaxgan.losses import LOSSES
    from jaxgan.metrics.registry import METRICS
    from jaxgan.models import DISCRIMINATORS, GENERATORS

    ch = C.choices()
    assert ch["loss.name"] == tuple(LOSSES)
    assert ch["model.generator"] == tuple(GENERATORS)
    assert ch["model.discriminator"] == tuple(DISCRIMINATORS)
    assert set(METRICS) == {"mode_coverage", "classifier", "fid", "kid", "is", "prdc"}


def test_a_registered_loss_is_a_choice_with_its_health_profile(restore_registries):
    from jaxgan.diagnostics.detectors import profile_for
    from jaxgan.losses import get_loss, register_loss

    with pytest.raises(ConfigError):
        C.validate(_base("loss.name=smooth_hinge"))
    register_loss("smooth_hinge", lambda r, f, t=1.0: (jnp.abs(r), jnp.abs(f)), lambda f: -f,
                  accuracy_meaningful=True, d_loss_floor=0.2)
    assert C.validate(_base("loss.name=smooth_hinge")).loss.name == "smooth_hinge"
    assert get_loss("smooth_hinge").g_term(jnp.ones(2)).tolist() == [-1.0, -1.0]
    p = profile_for("smooth_hinge")
    assert (p.accuracy_meaningful, p.probabilistic, p.d_loss_floor) == (True, False, 0.2)
    assert profile_for("non_saturating").probabilistic  # the built-ins' profiles
    assert profile_for("minimax").saturating and profile_for("minimax").d_loss_floor == 0.15
    assert not profile_for("unregistered").probabilistic


def test_a_registered_family_declares_its_special_cases(restore_registries):
    from jaxgan.models import build_models, register_model

    calls = []

    @dataclasses.dataclass
    class TwinConfig:
        bond: float = 0.5

    def check(cfg, device_count=None):
        calls.append((cfg.model.generator, device_count))
        if cfg.model.generator == "twin" and cfg.model.latent_dim < 4:
            raise ConfigError("twin needs model.latent_dim >= 4")
        if not 0 <= cfg.model.twin.bond <= 1:
            raise ConfigError(f"model.twin.bond must be in [0, 1], got {cfg.model.twin.bond}")

    from jaxgan.models import DISCRIMINATORS, GENERATORS
    register_model("twin", GENERATORS["mlp"], DISCRIMINATORS["mlp"], paired=True,
                   packable=False, validate=check, config=TwinConfig)
    # its section is part of every config: set, saved, read back, printed, checked
    cfg = _base("model.twin.bond=0.25")
    assert cfg.model.twin.bond == 0.25 and cfg.to_dict()["model"]["twin"] == {"bond": 0.25}
    assert C.from_dict(cfg.to_dict()).model.twin.bond == 0.25
    assert ("model.twin.bond", "float", 0.5) in describe_keys()
    with pytest.raises(ConfigError, match=r"model.twin.bond must be in \[0, 1\], got 2.0"):
        C.validate(_base("model.twin.bond=2"), 4)
    assert calls[-1] == ("mlp", 4)
    with pytest.raises(ConfigError, match="must both be 'twin'"):
        C.validate(_base("model.generator=twin"))
    with pytest.raises(ConfigError, match="model.pack=2 works with unconditional"):
        C.validate(_base("model.generator=twin", "model.discriminator=twin", "model.pack=2"))
    with pytest.raises(ConfigError, match="latent_dim >= 4"):
        C.validate(_base("model.generator=twin", "model.discriminator=twin",
                         "model.latent_dim=2"))
    cfg = C.validate(_base("model.generator=twin", "model.discriminator=twin"))
    g, d = build_models(cfg)
    assert type(g).__name__ == "MLPGenerator"
    C.validate(_base())  # a family's rules run for every config, used or not
    assert calls[-1] == ("mlp", None)


def test_a_registered_trick_brings_its_own_rules(restore_registries):
    """A trick's range check is declared with it and runs in `config.validate`."""
    from jaxgan.tricks import TRICKS, at_least, register_trick

    assert all(t.validate is not None for t in TRICKS.values())  # every built-in has rules
    seen = []

    def rule(cfg):
        seen.append(cfg.tricks.label_smoothing)
        at_least(0.1, "label_smoothing")(cfg)

    register_trick("fussy", lambda cfg: None, validate=rule)
    with pytest.raises(ConfigError, match=r"^tricks.label_smoothing must be >= 0.1, got 0.0$"):
        C.validate(_base())
    assert seen == [0.0]
    assert C.validate(_base("tricks.label_smoothing=0.2")).tricks.label_smoothing == 0.2


def test_a_registered_metric_is_computed_by_evaluate(restore_registries, tmp_path):
    from jaxgan.evaluate import evaluate_state
    from jaxgan.metrics.registry import register_metric
    from jaxgan.run import setup_run
    from jaxgan.state import init_state

    seen = []

    def spread(inputs, names):
        seen.append(list(names))
        return {"sample_std": float(inputs.fake.std())}

    register_metric("sample_std", spread)
    cfg = C.validate(_base("eval.metrics=sample_std,mode_coverage", "eval.num_samples=64",
                           "model.mlp.hidden=8", "train.steps=50"))
    run = setup_run(cfg)
    rec = evaluate_state(run, init_state(run.models, 0, run.sample_shape), 0)
    assert seen == [["sample_std"]] and rec["sample_std"] > 0 and "modes_captured" in rec


def test_a_registered_detector_reaches_the_monitor_the_doctor_and_the_plots(
        restore_registries):
    from jaxgan.diagnostics import detectors as det
    from jaxgan.diagnostics import monitor as mon
    from jaxgan.diagnostics import plots

    def detect_always(window, baseline, profile, active):
        return det.Finding("stuck", ["always"]) if window else None

    det.register_detector("stuck", detect_always, remedies=["try again"], colour="#123456",
                          before="oscillation")
    assert [n for n, _ in det.DETECTORS][-2:] == ["stuck", "oscillation"]
    assert "stuck" in mon.VERDICTS and mon.REMEDIES["stuck"] == ["try again"]
    assert plots.VERDICT_COLORS["stuck"] == "#123456"
    monitor = mon.HealthMonitor(window=4, warmup=0, loss_name="non_saturating")
    rec = {"d_loss": 1.0, "g_loss": 1.0, "d_grad_norm": 1.0, "g_grad_norm": 1.0}
    verdicts = [monitor.update({"step": 10 * i, **rec}) for i in range(1, 6)]
    assert verdicts[-1].name == "stuck" and verdicts[-1].remedies == ["try again"]


@pytest.fixture
def restore_sources_and_optimizers():
    from jaxgan import state
    from jaxgan.data import sources

    saved = dict(sources.SOURCES), dict(state.OPTIMIZERS)
    yield
    for table, old in zip((sources.SOURCES, state.OPTIMIZERS), saved, strict=True):
        table.clear()
        table.update(old)


def test_a_registered_data_source_is_a_choice_and_is_built(restore_sources_and_optimizers):
    import numpy as np

    from jaxgan.data import make_source
    from jaxgan.data.images import ImageSource
    from jaxgan.data.sources import on_device, register_source
    from jaxgan.run import sample_shape

    def stripes(cfg, seed):
        images = np.zeros((20, cfg.resolution, cfg.resolution, cfg.channels), np.uint8)
        images[:, ::2] = 255
        return ImageSource(images, seed=seed, name="stripes")

    with pytest.raises(ConfigError, match="data.source='stripes' is not allowed"):
        C.validate(_base("data.source=stripes"))
    register_source("stripes", stripes)
    cfg = C.validate(_base("data.source=stripes", "data.resolution=8", "data.channels=1"))
    assert "stripes" in C.choices()["data.source"] and not on_device("stripes")
    assert sample_shape(cfg) == (8, 8, 1)  # an image source: the shape rules apply
    batch = make_source(cfg.data, 0).batch(0, 4)
    assert batch["image"].shape == (4, 8, 8, 1)
    assert sorted(np.unique(batch["image"]).tolist()) == [-1.0, 1.0]
    assert on_device("toy_ring") and sample_shape(_base()) == (2,)


def test_a_registered_optimizer_is_a_choice_with_its_lr_injected(
        restore_sources_and_optimizers):
    import jax
    import optax

    from jaxgan.guards import is_injected
    from jaxgan.state import make_optimizer, register_optimizer

    with pytest.raises(ConfigError, match="optim.d.name='lion' is not allowed"):
        C.validate(_base("optim.d.name=lion"))
    register_optimizer("lion", lambda c: optax.inject_hyperparams(optax.lion)(
        learning_rate=c.lr, b1=c.b1, b2=c.b2))
    cfg = C.validate(_base("optim.d.name=lion", "optim.d.lr=0.1", "optim.d.grad_clip=1.0",
                           "optim.d.schedule=linear"))
    tx = make_optimizer(cfg.optim.d, updates=10)  # clipping before, the decay after it
    params = {"w": jnp.zeros(3)}
    state = tx.init(params)
    updates, _ = tx.update({"w": jnp.array([2.0, -1.0, 0.0])}, state, params)
    assert jnp.allclose(updates["w"], jnp.array([-0.1, 0.1, 0.0]))  # lion: -lr * sign
    injected = [s for s in jax.tree.leaves(state, is_leaf=is_injected) if is_injected(s)]
    assert [float(s.hyperparams["learning_rate"]) for s in injected] == [pytest.approx(0.1)]
