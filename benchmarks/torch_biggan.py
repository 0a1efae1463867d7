"""The PyTorch peer of jaxgan's BigGAN, written for the step-speed benchmark.

Why a separate peer: no public PyTorch BigGAN has jaxgan's small-resolution layout (and
BigGAN-PyTorch's CIFAR script drops the shared embedding, the hierarchical latents and
attention), so a like-for-like timing needs the same network written in PyTorch the way
its users write it: eager modules, `torch.nn.utils.parametrizations.spectral_norm`,
`torch.optim.Adam`, BigGAN-PyTorch's hand-written orthogonal-regularization gradient added
to ``.grad`` and its parameter-wise EMA. The layout follows `jaxgan/models/biggan.py`
(read, not imported: nothing here imports jaxgan's models) for resolutions up to 32:

* G: a shared class embedding (``shared_dim``); with ``hier`` z split into
  ``blocks + 1`` chunks, the first through an SN linear to 4x4x(4 * g_width), the others
  each joined to the embedding as one block's conditioning vector; up blocks of linear
  conditional BN (``BN(x) * (1 + W_g c) + W_b c``, no affine, SN projections), ReLU,
  nearest 2x upsample, SN 3x3 conv, cBN, ReLU, SN 3x3 conv plus an SN 1x1 shortcut of the
  upsampled input; self-attention after the block (or 4x4 projection) at
  ``attention_res``; BN, ReLU, SN 3x3 conv to the image, tanh.
* D: SNGAN's residual down blocks (the first "optimized"), down to 8x8 (4x4 for 8x8
  images) and two more at that size, all 4 * d_width wide; self-attention once, after the
  first block at ``attention_res``; ReLU, global sum pool, SN linear plus the projection
  ``<SN-embed(y), features>``.
* The iteration is jaxgan's (`jaxgan/step.py`): ``n_critic`` rounds of fresh z and labels,
  G forward (with autograd only in the last round), D on the real batch and on the
  detached fakes, hinge loss, D step; then G's hinge loss through the updated D on the
  last round's fakes (D's parameters frozen, as BigGAN-PyTorch's ``toggle_grad``), the
  orthogonal-regularization gradient, G step, EMA of G's parameters with a start step.
  Spectral norm does one power iteration per forward in training mode, as jaxgan's.

Benchmark-only: torch is never imported by the jaxgan package.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm
from torch_peers import ema_update_


def _sn(m: nn.Module) -> nn.Module:
    return spectral_norm(m, n_power_iterations=1, eps=1e-12)


def _conv(cin: int, cout: int, k: int, bias: bool = True) -> nn.Module:
    return _sn(nn.Conv2d(cin, cout, k, padding=k // 2, bias=bias))


class Attention(nn.Module):
    """SAGAN's block as BigGAN writes it: theta/phi C/8, g C/2, phi and g max-pooled."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.ck, self.cv = max(c // 8, 1), max(c // 2, 1)
        self.theta, self.phi = _conv(c, self.ck, 1, False), _conv(c, self.ck, 1, False)
        self.g, self.out = _conv(c, self.cv, 1, False), _conv(self.cv, c, 1, False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        theta = self.theta(x).view(b, self.ck, h * w)
        phi, g = self.phi(x), self.g(x)
        if h >= 2 and w >= 2:
            phi, g = F.max_pool2d(phi, 2), F.max_pool2d(g, 2)
        phi, g = phi.view(b, self.ck, -1), g.view(b, self.cv, -1)
        attn = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = torch.bmm(g, attn.transpose(1, 2)).view(b, self.cv, h, w)
        return x + self.gamma * self.out(o)


class CondBN(nn.Module):
    """BigGAN's ``ccbn``: affine-free batch norm, scale ``1 + W_g c`` and shift ``W_b c``."""

    def __init__(self, c: int, cond_dim: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1, affine=False)
        self.gain = _sn(nn.Linear(cond_dim, c, bias=False))
        self.bias = _sn(nn.Linear(cond_dim, c, bias=False))

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.bn(x) * (1 + self.gain(cond)[:, :, None, None]) + \
            self.bias(cond)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self, cin: int, cout: int, cond_dim: int) -> None:
        super().__init__()
        self.bn0, self.bn1 = CondBN(cin, cond_dim), CondBN(cout, cond_dim)
        self.conv0, self.conv1 = _conv(cin, cout, 3), _conv(cout, cout, 3)
        self.shortcut = _conv(cin, cout, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.conv0(F.interpolate(F.relu(self.bn0(x, cond)), scale_factor=2))
        h = self.conv1(F.relu(self.bn1(h, cond)))
        return h + self.shortcut(F.interpolate(x, scale_factor=2))


class DBlock(nn.Module):
    def __init__(self, cin: int, cout: int, down: bool, optimized: bool) -> None:
        super().__init__()
        self.down, self.optimized = down, optimized
        self.conv0, self.conv1 = _conv(cin, cout, 3), _conv(cout, cout, 3)
        self.learnable_sc = optimized or down or cin != cout
        if self.learnable_sc:
            self.shortcut = _conv(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv0(x if self.optimized else F.relu(x))
        h = self.conv1(F.relu(h))
        if self.down:
            h = F.avg_pool2d(h, 2)
        if self.optimized:
            return h + self.shortcut(F.avg_pool2d(x, 2))
        sc = x
        if self.learnable_sc:
            sc = self.shortcut(x)
            if self.down:
                sc = F.avg_pool2d(sc, 2)
        return h + sc


def _blocks(resolution: int) -> int:
    n = int(math.log2(resolution))
    if resolution < 8 or 2 ** n != resolution or resolution > 32:
        raise ValueError(f"the benchmark's BigGAN covers 8, 16 and 32, got {resolution}")
    return n - 2


class Generator(nn.Module):
    def __init__(self, resolution: int, channels: int, width: int, num_classes: int,
                 latent_dim: int, shared_dim: int, hier: bool, attention_res: int) -> None:
        super().__init__()
        n, c = _blocks(resolution), 4 * width
        self.hier, self.n, self.c, self.attention_res = hier, n, c, attention_res
        chunk = latent_dim // (n + 1) if hier else 0
        self.num_classes = num_classes
        self.shared = nn.Embedding(num_classes, shared_dim) if num_classes else None
        cond_dim = (shared_dim if num_classes else 0) + chunk or 1
        self.project = _sn(nn.Linear(chunk if hier else latent_dim, 16 * c))
        self.blocks = nn.ModuleList(GBlock(c, c, cond_dim) for _ in range(n))
        g_res = [4 * 2 ** i for i in range(n + 1)]  # the projection's, then each block's
        self.attention = Attention(c) if attention_res in g_res else None
        self.bn_out = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
        self.to_image = _conv(c, channels, 3)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        if self.hier:
            z0, *zs = torch.chunk(z, self.n + 1, dim=1)
        else:
            z0, zs = z, [z[:, :0]] * self.n
        if self.shared is not None:
            e = self.shared(y)
            zs = [torch.cat([e, zi], 1) for zi in zs]
        h = self.project(z0).view(b, self.c, 4, 4)
        if self.attention_res == 4:
            h = self.attention(h)
        for block, cond in zip(self.blocks, zs, strict=True):
            if cond.shape[1] == 0:
                cond = z.new_zeros(b, 1)
            h = block(h, cond)
            if h.shape[-1] == self.attention_res:
                h = self.attention(h)
        return torch.tanh(self.to_image(F.relu(self.bn_out(h))))


class Discriminator(nn.Module):
    def __init__(self, resolution: int, channels: int, width: int, num_classes: int,
                 attention_res: int) -> None:
        super().__init__()
        n_down, c = max(int(math.log2(resolution)) - 3, 1), 4 * width
        _blocks(resolution)
        self.blocks = nn.ModuleList(
            DBlock(channels if i == 0 else c, c, i < n_down, i == 0) for i in range(n_down + 2))
        res = [resolution // 2 ** min(i + 1, n_down) for i in range(n_down + 2)]
        self.attend_after = res.index(attention_res) if attention_res in res else -1
        self.attention = Attention(c) if self.attend_after >= 0 else None
        self.linear = _sn(nn.Linear(c, 1))
        self.embed = _sn(nn.Embedding(num_classes, c)) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i == self.attend_after:
                h = self.attention(h)
        feats = torch.sum(F.relu(h), dim=(2, 3))
        out = self.linear(feats)[:, 0]
        if self.embed is not None:
            out = out + torch.sum(self.embed(y) * feats, dim=1)
        return out


def ortho_grad_(model: nn.Module, beta: float) -> None:
    """Add the gradient of ``beta * sum ||W W^T * (1 - I)||_F^2`` (jaxgan's penalty; W
    read as (filters, fan-in)) to every G weight of 2+ dims but the shared embedding,
    BigGAN-PyTorch's way: by hand, after the backward pass."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim < 2 or name.startswith("shared") or p.grad is None:
                continue
            w = p.view(p.shape[0], -1)
            off = (w @ w.t()) * (1.0 - torch.eye(w.shape[0], dtype=w.dtype))
            p.grad.add_((4.0 * beta * (off @ w)).view(p.shape))


class BigGANPeer:
    """jaxgan's BigGAN iteration (module docstring) on fixed real batches."""

    def __init__(self, resolution: int = 8, channels: int = 1, g_width: int = 16,
                 d_width: int = 16, num_classes: int = 10, latent_dim: int = 32,
                 shared_dim: int = 32, hier: bool = True, attention_res: int = 4,
                 batch: int = 64, n_critic: int = 2, g_lr: float = 2e-4, d_lr: float = 2e-4,
                 betas: tuple[float, float] = (0.0, 0.999), ortho: float = 1e-4,
                 ema_decay: float = 0.999, ema_start: int = 200, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.G = Generator(resolution, channels, g_width, num_classes, latent_dim, shared_dim,
                           hier, attention_res)
        self.D = Discriminator(resolution, channels, d_width, num_classes, attention_res)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=betas, eps=1e-8)
        self.optD = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=betas, eps=1e-8)
        self.ema = [p.detach().clone() for p in self.G.parameters()]
        self.batch, self.n_critic, self.latent = batch, n_critic, latent_dim
        self.k, self.ortho = max(num_classes, 1), ortho
        self.ema_decay, self.ema_start, self.t = ema_decay, ema_start, 0
        self.real = torch.rand(n_critic, batch, channels, resolution, resolution) * 2 - 1
        self.y_real = torch.randint(0, self.k, (n_critic, batch))

    def _toggle_d(self, on: bool) -> None:
        for p in self.D.parameters():
            p.requires_grad_(on)

    def step(self) -> float:
        fake = y = None
        for i in range(self.n_critic):
            z = torch.randn(self.batch, self.latent)
            y = torch.randint(0, self.k, (self.batch,))
            if i == self.n_critic - 1:
                fake = self.G(z, y)
            else:
                with torch.no_grad():
                    fake = self.G(z, y)
            self.optD.zero_grad(set_to_none=True)
            d_loss = F.relu(1 - self.D(self.real[i], self.y_real[i])).mean() + \
                F.relu(1 + self.D(fake.detach(), y)).mean()
            d_loss.backward()
            self.optD.step()
        self._toggle_d(False)
        self.optG.zero_grad(set_to_none=True)
        g_loss = -self.D(fake, y).mean()
        g_loss.backward()
        self._toggle_d(True)
        if self.ortho > 0:
            ortho_grad_(self.G, self.ortho)
        self.optG.step()
        ema_update_(self.ema, self.G, self.t, self.ema_decay, self.ema_start)
        self.t += 1
        return float(g_loss.detach())


def peer_kwargs(cfg) -> dict:
    """`BigGANPeer`'s arguments from a jaxgan config (its fields only, no jaxgan code)."""
    m, o, t = cfg.model, cfg.optim, cfg.train
    if (o.g.b1, o.g.b2) != (o.d.b1, o.d.b2):
        raise ValueError("the peer takes one pair of Adam betas for G and D")
    return dict(resolution=cfg.data.resolution, channels=cfg.data.channels,
                g_width=m.g_width, d_width=m.d_width, num_classes=m.num_classes,
                latent_dim=m.latent_dim, shared_dim=m.biggan.shared_dim, hier=m.biggan.hier,
                attention_res=m.attention_res, batch=t.batch_size, n_critic=t.n_critic,
                g_lr=o.g.lr, d_lr=o.d.lr, betas=(o.g.b1, o.g.b2),
                ortho=cfg.tricks.ortho_reg, ema_decay=t.ema_decay, ema_start=t.ema_start)

