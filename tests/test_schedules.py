"""`optim.*.schedule`: the decay factor scales each update exactly as optax's schedule says,
keeps the learning rate injectable, and refuses values it cannot honour."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxgan import config as config_lib
from jaxgan.config import ConfigError
from jaxgan.guards import is_injected
from jaxgan.schema import OptimConfig
from jaxgan.state import make_models, make_optimizer


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_schedule_scales_each_update_by_its_factor(name):
    c = OptimConfig(lr=1e-2, schedule=name, schedule_final=0.1)
    plain, decayed = make_optimizer(OptimConfig(lr=1e-2), 10), make_optimizer(c, 10)
    params = {"w": jnp.ones(3)}
    s_plain, s_dec = plain.init(params), decayed.init(params)
    factors = []
    for i in range(12):
        g = {"w": jnp.array([1.0, -2.0, 0.5]) * (i + 1)}
        u_plain, s_plain = plain.update(g, s_plain, params)
        u_dec, s_dec = decayed.update(g, s_dec, params)
        factors.append(float(u_dec["w"][0] / u_plain["w"][0]))
        np.testing.assert_allclose(u_dec["w"], u_plain["w"] * factors[-1], rtol=1e-6)
    ref = optax.linear_schedule(1.0, 0.1, 9) if name == "linear" else \
        optax.cosine_decay_schedule(1.0, 9, alpha=0.1)  # the 10th update is the last
    np.testing.assert_allclose(factors, [float(ref(i)) for i in range(12)], rtol=1e-5)
    assert factors[0] == pytest.approx(1.0) and factors[9] == pytest.approx(0.1)


def test_schedule_keeps_the_learning_rate_injected_and_counts_d_updates():
    cfg = config_lib.resolve("toy_ring_vanilla", ["optim.d.schedule=linear",
                                                  "train.n_critic=3", "train.steps=4"], 1)
    models = make_models(cfg)
    params = {"w": jnp.ones(2)}
    state = models.tx_d.init(params)
    injected = [s for s in jax.tree.leaves(state, is_leaf=is_injected) if is_injected(s)]
    assert [float(s.hyperparams["learning_rate"]) for s in injected] == \
        pytest.approx([cfg.optim.d.lr])
    g = {"w": jnp.ones(2)}
    first, state = models.tx_d.update(g, state, params)
    for _ in range(11):  # 4 iterations x 3 D updates: the 12th update is the last, factor 0
        u, state = models.tx_d.update(g, state, params)
    assert float(jnp.abs(u["w"]).max()) == 0.0 and float(jnp.abs(first["w"]).max()) > 0


@pytest.mark.parametrize("override,what", [("optim.g.schedule=step", "optim.g.schedule"),
                                           ("optim.d.schedule_final=1.5", "schedule_final")])
def test_bad_schedule_is_refused_with_the_key(override, what):
    with pytest.raises(ConfigError, match=what):
        config_lib.resolve("toy_ring_vanilla", [override], 1)
