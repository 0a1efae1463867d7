"""The DCGAN's stride-2 convolutions as programs XLA runs fast, each computing exactly the
plain layer's map with the same 4x4 kernel (`tests/test_fast_layers.py` checks values and
both gradients against `lax.conv_transpose` / strided `lax.conv`).

Why several programs: XLA:CPU's gradients of small or strided convolutions are
slow, while a dot (and its gradient, two more dots) runs at matmul speed. Up-convolution
(`UpConv` modes):

* ``"transpose"``: `lax.conv_transpose`, the textbook formulation;
* ``"subpixel"``: a stride-1 3x3 convolution producing 4x the channels, then a
  depth-to-space shuffle (XLA:CPU's kernel gradient of the strided form is ~18x slower);
* ``"phase"``: one matmul over the 2x2 patches of the padded input computes all four
  output phases (`upconv_phase`);
* ``"col2im"``: one matmul per input pixel against the whole kernel, then an overlap-add
  (`upconv_col2im`);
* ``"fast"`` (the default): whichever of phase and col2im is faster for the layer's shape.

Down-convolution (`DownConv` modes): ``"conv"`` (strided `lax.conv`) or ``"s2d"``
(space-to-depth, 2x2 patches, one matmul; the default).

Derivation (1-D, per axis). With input ``x`` dilated by 2 and padded by 2, the transposed
convolution computes ``y[2m] = x[m-1] w[0] + x[m] w[2]`` and
``y[2m+1] = x[m] w[1] + x[m+1] w[3]``: output phase ``a`` is a 3-tap correlation over
``x[m-1..m+1]`` with taps ``w[2j - a]`` at ``j in {a, a+1}`` and zero elsewhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

UPSAMPLE_MODES = ("subpixel", "transpose", "phase", "col2im", "fast")
DOWNSAMPLE_MODES = ("conv", "s2d")


def patches_2x2(x: jax.Array) -> jax.Array:
    """(B, H+1, W+1, C) -> (B, H, W, 4C): every 2x2 window, channel order (row, col, C)."""
    h, w = x.shape[1] - 1, x.shape[2] - 1
    return jnp.concatenate([x[:, i:i + h, j:j + w] for i in range(2) for j in range(2)], -1)


def phase_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) transposed-conv kernel -> (4 Cin, 4 Cout) matrix of 2x2 phase taps.

    Output phase ``a`` of the stride-2 transposed convolution reads input taps ``m-1+a+j``
    (j = 0, 1) with kernel rows ``a + 2j`` (see the module docstring), so the 4x4 kernel
    splits into four 2x2 kernels by a reshape: row index ``2j + a``. Rows of the matrix
    are ordered (tap row, tap col, Cin) as in `patches_2x2`; columns (phase row, phase
    col, Cout) as in `depth_to_space`.
    """
    cin, cout = w.shape[2], w.shape[3]
    k = w.reshape(2, 2, 2, 2, cin, cout)  # (j_r, a_r, j_c, a_c, Cin, Cout)
    return jnp.transpose(k, (0, 2, 4, 1, 3, 5)).reshape(4 * cin, 4 * cout)


def upconv_phase(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 transposed convolution (padding 1) as ONE matmul over 2x2 patches.

    All four output phases share the patches of the input padded by one pixel: a
    (B (H+1)(W+1), 4 Cin) x (4 Cin, 4 Cout) product computes every phase at every padded
    position, and phase ``(a, b)`` is the window starting at ``(a, b)``. FLOPs are the
    transposed convolution's times ((H+1)/H)^2, with none of the subpixel form's 9/4.
    """
    b, h, wd, cin = x.shape
    cout = w.shape[-1]
    p = patches_2x2(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    full = (p.reshape(-1, 4 * cin) @ phase_kernel(w)).reshape(b, h + 1, wd + 1, 2, 2, cout)
    rows = [jnp.stack([full[:, a:a + h, c:c + wd, a, c] for c in range(2)], axis=3)
            for a in range(2)]  # each (B, H, W, 2 col phases, Cout)
    return jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * wd, cout)


def _shifted(a: jax.Array, axis: int, forward: bool) -> jax.Array:
    """``a[q-1]`` (forward) or ``a[q+1]`` at position q along `axis`, zero past the edge."""
    n = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 0) if forward else (0, 1)
    kept = jax.lax.slice_in_dim(a, 0, n - 1, axis=axis) if forward else \
        jax.lax.slice_in_dim(a, 1, n, axis=axis)
    return jnp.pad(kept, pad)


def _overlap_add(y: jax.Array, axis: int, tap_axis: int) -> jax.Array:
    """Sum the 4 kernel taps of `tap_axis` into a 2x longer `axis` (module docstring:
    ``y[2m] = x[m-1] w[0] + x[m] w[2]``, ``y[2m+1] = x[m] w[1] + x[m+1] w[3]``)."""
    def tap(k):  # a static slice, not the gather `jnp.take` would lower to
        return jax.lax.index_in_dim(y, k, axis=tap_axis, keepdims=False)

    even = tap(2) + _shifted(tap(0), axis, forward=True)
    odd = tap(1) + _shifted(tap(3), axis, forward=False)
    shape = list(even.shape)
    shape[axis] *= 2
    return jnp.stack([even, odd], axis=axis + 1).reshape(shape)


def upconv_col2im(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 transposed convolution as ONE matmul, then an overlap-add.

    Every input pixel times the whole kernel, a (B H W, Cin) x (Cin, 16 Cout) product,
    gives its 16 contributions; each output pixel sums the 4 that land on it. The FLOPs
    are exactly the transposed convolution's (`upconv_phase` computes a ((H+1)/H)^2
    border on top, 1.56x at 4x4) and no patches are built, but the product is 16 Cout
    wide: it wins where H is small or Cout is (see `upconv_fast`).
    """
    b, h, wd, cin = x.shape
    cout = w.shape[-1]
    y = x.reshape(-1, cin) @ jnp.transpose(w, (2, 0, 1, 3)).reshape(cin, 16 * cout)
    y = _overlap_add(y.reshape(b, h, wd, 4, 4, cout), 1, 3)  # rows: (B, 2H, W, 4, Cout)
    return _overlap_add(y, 2, 3)


def upconv_fast(x: jax.Array, w: jax.Array) -> jax.Array:
    """The faster exact formulation for this layer's shape on CPU (as measured, forward +
    both gradients, batch 64): `upconv_col2im` at 4x4 input (159 vs 201 ms for
    512->256) and for few output channels (63 vs 137 ms for 64->3 at 32x32);
    `upconv_phase` elsewhere (207 vs 224 ms at 8x8, 246 vs 298 ms at 16x16)."""
    if min(x.shape[1:3]) <= 4 or w.shape[-1] < 16:
        return upconv_col2im(x, w)
    return upconv_phase(x, w)


def space_to_depth(x: jax.Array, r: int = 2) -> jax.Array:
    """(B, rH, rW, C) -> (B, H, W, r*r*C), channel order (row phase, col phase, C)."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // r, r, w // r, r, c)
    return jnp.transpose(x, (0, 1, 3, 2, 4, 5)).reshape(b, h // r, w // r, r * r * c)


def s2d_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) stride-2 kernel -> (16 Cin, Cout) matrix for 2x2 taps over blocks.

    Kernel row ``i = 2a + p`` is block tap ``a``, in-block row ``p``; rows of the matrix
    follow `patches_2x2` over `space_to_depth` channels: (a, b, p, q, Cin).
    """
    cin, cout = w.shape[2], w.shape[3]
    k = w.reshape(2, 2, 2, 2, cin, cout)  # (a, p, b, q, Cin, Cout)
    return jnp.transpose(k, (0, 2, 1, 3, 4, 5)).reshape(16 * cin, cout)


def downconv_s2d(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 convolution (padding 1) as space-to-depth + one matmul.

    Padding by one and folding 2x2 blocks into channels turns the strided 4x4 window into
    a stride-1 2x2 window over blocks, i.e. a (B H/2 W/2, 16 Cin) x (16 Cin, Cout) dot.
    """
    b, h, wd, cin = x.shape
    if h % 2 or wd % 2:
        raise ValueError(f"DownConv mode 's2d' needs even H and W, got {h}x{wd}")
    p = patches_2x2(space_to_depth(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))))
    return (p.reshape(-1, 16 * cin) @ s2d_kernel(w)).reshape(b, h // 2, wd // 2, -1)


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
