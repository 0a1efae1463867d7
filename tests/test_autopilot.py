"""The autopilot's remedy table: each remedy changes what it says, in order, once each."""

from __future__ import annotations

import pytest

from jaxgan import autopilot
from jaxgan.config import ConfigError, resolve
from jaxgan.diagnostics.monitor import VERDICTS


@pytest.fixture
def digits():
    return resolve("dcgan_digits", [], 1)


def test_every_failure_verdict_has_remedies_and_healthy_has_none():
    failures = [v for v in VERDICTS if v != "healthy"]
    assert sorted(autopilot.REMEDY_TABLE) == sorted(failures)
    assert all(len(autopilot.REMEDY_TABLE[v]) >= 2 for v in failures)


def test_learning_rate_remedies_scale_exactly_the_named_player(digits):
    g, d = digits.optim.g.lr, digits.optim.d.lr
    slow_d = autopilot.apply_remedy(digits, autopilot.SLOW_D.overrides(digits, 0))
    assert slow_d.optim.d.lr == pytest.approx(d / 2, rel=1e-5)
    assert slow_d.optim.g.lr == g
    both = autopilot.apply_remedy(digits, autopilot.LOWER_BOTH.overrides(digits, 0))
    assert (both.optim.g.lr, both.optim.d.lr) == pytest.approx((g / 4, d / 4), rel=1e-5)
    assert digits.optim.d.lr == d  # the input config is not modified


def test_slow_d_brings_a_far_faster_d_within_the_ttur_range_at_once(digits):
    fast = autopilot.apply_remedy(digits, ["optim.d.lr=0.01", "optim.g.lr=0.0002"])
    slowed = autopilot.apply_remedy(fast, autopilot.SLOW_D.overrides(fast, 0))
    assert slowed.optim.d.lr == pytest.approx(4 * 0.0002, rel=1e-5)  # not 0.005
    assert slowed.optim.g.lr == pytest.approx(0.0002, rel=1e-5)


def test_instance_noise_is_annealed_over_the_rest_of_the_run(digits):
    cfg = autopilot.apply_remedy(digits, autopilot.NOISE.overrides(digits, 1200))
    assert cfg.tricks.instance_noise == pytest.approx(0.1)
    # the anneal counts from step 0: it ends where the run ends, not before the remedy
    assert cfg.tricks.instance_noise_anneal_steps == digits.train.steps
    assert autopilot.NOISE.overrides(cfg, 1500) is None  # already on: does not apply again


def test_remedies_that_do_not_apply_are_skipped(digits):
    assert autopilot.NON_SAT.overrides(digits, 0) is None  # already non-saturating
    minimax = resolve("dcgan_digits", ["loss.name=minimax"], 1)
    rem, ov = autopilot.next_remedy("vanishing_gradient", minimax, 0)
    assert rem.name == "non_saturating" and ov == ["loss.name=non_saturating"]
    rem, _ = autopilot.next_remedy("vanishing_gradient", digits, 0)
    assert rem.name == "slow_d"  # non_saturating and fewer_d_steps (n_critic 1) skipped
    hinge = resolve("dcgan_digits", ["loss.name=hinge"], 1)
    assert autopilot.SMOOTH.overrides(hinge, 0) is None  # hinge has no targets to smooth
    assert autopilot.FEWER_D.overrides(digits, 0) is None  # n_critic is already 1


def test_diffaugment_remedy_is_for_images_without_augmentation(digits):
    cfg = autopilot.apply_remedy(digits, autopilot.DIFFAUG.overrides(digits, 400))
    assert cfg.tricks.diffaugment == autopilot.DIFFAUGMENT_POLICY
    assert autopilot.DIFFAUG.overrides(cfg, 800) is None  # already on
    assert autopilot.DIFFAUG.overrides(resolve("toy_ring", [], 1), 400) is None  # 2-D toy
    # after slow_d, a second convergence failure of an image run gets DiffAugment
    rem, ov = autopilot.next_remedy("convergence_failure", digits, 400, ["slow_d"])
    assert rem.name == "diffaugment"
    assert ov == [f"tricks.diffaugment={autopilot.DIFFAUGMENT_POLICY}"]


def test_next_remedy_walks_the_table_without_repeating_one(digits):
    tried: list[str] = []
    cfg = digits
    names = []
    while (found := autopilot.next_remedy("convergence_failure", cfg, 100, tried)):
        rem, ov = found
        cfg = autopilot.apply_remedy(cfg, ov)
        tried.append(rem.name)
        names.append(rem.name)
    # n_critic=1 makes fewer_d_steps inapplicable; every other entry is used once, in order
    assert names == ["slow_d", "diffaugment", "label_smoothing", "instance_noise", "r1"]
    assert cfg.optim.d.lr == pytest.approx(digits.optim.d.lr / 2, rel=1e-5)
    assert cfg.tricks.label_smoothing == pytest.approx(0.1)
    assert cfg.tricks.r1_gamma == pytest.approx(1.0)
    assert cfg.tricks.diffaugment == autopilot.DIFFAUGMENT_POLICY


def test_a_remedy_listed_twice_is_used_twice(digits):
    first, ov = autopilot.next_remedy("diverged", digits, 0)
    cfg = autopilot.apply_remedy(digits, ov)
    second, ov2 = autopilot.next_remedy("diverged", cfg, 0, [first.name])
    cfg = autopilot.apply_remedy(cfg, ov2)
    third, ov3 = autopilot.next_remedy("diverged", cfg, 0, [first.name, second.name])
    cfg = autopilot.apply_remedy(cfg, ov3)
    assert [first.name, second.name, third.name] == ["lower_both_lrs", "r1", "lower_both_lrs"]
    assert cfg.optim.g.lr == pytest.approx(digits.optim.g.lr / 16, rel=1e-4)
    assert autopilot.next_remedy("diverged", cfg, 0, ["lower_both_lrs", "r1",
                                                      "lower_both_lrs"]) is None


def test_every_remedy_yields_a_valid_config_on_every_stock_family():
    for preset in ("dcgan_digits", "toy_ring", "cgan_digits", "infogan_digits",
                   "wgan_gp_cifar10", "progan_celeba"):
        cfg = resolve(preset, [], 1)
        for remedies in autopilot.REMEDY_TABLE.values():
            for rem in remedies:
                ov = rem.overrides(cfg, cfg.train.steps // 2)
                if ov is not None:
                    autopilot.apply_remedy(cfg, ov)  # raises ConfigError if invalid


def test_apply_remedy_refuses_an_invalid_change(digits):
    with pytest.raises(ConfigError, match="label_smoothing"):
        autopilot.apply_remedy(digits, ["tricks.label_smoothing=0.7"])


# --- the trainer side: health.on_failure=remedy on a run that fails on purpose -----------

AP = ["health.on_failure=remedy", "health.max_remedies=1", "train.checkpoint_every=50",
      "train.sample_every=1000", "train.progress=false"]


def _leaves(state):
    import jax
    import numpy as np

    return [np.asarray(x) for x in jax.tree.leaves(state)]


@pytest.fixture(scope="module")
def remedied(tmp_path_factory):
    """zoo_vanishing_gradient (minimax, D 200x faster than G) fails at step 400; the
    autopilot goes back to the last healthy checkpoint (350) with the non-saturating loss."""
    from jaxgan.trainer import train

    wd = tmp_path_factory.mktemp("ap") / "run"
    cfg = resolve("zoo_vanishing_gradient", [*AP, "train.steps=450"], 1)
    return wd, train(cfg, wd)


def test_the_autopilot_restores_the_healthy_step_and_applies_the_first_remedy(remedied):
    import json

    from jaxgan.writers import read_jsonl

    wd, result = remedied
    applied = json.loads((wd / "autopilot.json").read_text())
    assert [(e["verdict"], e["remedy"], e["overrides"]) for e in applied] == [
        ("vanishing_gradient", "non_saturating", ["loss.name=non_saturating"])]
    healthy, failed = applied[0]["step"], applied[0]["failed_at"]
    recs = read_jsonl(wd / "metrics.jsonl")
    by_step = {}
    for r in recs:
        if "autopilot" in r:
            assert r["step"] == healthy and r["autopilot"] == "non_saturating"
        elif "d_loss" in r:
            by_step.setdefault(r["step"], []).append(r)
    failing = by_step[failed][0]
    assert failing["verdict"] == "vanishing_gradient"
    # it went back to before every record the verdict read, to a healthy step or step 0
    assert healthy < failing["verdict_evidence_from"] <= failed
    assert healthy == 0 or by_step[healthy][0]["verdict"] == "healthy"
    # the step after the remedy was trained again, with the other loss: G's loss changed
    # from minimax's log(1 - D) (negative) to the non-saturating -log D (positive)
    assert by_step[failed][0]["g_loss"] < 0 < by_step[failed][1]["g_loss"]
    assert result.last_record["step"] == 450 and not result.stopped_early
    # the doctor replays the same records: its verdict is the live one, the action a note
    from jaxgan.diagnostics.doctor import diagnose

    report = diagnose(wd)
    assert report.final.name == result.last_record["verdict"]
    assert any("autopilot: vanishing_gradient at step" in w and "non_saturating" in w
               for w in report.warnings)
    # the last healthy checkpoint has its own directory, outside the retention window
    from jaxgan.checkpoint import Checkpointer

    kept = Checkpointer(wd / "checkpoints_healthy", read_only=True).steps()
    assert kept[0] == 0 and healthy in kept and len(kept) <= autopilot.HEALTHY_KEPT + 1
    assert all(by_step[s][-1]["verdict"] == "healthy" for s in kept[1:])


def test_a_remedied_run_resumes_bit_exactly(remedied, tmp_path):
    """Stopped after the remedy and resumed, the run ends where the uninterrupted one does:
    the resumed trainer rebuilds the remedied config from autopilot.json."""
    import numpy as np

    from jaxgan.trainer import train

    wd, whole = remedied
    part = tmp_path / "part"
    train(resolve("zoo_vanishing_gradient", [*AP, "train.steps=400"], 1), part)
    resumed = train(resolve("zoo_vanishing_gradient", [*AP, "train.steps=450"], 1), part)
    for a, b in zip(_leaves(whole.state), _leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_restore_point_is_the_newest_healthy_step_before_the_evidence():
    steps = [0, 200, 400, 600]
    assert autopilot.restore_point(steps, {"verdict_evidence_from": 650}) == 600
    assert autopilot.restore_point(steps, {"verdict_evidence_from": 600}) == 400
    assert autopilot.restore_point(steps, {"verdict_evidence_from": 150}) == 0
    assert autopilot.restore_point([300, 500], {"verdict_evidence_from": 100}) == 300
    assert autopilot.restore_point(steps, {}) == 600  # a record from before the field
    assert autopilot.restore_point([], {"verdict_evidence_from": 100}) is None


def test_the_monitor_says_from_which_step_its_evidence_reads():
    """The verdict's `evidence_from` is the first step of the records it judged: the
    record itself while warming up, then the first of the last `window` records, the
    warm-up's included (a failure seen at the first judged records may have begun there)."""
    from jaxgan.diagnostics import HealthMonitor

    mon = HealthMonitor(window=5, warmup=2)
    froms = []
    for i in range(1, 12):
        v = mon.update({"step": 10 * i, "d_loss": 1.3, "g_loss": 0.8, "d_real_acc": 0.6,
                        "d_fake_acc": 0.6, "g_grad_norm": 1.0, "d_grad_norm": 1.0})
        froms.append(v.evidence_from)
    assert froms[:2] == [10, 20]  # warming up
    assert froms[2:] == [10, 10, 10, 20, 30, 40, 50, 60, 70]


def test_set_hyperparams_scales_the_learning_rate_in_the_state(digits):
    import numpy as np

    from jaxgan.guards import learning_rates, scale_learning_rates
    from jaxgan.models import build_models  # noqa: F401  (registers the families)
    from jaxgan.run import setup_run
    from jaxgan.state import init_state

    run = setup_run(digits)
    state = init_state(run.models, 0, run.sample_shape)
    halved = scale_learning_rates(state, 0.5)  # a NaN rollback before the remedy
    new = autopilot.apply_remedy(digits, autopilot.SLOW_D.overrides(digits, 0))
    out = autopilot.set_hyperparams(halved, digits, new)
    g, d = learning_rates(out)
    np.testing.assert_allclose([g, d], [digits.optim.g.lr / 2, digits.optim.d.lr / 4],
                               rtol=1e-6)
    b1 = autopilot.apply_remedy(digits, ["optim.g.b1=0.0"])
    hp = [s for s in __import__("jax").tree.leaves(
        autopilot.set_hyperparams(state, digits, b1).g_opt_state,
        is_leaf=autopilot.is_injected) if autopilot.is_injected(s)][0].hyperparams
    assert float(hp["b1"]) == 0.0
