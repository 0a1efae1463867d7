"""The PyTorch peer of jaxgan's StyleGAN2 with ADA, written for the step-speed benchmark.

Why a separate peer: stylegan2-ada-pytorch compiles its own CUDA kernels (upfirdn2d,
bias_act) and falls back to slow reference ops on a CPU, and its networks cannot be
shrunk to jaxgan's 8x8 digits layout, so a like-for-like timing needs the same network
written in eager PyTorch with the reference ops (`F.conv2d`, `F.grid_sample`), the way a
user writes it. The layout follows `jaxgan/models/stylegan2.py`, `stylegan_ops.py`,
`stylegan2_reg.py` and `jaxgan/augment_ada.py` (read, not imported: nothing here imports
jaxgan's models), NCHW instead of NHWC:

* the ops: upfirdn2d with the [1, 3, 3, 1] FIR as two depthwise 1-D convolutions, the
  resampling convolutions (zero insertion / FIR / 'valid' conv, FIR / strided conv),
  equalized-LR dense and conv layers (N(0, 1) / lr_mul weights scaled at run time),
  modulated convolution in the non-fused form (scale inputs, shared conv, demodulate the
  outputs), minibatch stddev over groups of consecutive samples;
* G: mapping (normalized z, optional class embedding, `mapping_layers` lrelu FC at lr
  multiplier `mapping_lr`), w_avg tracked (beta 0.995), style mixing with probability
  `mixing` at a random layer per sample; synthesis from a learned 4x4 constant, per
  resolution two modulated 3x3 convolutions (the first upsampling) with per-pixel noise
  and a ToRGB (modulated 1x1, no demodulation) added to the FIR-upsampled image below;
* D: FromRGB, residual blocks (1x1 FIR-down skip, 3x3, 3x3 down, both x sqrt(0.5)),
  minibatch stddev, a 3x3 conv, two FC (projection onto a class map when conditional);
* ADA (`ada_augment`): the bgc pipeline per sample with probability p (xflip, rotate90,
  integer translation, isotropic scale, rotation before and after the anisotropic
  scale, fractional translation: one affine map applied by bilinear `grid_sample` with
  reflection; brightness, contrast, luma flip, hue, saturation: one colour matrix,
  clipped to [-1, 1]) on every input of D, and the r_t heuristic adjusting p;
* the iteration is jaxgan's (`jaxgan/step.py`): `n_critic` rounds of D on the augmented
  real batch and the augmented detached fakes (non-saturating loss, lazy R1 on the
  augmented reals every `r1_every` D updates, times it, in the same backward pass), then
  G's loss through the updated D on the last round's augmented fakes, lazy path length
  every `pl_every` G steps (times it) on 1 / `pl_shrink` of the batch, the ADA update of
  p from D(real), Adam for both, the EMA of G.

Benchmark-only: torch is never imported by the jaxgan package.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch_peers import ema_update_

FIR = (1.0, 3.0, 3.0, 1.0)
W_AVG_BETA, PL_DECAY = 0.995, 0.01


def channels_at(res: int, width: int) -> int:
    return min(32 * width // res, width)


def upfirdn2d(x: torch.Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0),
              gain: float = 1.0) -> torch.Tensor:
    """Zero insertion, pad (both spatial axes), the separable FIR, then striding."""
    n, c, h, w = x.shape
    taps = torch.tensor(FIR, dtype=x.dtype) / sum(FIR) * math.sqrt(gain)
    if up > 1:
        x = F.pad(x.reshape(n, c, h, 1, w, 1), (0, up - 1, 0, 0, 0, up - 1))
        x = x.reshape(n, c, h * up, w * up)
    x = F.pad(x, (pad[0], pad[1], pad[0], pad[1]))
    x = F.conv2d(x, taps.view(1, 1, -1, 1).expand(c, 1, -1, 1).contiguous(), groups=c)
    x = F.conv2d(x, taps.view(1, 1, 1, -1).expand(c, 1, 1, -1).contiguous(), groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def upsample2d(x: torch.Tensor) -> torch.Tensor:
    return upfirdn2d(x, up=2, pad=(2, 1), gain=4.0)


def conv_up(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    k = w.shape[-1]
    return F.conv2d(upfirdn2d(x, up=2, pad=(k // 2 + 2, k // 2 + 1), gain=4.0), w)


def conv_down(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    k = w.shape[-1]
    return F.conv2d(upfirdn2d(x, pad=(k // 2 + 1, k // 2 + 1)), w, stride=2)


def _act(x: torch.Tensor, act: str, gain: float = 1.0) -> torch.Tensor:
    if act == "lrelu":
        return F.leaky_relu(x, 0.2) * (math.sqrt(2.0) * gain)
    return x * gain if gain != 1.0 else x


class EqDense(nn.Module):
    def __init__(self, cin: int, cout: int, lr_mul: float = 1.0, bias_init: float = 0.0,
                 act: str = "linear") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) / lr_mul)
        self.bias = nn.Parameter(torch.full((cout,), float(bias_init)))
        self.scale, self.lr_mul, self.act = lr_mul / math.sqrt(cin), lr_mul, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _act(F.linear(x, self.weight * self.scale, self.bias * self.lr_mul), self.act)


class EqConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, act: str = "linear", bias: bool = True,
                 resample: str = "none", gain: float = 1.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.act, self.resample, self.gain = 1 / math.sqrt(cin * k * k), act, \
            resample, gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight * self.scale
        if self.resample == "down":
            y = conv_down(x, w)
        else:
            y = F.conv2d(x, w, padding=w.shape[-1] // 2)
        if self.bias is not None:
            y = y + self.bias[None, :, None, None]
        return _act(y, self.act, self.gain)


def modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                   demodulate: bool = True, up: bool = False) -> torch.Tensor:
    """`weight` (out, in, k, k), `styles` (N, in): the non-fused form."""
    y = x * styles[:, :, None, None]
    y = conv_up(y, weight) if up else F.conv2d(y, weight, padding=weight.shape[-1] // 2)
    if demodulate:
        d = torch.rsqrt((weight[None] * styles[:, None, :, None, None]).square()
                        .sum(dim=(2, 3, 4)) + 1e-8)
        y = y * d[:, :, None, None]
    return y


class SynthesisLayer(nn.Module):
    def __init__(self, cin: int, cout: int, w_dim: int, up: bool = False) -> None:
        super().__init__()
        self.affine = EqDense(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = modulated_conv(x, self.weight, self.affine(w), up=self.up)
        noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3])
        return _act(x + noise * self.noise_strength + self.bias[None, :, None, None], "lrelu")


class ToRGB(nn.Module):
    def __init__(self, cin: int, channels: int, w_dim: int) -> None:
        super().__init__()
        self.affine = EqDense(w_dim, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(channels, cin, 1, 1))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w) / math.sqrt(x.shape[1])
        return modulated_conv(x, self.weight, styles, demodulate=False) + \
            self.bias[None, :, None, None]


class Generator(nn.Module):
    def __init__(self, resolution: int, channels: int, width: int, latent_dim: int,
                 w_dim: int, mapping_layers: int, mapping_lr: float, num_classes: int,
                 mixing: float) -> None:
        super().__init__()
        n = int(math.log2(resolution))
        if resolution < 8 or 2 ** n != resolution:
            raise ValueError(f"StyleGAN2 needs a power-of-two resolution >= 8, got {resolution}")
        self.num_ws, self.mixing, self.num_classes = 2 * n - 2, mixing, num_classes
        self.embed = EqDense(num_classes, w_dim) if num_classes else None
        dims = [latent_dim + (w_dim if num_classes else 0)] + [w_dim] * mapping_layers
        self.mapping = nn.ModuleList(EqDense(a, b, mapping_lr, act="lrelu")
                                     for a, b in zip(dims[:-1], dims[1:], strict=True))
        c4 = channels_at(4, width)
        self.const = nn.Parameter(torch.randn(c4, 4, 4))
        self.convs, self.torgbs = nn.ModuleList([SynthesisLayer(c4, c4, w_dim)]), \
            nn.ModuleList([ToRGB(c4, channels, w_dim)])
        cin = c4
        for log_res in range(3, n + 1):
            c = channels_at(2 ** log_res, width)
            self.convs.extend([SynthesisLayer(cin, c, w_dim, up=True),
                               SynthesisLayer(c, c, w_dim)])
            self.torgbs.append(ToRGB(c, channels, w_dim))
            cin = c
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def map(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        x = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
        if self.embed is not None:
            e = self.embed(F.one_hot(y, self.num_classes).float())
            x = torch.cat([x, e * torch.rsqrt(e.square().mean(1, keepdim=True) + 1e-8)], 1)
        for layer in self.mapping:
            x = layer(x)
        return x

    def styles(self, z: torch.Tensor, y: torch.Tensor | None,
               update_avg: bool = False) -> torch.Tensor:
        """(N, num_ws, w_dim), mixed as in training."""
        w = self.map(z, y)
        if update_avg:
            with torch.no_grad():
                self.w_avg.copy_(w.mean(0).lerp(self.w_avg, W_AVG_BETA))
        ws = w[:, None].expand(-1, self.num_ws, -1)
        if self.mixing > 0:
            w2 = self.map(torch.randn_like(z), y)
            n = z.shape[0]
            cut = torch.where(torch.rand(n) < self.mixing,
                              torch.randint(1, self.num_ws, (n,)), self.num_ws)
            mix = torch.arange(self.num_ws)[None, :, None] >= cut[:, None, None]
            ws = torch.where(mix, w2[:, None], ws)
        return ws

    def synthesize(self, ws: torch.Tensor) -> torch.Tensor:
        x = self.const[None].expand(ws.shape[0], -1, -1, -1)
        x = self.convs[0](x, ws[:, 0])
        img = self.torgbs[0](x, ws[:, 1])
        for j, i in enumerate(range(1, len(self.convs), 2)):
            x = self.convs[i + 1](self.convs[i](x, ws[:, i]), ws[:, i + 1])
            img = upsample2d(img) + self.torgbs[j + 1](x, ws[:, i + 2])
        return img

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesize(self.styles(z, y, update_avg=True))


class DBlock(nn.Module):
    def __init__(self, cin: int, cmid: int, cout: int) -> None:
        super().__init__()
        g = math.sqrt(0.5)
        self.skip = EqConv(cin, cout, 1, bias=False, resample="down", gain=g)
        self.conv0 = EqConv(cin, cmid, 3, act="lrelu")
        self.conv1 = EqConv(cmid, cout, 3, act="lrelu", resample="down", gain=g)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.conv1(self.conv0(x))


def minibatch_stddev(x: torch.Tensor, group: int = 4) -> torch.Tensor:
    n, c, h, w = x.shape
    g = min(group, n)
    y = x.reshape(n // g, g, c, h, w)
    s = (y - y.mean(1, keepdim=True)).square().mean(1).add(1e-8).sqrt().mean(dim=(1, 2, 3))
    return torch.cat([x, s.repeat_interleave(g)[:, None, None, None].expand(n, 1, h, w)], 1)


class Discriminator(nn.Module):
    def __init__(self, resolution: int, channels: int, width: int, num_classes: int,
                 mbstd_group: int) -> None:
        super().__init__()
        n, c4 = int(math.log2(resolution)), channels_at(4, width)
        self.fromrgb = EqConv(channels, channels_at(resolution, width), 1, act="lrelu")
        self.blocks = nn.ModuleList(
            DBlock(channels_at(2 ** r, width), channels_at(2 ** r, width),
                   channels_at(2 ** (r - 1), width)) for r in range(n, 2, -1))
        self.group, self.num_classes = mbstd_group, num_classes
        self.conv = EqConv(c4 + 1, c4, 3, act="lrelu")
        self.fc = EqDense(c4 * 16, c4, act="lrelu")
        self.out = EqDense(c4, c4 if num_classes else 1)
        self.cmap = EqDense(num_classes, c4) if num_classes else None

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.fromrgb(x)
        for block in self.blocks:
            h = block(h)
        h = self.conv(minibatch_stddev(h, self.group))
        out = self.out(self.fc(h.flatten(1)))
        if self.cmap is None:
            return out[:, 0]
        cmap = self.cmap(F.one_hot(y, self.num_classes).float())
        return (out * cmap).sum(1) / math.sqrt(cmap.shape[1])


# ------------------------------------------------------------------------------ ADA

def _mat3(rows: list[list[torch.Tensor]]) -> torch.Tensor:
    return torch.stack([torch.stack(r, -1) for r in rows], -2)


def _translate(tx, ty):
    o, z = torch.ones_like(tx), torch.zeros_like(tx)
    return _mat3([[o, z, tx], [z, o, ty], [z, z, o]])


def _scale(sx, sy):
    o, z = torch.ones_like(sx), torch.zeros_like(sx)
    return _mat3([[sx, z, z], [z, sy, z], [z, z, o]])


def _rotate(t):
    c, s, o, z = torch.cos(t), torch.sin(t), torch.ones_like(t), torch.zeros_like(t)
    return _mat3([[c, -s, z], [s, c, z], [z, z, o]])


_LUMA = torch.tensor([1.0, 1.0, 1.0, 0.0]) / math.sqrt(3.0)


def ada_augment(x: torch.Tensor, p: float) -> torch.Tensor:
    """The bgc pipeline on an NCHW batch, each transform with probability `p` per sample."""
    n, ch, h, w = x.shape

    def draws(prob: float = p):
        return torch.rand(n, 2) < prob, torch.rand(n, 2), torch.randn(n, 2)

    one = torch.ones(n)
    g = torch.eye(3).expand(n, 3, 3)
    use, u, _ = draws()
    g = g @ _scale(1 - 2 * torch.where(use[:, 0], torch.floor(u[:, 0] * 2), 0.0), one)
    use, u, _ = draws()
    g = g @ _rotate(-math.pi / 2 * torch.where(use[:, 0], torch.floor(u[:, 0] * 4), 0.0))
    use, u, _ = draws()
    t = torch.where(use[:, :1], (u * 2 - 1) * 0.125, 0.0)
    g = g @ _translate(torch.round(t[:, 0] * w), torch.round(t[:, 1] * h))
    use, _, r = draws()
    s = torch.where(use[:, 0], torch.exp2(r[:, 0] * 0.2), 1.0)
    g = g @ _scale(s, s)
    rot_use, rot_u, _ = draws(1 - math.sqrt(1 - p))
    g = g @ _rotate(-torch.where(rot_use[:, 0], (rot_u[:, 0] * 2 - 1) * math.pi, 0.0))
    use, _, r = draws()
    s = torch.where(use[:, 0], torch.exp2(r[:, 0] * 0.2), 1.0)
    g = g @ _scale(s, 1 / s)
    g = g @ _rotate(-torch.where(rot_use[:, 1], (rot_u[:, 1] * 2 - 1) * math.pi, 0.0))
    use, _, r = draws()
    t = torch.where(use[:, :1], r * 0.125, 0.0)
    g = g @ _translate(t[:, 0] * w, t[:, 1] * h)
    # output pixel (centred) -> where it samples; grid_sample's align_corners=True maps
    # -1 and 1 to the border pixel centres, about which 'reflection' folds, as jaxgan's
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys, xs = torch.meshgrid(torch.arange(h) - cy, torch.arange(w) - cx, indexing="ij")
    src = torch.einsum("nij,jhw->nhwi", g[:, :2], torch.stack([xs, ys, torch.ones_like(xs)]))
    grid = src / torch.tensor([max(cx, 1e-8), max(cy, 1e-8)])
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)

    c = torch.eye(4).expand(n, 4, 4)
    vv = torch.outer(_LUMA, _LUMA)
    use, _, r = draws()
    bright = torch.eye(4).repeat(n, 1, 1)
    bright[:, :3, 3] = torch.where(use[:, 0], r[:, 0] * 0.2, 0.0)[:, None]
    c = bright @ c
    use, _, r = draws()
    s = torch.where(use[:, 0], torch.exp2(r[:, 0] * 0.5), 1.0)
    c = torch.diag_embed(torch.stack([s, s, s, one], -1)) @ c
    use, u, _ = draws()
    flip = torch.where(use[:, 0], torch.floor(u[:, 0] * 2), 0.0)
    c = (torch.eye(4) - 2 * vv * flip[:, None, None]) @ c
    use, u, _ = draws()
    theta = torch.where(use[:, 0], (u[:, 0] * 2 - 1) * math.pi, 0.0)[:, None, None]
    v = _LUMA[:3]
    cross = torch.tensor([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    rot = torch.cos(theta) * torch.eye(3) + torch.sin(theta) * cross + \
        (1 - torch.cos(theta)) * torch.outer(v, v)
    hue = torch.eye(4).repeat(n, 1, 1)
    hue[:, :3, :3] = rot
    c = hue @ c
    use, _, r = draws()
    s = torch.where(use[:, 0], torch.exp2(r[:, 0]), 1.0)[:, None, None]
    c = (vv + (torch.eye(4) - vv) * s) @ c
    if ch == 3:
        x = torch.einsum("nij,njhw->nihw", c[:, :3, :3], x) + c[:, :3, 3, None, None]
    else:  # luma only, as the reference for one channel
        m = c[:, :3].mean(1)
        x = x * m[:, :3].sum(1)[:, None, None, None] + m[:, 3, None, None, None]
    return x.clamp(-1.0, 1.0)


class StyleGAN2Peer:
    """jaxgan's StyleGAN2-ADA iteration (module docstring) on fixed real batches."""

    def __init__(self, resolution: int = 8, channels: int = 1, g_width: int = 32,
                 d_width: int = 32, num_classes: int = 0, latent_dim: int = 32,
                 w_dim: int = 32, mapping_layers: int = 4, mapping_lr: float = 0.01,
                 mixing: float = 0.9, mbstd_group: int = 4, batch: int = 32,
                 n_critic: int = 1, g_lr: float = 2e-3, d_lr: float = 2e-3,
                 g_betas: tuple[float, float] = (0.0, 0.99),
                 d_betas: tuple[float, float] = (0.0, 0.99), eps: float = 1e-8,
                 r1_gamma: float = 0.01, r1_every: int = 16, pl_weight: float = 2.0,
                 pl_every: int = 4, pl_shrink: int = 2, ada: bool = True, ada_p: float = 0.0,
                 ada_target: float = 0.6, ada_kimg: float = 100.0, ada_interval: int = 4,
                 ema_decay: float = 0.999, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.G = Generator(resolution, channels, g_width, latent_dim, w_dim, mapping_layers,
                           mapping_lr, num_classes, mixing)
        self.D = Discriminator(resolution, channels, d_width, num_classes, mbstd_group)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=g_lr, betas=g_betas, eps=eps)
        self.optD = torch.optim.Adam(self.D.parameters(), lr=d_lr, betas=d_betas, eps=eps)
        self.ema = [p.detach().clone() for p in self.G.parameters()]
        self.batch, self.n_critic, self.latent, self.k = batch, n_critic, latent_dim, \
            num_classes
        self.r1_gamma, self.r1_every = r1_gamma, r1_every
        self.pl_weight, self.pl_every, self.pl_shrink = pl_weight, pl_every, pl_shrink
        self.pl_mean = torch.zeros(())
        self.ada, self.p, self.ada_target = ada, ada_p, ada_target
        self.ada_kimg, self.ada_interval, self.signs, self.count = ada_kimg, ada_interval, 0.0, 0
        self.ema_decay, self.t = ema_decay, 0
        self.real = torch.rand(n_critic, batch, channels, resolution, resolution) * 2 - 1
        self.y_real = torch.randint(0, max(num_classes, 1), (n_critic, batch))

    def _aug(self, x: torch.Tensor) -> torch.Tensor:
        return ada_augment(x, self.p) if self.ada else x

    def _labels(self) -> torch.Tensor | None:
        return torch.randint(0, self.k, (self.batch,)) if self.k else None

    def _path_length(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        ws = self.G.styles(z, y)
        img = self.G.synthesize(ws)
        noise = torch.randn_like(img) / math.sqrt(img.shape[2] * img.shape[3])
        (grads,) = torch.autograd.grad((img * noise).sum(), ws, create_graph=True)
        lengths = grads.square().sum(2).mean(1).sqrt()
        new = self.pl_mean + (lengths.mean() - self.pl_mean) * PL_DECAY
        self.pl_mean = new.detach()
        return (lengths - new).square().mean() * self.pl_weight

    def step(self) -> float:
        fake = z = y = None
        for i in range(self.n_critic):
            z, y = torch.randn(self.batch, self.latent), self._labels()
            if i == self.n_critic - 1:
                fake = self.G(z, y)
            else:
                with torch.no_grad():
                    fake = self.G(z, y)
            real = self._aug(self.real[i])
            lazy_r1 = self.r1_gamma > 0 and (self.t * self.n_critic + i) % self.r1_every == 0
            if lazy_r1:  # a non-leaf: torch's flop counter refuses autograd.grad of a leaf
                real = real.detach().requires_grad_(True) * 1.0
            y_real = self.y_real[i] if self.k else None
            real_logits = self.D(real, y_real)
            fake_logits = self.D(self._aug(fake.detach()), y)
            d_loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
            if lazy_r1:
                (g,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
                d_loss = d_loss + 0.5 * self.r1_gamma * g.square().sum((1, 2, 3)).mean() * \
                    self.r1_every
            self.optD.zero_grad(set_to_none=True)
            d_loss.backward()
            self.optD.step()
            self.signs += float(torch.sign(real_logits.detach()).mean())
            self.count += 1
        for p in self.D.parameters():
            p.requires_grad_(False)
        self.optG.zero_grad(set_to_none=True)
        g_loss = F.softplus(-self.D(self._aug(fake), y)).mean()
        g_loss.backward()
        for p in self.D.parameters():
            p.requires_grad_(True)
        if self.pl_weight > 0 and self.t % self.pl_every == 0:
            s = self.pl_shrink
            (self._path_length(z[::s], None if y is None else y[::s]) * self.pl_every
             ).backward()
        self.optG.step()
        if self.ada and self.ada_target > 0 and (self.t + 1) % self.ada_interval == 0:
            rt = self.signs / max(self.count, 1)
            step = self.batch * self.n_critic * self.ada_interval / (self.ada_kimg * 1000)
            self.p = min(max(self.p + math.copysign(step, rt - self.ada_target)
                             if rt != self.ada_target else self.p, 0.0), 1.0)
            self.signs, self.count = 0.0, 0
        ema_update_(self.ema, self.G, self.t, self.ema_decay)
        self.t += 1
        return float(g_loss.detach())


def peer_kwargs(cfg) -> dict:
    """`StyleGAN2Peer`'s arguments from a jaxgan config (its fields only, no jaxgan code)."""
    m, o, t, tr = cfg.model, cfg.optim, cfg.train, cfg.tricks
    if o.g.eps != o.d.eps:
        raise ValueError("the peer takes one Adam eps for G and D")
    if tr.ada not in ("", "bgc"):
        raise ValueError(f"the peer's ADA is the bgc pipeline, got tricks.ada={tr.ada!r}")
    return dict(resolution=cfg.data.resolution, channels=cfg.data.channels,
                g_width=m.g_width, d_width=m.d_width, num_classes=m.num_classes,
                latent_dim=m.latent_dim, w_dim=m.stylegan.w_dim,
                mapping_layers=m.stylegan.mapping_layers, mapping_lr=m.stylegan.mapping_lr,
                mixing=m.stylegan.mixing, mbstd_group=m.stylegan.mbstd_group,
                batch=t.batch_size, n_critic=t.n_critic, g_lr=o.g.lr, d_lr=o.d.lr,
                g_betas=(o.g.b1, o.g.b2), d_betas=(o.d.b1, o.d.b2), eps=o.g.eps,
                r1_gamma=tr.r1_gamma, r1_every=tr.r1_every, pl_weight=m.stylegan.pl_weight,
                pl_every=m.stylegan.pl_every, pl_shrink=m.stylegan.pl_batch_shrink,
                ada=bool(tr.ada), ada_p=tr.ada_p, ada_target=tr.ada_target,
                ada_kimg=tr.ada_kimg, ada_interval=tr.ada_interval, ema_decay=t.ema_decay)
