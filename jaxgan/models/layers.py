"""Building blocks shared by the architectures.

`UpConv` is the DCGAN generator's 4x4, stride-2 transposed convolution (PyTorch
``ConvTranspose2d(k=4, s=2, p=1)``). It keeps exactly that layer's parameters (one 4x4
kernel) and computes exactly that function, in one of two ways:

* ``"transpose"``: `lax.conv_transpose`, the textbook formulation;
* ``"subpixel"``: the same map rewritten as a stride-1 3x3 convolution producing 4x the
  channels, then a depth-to-space shuffle. On CPU, XLA's kernel gradient of a strided
  transposed convolution is about 18x slower than the stride-1 form (see DESIGN.md), so
  this is the default. Both are tested equal to float32 rounding.

Derivation (1-D, per axis). With input ``x`` dilated by 2 and padded by 2, the transposed
convolution computes ``y[2m] = x[m-1] w[0] + x[m] w[2]`` and
``y[2m+1] = x[m] w[1] + x[m+1] w[3]``: output phase ``a`` is a 3-tap correlation over
``x[m-1..m+1]`` with taps ``w[2j - a]`` at ``j in {a, a+1}`` and zero elsewhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

DCGAN_INIT = nn.initializers.normal(0.02)  # Radford et al.: all weights ~ N(0, 0.02)


def bn_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """DCGAN's batch-norm gamma ~ N(1, 0.02), as in the PyTorch reference."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def _phase_gather() -> tuple[np.ndarray, np.ndarray]:
    """Index map from the 4x4 transposed kernel to the 3x3x(2x2 phases) subpixel kernel.

    Returns (idx, mask) of shape (3, 2): for tap j and phase a, the source kernel index
    and whether that tap is used.
    """
    idx = np.zeros((3, 2), np.int32)
    mask = np.zeros((3, 2), np.float32)
    for a in range(2):
        for j in (a, a + 1):
            idx[j, a] = 2 * j - a
            mask[j, a] = 1.0
    return idx, mask


_IDX, _MASK = _phase_gather()


def subpixel_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) transposed-conv kernel -> (3, 3, Cin, 4*Cout) stride-1 kernel.

    Output channel order is (phase_row, phase_col, Cout), matching `depth_to_space`.
    """
    cin, cout = w.shape[2], w.shape[3]
    # rows: (3, 2, 4, Cin, Cout) -> gather kernel rows per (tap, phase)
    k = w[_IDX] * _MASK[:, :, None, None, None].astype(w.dtype)  # (3, 2, 4, Cin, Cout)
    k = k[:, :, _IDX] * _MASK[None, None, :, :, None, None].astype(w.dtype)
    # k: (3 tap_r, 2 phase_r, 3 tap_c, 2 phase_c, Cin, Cout)
    k = jnp.transpose(k, (0, 2, 4, 1, 3, 5))  # (3, 3, Cin, 2, 2, Cout)
    return k.reshape(3, 3, cin, 4 * cout)


def depth_to_space(x: jax.Array, r: int = 2) -> jax.Array:
    """(B, H, W, r*r*C) with channel order (row phase, col phase, C) -> (B, rH, rW, C)."""
    b, h, w, c = x.shape
    c_out = c // (r * r)
    x = x.reshape(b, h, w, r, r, c_out)
    x = jnp.transpose(x, (0, 1, 3, 2, 4, 5))
    return x.reshape(b, h * r, w * r, c_out)


class UpConv(nn.Module):
    """4x4 stride-2 transposed convolution doubling H and W (PyTorch padding=1)."""

    features: int
    mode: str = "subpixel"  # "subpixel" | "transpose": the same function, two programs
    use_bias: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cin = x.shape[-1]
        w = self.param("kernel", DCGAN_INIT, (4, 4, cin, self.features), jnp.float32)
        x = x.astype(self.dtype)
        w = w.astype(self.dtype)
        dn = ("NHWC", "HWIO", "NHWC")
        if self.mode == "transpose":
            y = jax.lax.conv_transpose(x, w, (2, 2), ((2, 2), (2, 2)), dimension_numbers=dn)
        elif self.mode == "subpixel":
            y = jax.lax.conv_general_dilated(x, subpixel_kernel(w), (1, 1), ((1, 1), (1, 1)),
                                             dimension_numbers=dn)
            y = depth_to_space(y, 2)
        else:
            raise ValueError(f"UpConv mode must be 'subpixel' or 'transpose', got {self.mode!r}")
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(self.dtype)
        return y
