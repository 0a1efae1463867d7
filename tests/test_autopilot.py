"""The autopilot's remedy table: each remedy changes what it says, in order, once each."""

from __future__ import annotations

import pytest

from jaxgan import autopilot, remedies
from jaxgan.config import ConfigError, resolve
from jaxgan.diagnostics.monitor import VERDICTS


@pytest.fixture
def digits():
    return resolve("dcgan_digits", [], 1)


def test_every_failure_verdict_has_remedies_and_healthy_has_none():
    failures = [v for v in VERDICTS if v != "healthy"]
    assert sorted(remedies.REMEDY_TABLE) == sorted(failures)
    assert all(len(remedies.REMEDY_TABLE[v]) >= 2 for v in failures)


def test_learning_rate_remedies_scale_exactly_the_named_player(digits):
    g, d = digits.optim.g.lr, digits.optim.d.lr
    slow_d = remedies.apply_remedy(digits, remedies.SLOW_D.overrides(digits, 0))
    assert slow_d.optim.d.lr == pytest.approx(d / 2, rel=1e-5)
    assert slow_d.optim.g.lr == g
    both = remedies.apply_remedy(digits, remedies.LOWER_BOTH.overrides(digits, 0))
    assert (both.optim.g.lr, both.optim.d.lr) == pytest.approx((g / 4, d / 4), rel=1e-5)
    assert digits.optim.d.lr == d  # the input config is not modified


def test_slow_d_brings_a_far_faster_d_within_the_ttur_range_at_once(digits):
    fast = remedies.apply_remedy(digits, ["optim.d.lr=0.01", "optim.g.lr=0.0002"])
    slowed = remedies.apply_remedy(fast, remedies.SLOW_D.overrides(fast, 0))
    assert slowed.optim.d.lr == pytest.approx(4 * 0.0002, rel=1e-5)  # not 0.005
    assert slowed.optim.g.lr == pytest.approx(0.0002, rel=1e-5)


def test_instance_noise_is_annealed_over_the_rest_of_the_run(digits):
    cfg = remedies.apply_remedy(digits, remedies.NOISE.overrides(digits, 1200))
    assert cfg.tricks.instance_noise == pytest.approx(0.1)
    # the anneal counts from step 0: it ends where the run ends, not before the remedy
    assert cfg.tricks.instance_noise_anneal_steps == digits.train.steps
    assert remedies.NOISE.overrides(cfg, 1500) is None  # already on: does not apply again


def test_remedies_that_do_not_apply_are_skipped(digits):
    assert remedies.NON_SAT.overrides(digits, 0) is None  # already non-saturating
    minimax = resolve("dcgan_digits", ["loss.name=minimax"], 1)
    rem, ov = remedies.next_remedy("vanishing_gradient", minimax, 0)
    assert rem.name == "non_saturating" and ov == ["loss.name=non_saturating"]
    rem, _ = remedies.next_remedy("vanishing_gradient", digits, 0)
    assert rem.name == "slow_d"  # non_saturating and fewer_d_steps (n_critic 1) skipped
    hinge = resolve("dcgan_digits", ["loss.name=hinge"], 1)
    assert remedies.SMOOTH.overrides(hinge, 0) is None  # hinge has no targets to smooth
    assert remedies.FEWER_D.overrides(digits, 0) is None  # n_critic is already 1


def test_diffaugment_remedy_is_for_images_without_augmentation(digits):
    cfg = remedies.apply_remedy(digits, remedies.DIFFAUG.overrides(digits, 400))
    assert cfg.tricks.diffaugment == remedies.DIFFAUGMENT_POLICY
    assert remedies.DIFFAUG.overrides(cfg, 800) is None  # already on
    assert remedies.DIFFAUG.overrides(resolve("toy_ring", [], 1), 400) is None  # 2-D toy
    # after slow_d, a second convergence failure of an image run gets DiffAugment
    rem, ov = remedies.next_remedy("convergence_failure", digits, 400, ["slow_d"])
    assert rem.name == "diffaugment"
    assert ov == [f"tricks.diffaugment={remedies.DIFFAUGMENT_POLICY}"]


def test_next_remedy_walks_the_table_without_repeating_one(digits):
    tried: list[str] = []
    cfg = digits
    names = []
    while (found := remedies.next_remedy("convergence_failure", cfg, 100, tried)):
        rem, ov = found
        cfg = remedies.apply_remedy(cfg, ov)
        tried.append(rem.name)
        names.append(rem.name)
    # n_critic=1 makes fewer_d_steps inapplicable; every other entry is used once, in order
    assert names == ["slow_d", "diffaugment", "label_smoothing", "instance_noise", "r1"]
    assert cfg.optim.d.lr == pytest.approx(digits.optim.d.lr / 2, rel=1e-5)
    assert cfg.tricks.label_smoothing == pytest.approx(0.1)
    assert cfg.tricks.r1_gamma == pytest.approx(1.0)
    assert cfg.tricks.diffaugment == remedies.DIFFAUGMENT_POLICY


def test_a_remedy_listed_twice_is_used_twice(digits):
    first, ov = remedies.next_remedy("diverged", digits, 0)
    cfg = remedies.apply_remedy(digits, ov)
    second, ov2 = remedies.next_remedy("diverged", cfg, 0, [first.name])
    cfg = remedies.apply_remedy(cfg, ov2)
    third, ov3 = remedies.next_remedy("diverged", cfg, 0, [first.name, second.name])
    cfg = remedies.apply_remedy(cfg, ov3)
    assert [first.name, second.name, third.name] == ["lower_both_lrs", "r1", "lower_both_lrs"]
    assert cfg.optim.g.lr == pytest.approx(digits.optim.g.lr / 16, rel=1e-4)
    assert remedies.next_remedy("diverged", cfg, 0, ["lower_both_lrs", "r1",
                                                      "lower_both_lrs"]) is None


def test_every_remedy_yields_a_valid_config_on_every_stock_family():
    for preset in ("dcgan_digits", "toy_ring", "cgan_digits", "infogan_digits",
                   "wgan_gp_cifar10", "progan_celeba"):
        cfg = resolve(preset, [], 1)
        for table in remedies.REMEDY_TABLE.values():
            for rem in table:
                ov = rem.overrides(cfg, cfg.train.steps // 2)
                if ov is not None:
                    remedies.apply_remedy(cfg, ov)  # raises ConfigError if invalid


def test_apply_remedy_refuses_an_invalid_change(digits):
    with pytest.raises(ConfigError, match="label_smoothing"):
        remedies.apply_remedy(digits, ["tricks.label_smoothing=0.7"])


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
    # ... and its records say so, so that the monitor judges them by that loss's levels
    # (minimax's "G losing" level, log(1 - D) > -0.05, holds for every non-saturating loss)
    assert by_step[failed][0]["loss_name"] == "minimax"
    assert by_step[failed][1]["loss_name"] == "non_saturating"
    assert result.last_record["step"] == 450 and not result.stopped_early
    # the doctor replays the same records: its verdict is the live one, the action a note
    from jaxgan.diagnostics.doctor import diagnose

    report = diagnose(wd)
    assert report.final.name == result.last_record["verdict"]
    assert report.loss_name == "non_saturating"
    live: list = []  # the live verdicts of the records the rewind kept
    for r in (r for r in recs if "d_loss" in r):
        live = [x for x in live if x["step"] < r["step"]] + [r]
    assert [v.name for v in report.verdicts] == [r["verdict"] for r in live]
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

    from jaxgan.guards import is_injected, learning_rates, scale_learning_rates
    from jaxgan.models import build_models  # noqa: F401  (registers the families)
    from jaxgan.run import setup_run
    from jaxgan.state import init_state

    run = setup_run(digits)
    state = init_state(run.models, 0, run.sample_shape)
    halved = scale_learning_rates(state, 0.5)  # a NaN rollback before the remedy
    new = remedies.apply_remedy(digits, remedies.SLOW_D.overrides(digits, 0))
    out = autopilot.set_hyperparams(halved, digits, new)
    g, d = learning_rates(out)
    np.testing.assert_allclose([g, d], [digits.optim.g.lr / 2, digits.optim.d.lr / 4],
                               rtol=1e-6)
    b1 = remedies.apply_remedy(digits, ["optim.g.b1=0.0"])
    hp = [s for s in __import__("jax").tree.leaves(
        autopilot.set_hyperparams(state, digits, b1).g_opt_state,
        is_leaf=is_injected) if is_injected(s)][0].hyperparams
    assert float(hp["b1"]) == 0.0


def test_adam_recipe_is_for_sgd_rmsprop_and_high_momentum_adam_only(digits):
    def over(cfg):
        return remedies.ADAM_RECIPE.overrides(cfg, 0)

    assert digits.optim.g.name == "adam" and digits.optim.g.b1 <= 0.5
    assert over(digits) is None  # the recipe's own optimizer
    sgd = remedies.apply_remedy(digits, ["optim.g.name=sgd", "optim.g.lr=0.05"])
    new = remedies.apply_remedy(sgd, over(sgd))
    assert (new.optim.g.name, new.optim.g.b1, new.optim.g.b2) == ("adam", 0.5, 0.999)
    assert new.optim.g.lr == pytest.approx(2e-4)  # the images' cap, below SGD's 0.05
    assert new.optim.d == digits.optim.d  # D already on the recipe: untouched
    slow = remedies.apply_remedy(digits, ["optim.d.name=rmsprop", "optim.d.lr=5e-5"])
    assert over(slow) == ["optim.d.name=adam", "optim.d.b1=0.5", "optim.d.b2=0.999",
                          "optim.d.lr=5e-05"]  # a rate below the cap is kept
    hot = remedies.apply_remedy(digits, ["optim.g.name=adamw", "optim.g.b1=0.9"])
    assert over(hot)[:2] == ["optim.g.name=adamw", "optim.g.b1=0.5"]  # AdamW stays AdamW
    wgan = remedies.apply_remedy(digits, ["loss.name=wasserstein", "optim.g.name=rmsprop",
                                          "optim.d.name=rmsprop"])
    assert over(wgan) is None  # the WGAN recipe's own optimizer
    ring = resolve("toy_ring_vanilla", ["optim.g.name=sgd", "optim.g.lr=3"], 1)
    assert "optim.g.lr=0.001" in over(ring)  # the 2-D toys' cap


def test_carry_optimizers_starts_a_changed_optimizer_afresh_and_keeps_the_rest(digits):
    """G moves from momentum SGD to the recipe's Adam: its parameters are kept, Adam's
    moments are zero, and the NaN rollback's factor (0.5) stays on the new rate; D, whose
    optimizer did not change, keeps its moments exactly."""
    import jax
    import numpy as np
    import optax

    from jaxgan.guards import learning_rates, scale_learning_rates
    from jaxgan.models import build_models  # noqa: F401  (registers the families)
    from jaxgan.run import setup_run
    from jaxgan.state import init_state

    old = remedies.apply_remedy(digits, ["optim.g.name=sgd", "optim.g.b1=0.9",
                                         "optim.g.lr=0.05"])
    run = setup_run(old)
    state = init_state(run.models, 0, run.sample_shape)
    # give D's Adam non-zero moments, so that "kept" is not "zero again"
    d_opt = jax.tree.map(lambda x: x + 0.25 if jax.numpy.issubdtype(
        x.dtype, jax.numpy.floating) else x, state.d_opt_state)
    state = scale_learning_rates(state.replace(d_opt_state=d_opt), 0.5)
    new = remedies.apply_remedy(old, remedies.ADAM_RECIPE.overrides(old, 0))
    new_run = setup_run(new)
    out = autopilot.carry_optimizers(state, old, new_run)
    for a, b in zip(jax.tree.leaves(state.g_params), jax.tree.leaves(out.g_params),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    adam = [s for s in jax.tree.leaves(out.g_opt_state, is_leaf=lambda x: isinstance(
        x, optax.ScaleByAdamState)) if isinstance(s, optax.ScaleByAdamState)]
    assert len(adam) == 1
    assert all(not np.asarray(m).any() for m in jax.tree.leaves((adam[0].mu, adam[0].nu)))
    np.testing.assert_allclose(learning_rates(out), [2e-4 * 0.5, learning_rates(state)[1]],
                               rtol=1e-6)
    for a, b in zip(jax.tree.leaves(state.d_opt_state), jax.tree.leaves(out.d_opt_state),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the new state is the remedied run's: same structure as its own initial state
    assert jax.tree.structure(out) == jax.tree.structure(
        init_state(new_run.models, 0, new_run.sample_shape))


# --- fast_g: G brought up to D's rate, in the optimizer state, without recompiling ---

SMALL = ["model.latent_dim=8", "model.mlp.hidden=16", "model.mlp.depth=1",
         "train.batch_size=16", "train.steps_per_call=1", "train.progress=false",
         "train.sample_every=100000"]


def test_fast_g_raises_g_to_ds_rate_only_where_d_is_faster(digits):
    slow = remedies.apply_remedy(digits, ["optim.g.lr=1e-5", "optim.d.lr=5e-4"])
    fast = remedies.apply_remedy(slow, remedies.FAST_G.overrides(slow, 0))
    assert fast.optim.g.lr == pytest.approx(5e-4, rel=1e-5)  # 50x at once
    assert fast.optim.d.lr == pytest.approx(5e-4, rel=1e-5)
    assert remedies.FAST_G.overrides(fast, 0) is None  # level: does not apply again
    assert remedies.FAST_G.overrides(digits, 0) is None  # stock: G and D at 2e-4
    faster_g = remedies.apply_remedy(digits, ["optim.g.lr=1e-3"])
    assert remedies.FAST_G.overrides(faster_g, 0) is None
    # first for D-fast convergence failures; then (n_critic 1) slow_d halves D
    rem, _ = remedies.next_remedy("convergence_failure", slow, 400)
    assert rem.name == "fast_g"
    rem, ov = remedies.next_remedy("convergence_failure", fast, 400, ["fast_g"])
    assert rem.name == "slow_d" and ov == ["optim.d.lr=0.00025"]
    # after the non-saturating loss, a minimax run with D 20x G gets fast_g next
    minimax = remedies.apply_remedy(slow, ["loss.name=minimax"])
    first, ov1 = remedies.next_remedy("vanishing_gradient", minimax, 0)
    second, _ = remedies.next_remedy("vanishing_gradient",
                                      remedies.apply_remedy(minimax, ov1), 0, [first.name])
    assert (first.name, second.name) == ("non_saturating", "fast_g")


def test_fewer_d_steps_goes_to_one_for_gan_losses_and_halves_for_critics(digits):
    ns = remedies.apply_remedy(digits, ["train.n_critic=5"])
    assert remedies.FEWER_D.overrides(ns, 0) == ["train.n_critic=1"]
    hinge = remedies.apply_remedy(ns, ["loss.name=hinge"])
    assert remedies.FEWER_D.overrides(hinge, 0) == ["train.n_critic=2"]
    wgan = remedies.apply_remedy(ns, ["loss.name=wasserstein"])
    assert remedies.FEWER_D.overrides(wgan, 0) == ["train.n_critic=2"]
    assert remedies.FEWER_D.overrides(digits, 0) is None  # one D step already
    # D winning with several D steps per G step: fewer D steps right after fast_g
    rem, ov = remedies.next_remedy("convergence_failure", ns, 400)
    assert (rem.name, ov) == ("fewer_d_steps", ["train.n_critic=1"])


def test_fast_g_changes_the_compiled_steps_learning_rate_through_the_state():
    """The remedy moves G's injected learning rate in the optimizer state, and the step
    compiled for the old config, fed the moved state, takes a G step 50x as long (SGD:
    the update is exactly lr x gradient) and the same D step, without compiling again."""
    import numpy as np

    from jaxgan import parallel
    from jaxgan.guards import learning_rates
    from jaxgan.run import host_batches, setup_run
    from jaxgan.state import init_state

    cfg = resolve("toy_ring_vanilla", [*SMALL, "optim.g.name=sgd", "optim.d.name=sgd",
                                       "optim.g.b1=0", "optim.d.b1=0",
                                       "optim.g.lr=1e-4", "optim.d.lr=5e-3"], 1)
    new = remedies.apply_remedy(cfg, remedies.FAST_G.overrides(cfg, 0))
    run = setup_run(cfg)

    def fresh():  # the step donates its input state: one state per call
        return parallel.create_replicated(
            lambda: init_state(run.models, cfg.seed, run.sample_shape), run.mesh)

    moved = autopilot.set_hyperparams(fresh(), cfg, new)
    np.testing.assert_allclose(learning_rates(moved), [5e-3, 5e-3], rtol=1e-6)
    state = fresh()
    g0 = _copies(state.g_params)
    batch = parallel.host_to_global(next(host_batches(run, 0, 1)), run.mesh, batch_axis=2)
    before, _ = run.step_fn(state, batch)
    before_g, before_d = _copies(before.g_params), _copies(before.d_params)
    compiled = run.step_fn._cache_size()
    after, _ = run.step_fn(moved, batch)
    assert run.step_fn._cache_size() == compiled  # the same program, not a new one
    moved_g = [b - x0 for x0, b in zip(g0, _copies(after.g_params), strict=True)]
    plain_g = [a - x0 for x0, a in zip(g0, before_g, strict=True)]
    assert max(np.abs(d).max() for d in plain_g) > 0
    for x0, plain, fast in zip(g0, plain_g, moved_g, strict=True):  # float32 rounding
        np.testing.assert_allclose(fast, 50 * plain, rtol=1e-2,
                                   atol=4e-6 * np.abs(x0).max())
    for a, b in zip(before_d, _copies(after.d_params), strict=True):
        np.testing.assert_array_equal(a, b)  # D's step did not change


def _copies(tree):
    import jax
    import numpy as np

    return [np.array(x, copy=True) for x in jax.tree.leaves(jax.device_get(tree))]


# --- a NaN is a `diverged` verdict for the autopilot (health.on_failure=remedy) ----------

# SGD at lr 3 on a tiny ring MLP: losses 1e14-1e30 and NaN within the first 5 steps;
# at lr 0.75 (lower_both_lrs) it trains finitely to the end.
NAN = [*SMALL, "train.log_every=5", "train.checkpoint_every=5", "train.steps=30",
       "train.keep_checkpoints=10",
       "optim.g.name=sgd", "optim.d.name=sgd", "optim.g.b1=0", "optim.d.b1=0",
       "optim.g.lr=3", "optim.d.lr=3", "health.on_failure=remedy", "health.max_remedies=1"]


@pytest.fixture(scope="module")
def nan_remedied(tmp_path_factory):
    from jaxgan.trainer import train

    wd = tmp_path_factory.mktemp("apnan") / "run"
    return wd, train(resolve("toy_ring_vanilla", NAN, 1), wd)


RECIPE = ("optim.g.name=adam optim.g.b1=0.5 optim.g.b2=0.999 optim.g.lr=0.001 "
          "optim.d.name=adam optim.d.b1=0.5 optim.d.b2=0.999 optim.d.lr=0.001")


def test_a_nan_is_answered_by_the_diverged_remedy_not_the_rollback(nan_remedied):
    """SGD at lr 3 is NaN at step 5; diverged's first remedy is the DCGAN recipe's
    Adam, so the run goes back to step 0 with both players on Adam (b1 0.5, lr 1e-3 on a
    toy) whose moments start at zero, and trains finitely to the end."""
    import json

    import jax
    import numpy as np
    import optax

    from jaxgan.checkpoint import Checkpointer, abstract_like
    from jaxgan.guards import all_finite, learning_rates
    from jaxgan.run import abstract_state, setup_run
    from jaxgan.writers import read_jsonl

    wd, result = nan_remedied
    recs = read_jsonl(wd / "metrics.jsonl")
    nan = [r for r in recs if r.get("nonfinite", 0) > 0]
    assert len(nan) == 1 and nan[0]["step"] == 5 and nan[0]["verdict"] == "diverged"
    acted = [r for r in recs if "autopilot" in r]
    assert [(r["step"], r["autopilot"], r["autopilot_verdict"], r["autopilot_failed_at"],
             r["autopilot_overrides"]) for r in acted] == [
        (0, "adam_recipe", "diverged", 5, RECIPE)]
    assert recs.index(nan[0]) < recs.index(acted[0])  # the NaN record, then the action
    applied = json.loads((wd / "autopilot.json").read_text())
    assert [(e["verdict"], e["remedy"], e["step"]) for e in applied] == [
        ("diverged", "adam_recipe", 0)]
    # the remedied state saved at the restored step is Adam's, fresh, at the capped rate
    cfg = remedies.apply_remedy(resolve("toy_ring_vanilla", NAN, 1), applied[0]["overrides"])
    assert (cfg.optim.g.name, cfg.optim.d.name, cfg.optim.g.b1, cfg.optim.d.b2) == (
        "adam", "adam", 0.5, 0.999)
    run = setup_run(cfg)
    ckpt = Checkpointer(wd / "checkpoints", read_only=True)
    assert 0 in ckpt.steps()
    _, restored = ckpt.restore(abstract_like(abstract_state(run), run.replicated), 0)
    np.testing.assert_allclose(learning_rates(restored), [1e-3, 1e-3], rtol=1e-6)
    for opt_state in (restored.g_opt_state, restored.d_opt_state):
        adam = [s for s in jax.tree.leaves(
            opt_state, is_leaf=lambda x: isinstance(x, optax.ScaleByAdamState))
            if isinstance(s, optax.ScaleByAdamState)]
        assert len(adam) == 1 and int(adam[0].count) == 0
        moments = jax.tree.leaves((adam[0].mu, adam[0].nu))
        assert moments and all(not np.asarray(m).any() for m in moments)
    # the parameters are step 0's, as saved before the failure (SGD's NaN did not leak)
    assert all_finite(restored)
    # ... and the run went on from it to the end, finite, at those rates
    assert int(result.state.step) == 30 and all_finite(result.state)
    np.testing.assert_allclose(learning_rates(result.state), [1e-3, 1e-3], rtol=1e-6)
    assert not result.stopped_early and result.last_record["step"] == 30
    assert all(np.isfinite(r["d_loss"]) for r in recs if "d_loss" in r and r["step"] > 5
               and recs.index(r) > recs.index(acted[0]))
    from jaxgan.diagnostics.doctor import diagnose

    report = diagnose(wd)
    assert any("autopilot: diverged at step 5" in w and "adam_recipe" in w
               for w in report.warnings)


def test_readers_and_a_resume_without_the_autopilot_open_the_swapped_optimizer(
        nan_remedied, tmp_path):
    """After adam_recipe the checkpoints hold Adam's state and config.json still names SGD
    (the user's config): `load_run` (jaxgan sample / eval) and a resume with the autopilot
    off must build the remedied optimizers from autopilot.json, not fail to restore."""
    import shutil

    import numpy as np

    from jaxgan.guards import all_finite, learning_rates
    from jaxgan.readers import load_run
    from jaxgan.trainer import train

    wd, whole = nan_remedied
    copy = tmp_path / "run"
    shutil.copytree(wd, copy)
    loaded = load_run(copy)
    assert loaded.step == 30 and loaded.config.optim.g.name == "adam"
    np.testing.assert_allclose(learning_rates(loaded.state), [1e-3, 1e-3], rtol=1e-6)
    assert np.isfinite(np.asarray(loaded.sample(8))).all()
    assert load_run(copy, step=0).config.optim.g.name == "adam"  # re-saved by the remedy
    more = [*NAN, "train.steps=40", "health.on_failure=warn"]
    out = train(resolve("toy_ring_vanilla", more, 1), copy)
    assert int(out.state.step) == 40 and all_finite(out.state)
    np.testing.assert_allclose(learning_rates(out.state), [1e-3, 1e-3], rtol=1e-6)


def test_a_nan_counts_against_max_remedies_then_on_nan_decides(tmp_path):
    """RMSprop under the Wasserstein loss (the WGAN recipe, which adam_recipe leaves alone)
    at lr 1e6 is NaN at 5 again after lower_both_lrs (2.5e5), with R1, and after
    lower_both_lrs again (6.25e4): the three remedies allowed are spent, so train.on_nan
    (stop) ends the run as before, with the doctor's report. Each remedy went back to step
    0, the initial state saved at lr 1e6: the third must still be at 1e6/16, not undo the
    first (the state's rates are moved from the config that checkpoint was saved under)."""
    import numpy as np

    from jaxgan.checkpoint import Checkpointer, abstract_like
    from jaxgan.guards import learning_rates
    from jaxgan.run import abstract_state, setup_run
    from jaxgan.trainer import TrainingDiverged, train
    from jaxgan.writers import read_jsonl

    cfg = resolve("toy_ring_vanilla", [*NAN, "optim.g.name=rmsprop", "optim.d.name=rmsprop",
                                       "loss.name=wasserstein", "optim.g.lr=1e6",
                                       "optim.d.lr=1e6", "health.max_remedies=3"], 1)
    assert remedies.ADAM_RECIPE.overrides(cfg, 0) is None
    with pytest.raises(TrainingDiverged, match="by step 5"):
        train(cfg, tmp_path)
    recs = read_jsonl(tmp_path / "metrics.jsonl")
    acted = [(r["step"], r["autopilot"], r["autopilot_overrides"]) for r in recs
             if "autopilot" in r]
    assert [a[:2] for a in acted] == [(0, "lower_both_lrs"), (0, "r1"), (0, "lower_both_lrs")]
    assert acted[0][2] == "optim.g.lr=250000 optim.d.lr=250000"
    assert acted[2][2] == "optim.g.lr=62500 optim.d.lr=62500"
    assert [r["verdict"] for r in recs if r.get("nonfinite", 0) > 0] == ["diverged"] * 4
    assert (tmp_path / "doctor" / "report.md").is_file()
    final = cfg
    for ov in ("optim.g.lr=62500", "optim.d.lr=62500", acted[1][2]):
        final = remedies.apply_remedy(final, [ov])
    run = setup_run(final)
    _, saved = Checkpointer(tmp_path / "checkpoints", read_only=True).restore(
        abstract_like(abstract_state(run), run.replicated), 0)
    np.testing.assert_allclose(learning_rates(saved), [62500, 62500], rtol=1e-6)


def test_saved_under_is_the_config_of_the_remedies_before_the_checkpoint(digits, tmp_path):
    pilot = autopilot.Autopilot(digits, tmp_path)
    try:
        applied = [{"step": 0, "overrides": ["optim.g.lr=1e-4"]},
                   {"step": 600, "overrides": ["optim.d.lr=1e-4"]},
                   {"step": 400, "overrides": ["tricks.r1_gamma=1.0"]}]
        lrs = {s: (c.optim.g.lr, c.optim.d.lr, c.tricks.r1_gamma) for s in (0, 400, 200)
               for c in [pilot.saved_under(s, applied)]}
        assert lrs[0] == (digits.optim.g.lr, digits.optim.d.lr, 0.0)  # the initial state
        assert lrs[200] == (1e-4, digits.optim.d.lr, 0.0)  # trained after the first
        assert lrs[400] == (1e-4, digits.optim.d.lr, 0.0)  # before the second (600)
        assert pilot.saved_under(700, applied[:2]).optim.d.lr == 1e-4
    finally:
        pilot.close()


def test_a_run_killed_in_a_nan_remedy_resumes_bit_exactly(nan_remedied, tmp_path,
                                                          monkeypatch):
    """Killed after the remedy is committed and before the remedied state is saved, the
    resumed run finishes that save and ends where the uninterrupted one does."""
    import numpy as np

    from jaxgan.trainer import train

    wd, whole = nan_remedied
    real = autopilot.Autopilot.commit

    def commit_then_die(self, entry):
        real(self, entry)
        raise KeyboardInterrupt("killed in the remedy")

    monkeypatch.setattr(autopilot.Autopilot, "commit", commit_then_die)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        train(resolve("toy_ring_vanilla", NAN, 1), part)
    monkeypatch.setattr(autopilot.Autopilot, "commit", real)
    resumed = train(resolve("toy_ring_vanilla", NAN, 1), part)
    for a, b in zip(_leaves(whole.state), _leaves(resumed.state), strict=True):
        np.testing.assert_array_equal(a, b)
