"""The PyTorch peers of jaxgan's benchmark workloads, written the way their users write them.

* `DCGANPeer`: pytorch/examples `dcgan/main.py` at 64x64 (nz 100, ngf = ndf = 64, batch
  64, Adam 2e-4, beta1 0.5, BCE), the same modules, init and one iteration: D on a real
  batch, D on `fake.detach()`, D step; G through D with real labels, G step. Eager mode.
* `ToyPeer`: the toy MLP GAN of `jaxgan/configs/toy_ring.py` (G: 256 -> 128 -> 128 -> 2,
  D: 2 -> 128 -> 128 -> 1, ReLU, Adam 1e-3 beta1 0.5, non-saturating loss), real samples
  drawn each step from the 8-Gaussian ring, as jaxgan draws them on device.

* `family_peer`: the peer of a model family written for the benchmark in its own module
  (`torch_biggan.BigGANPeer`, `torch_stylegan2.StyleGAN2Peer`), built from a jaxgan config.

Benchmark-only: torch is never imported by the jaxgan package.
"""

from __future__ import annotations

import importlib
import math

import torch
from torch import nn

# model.generator -> (module, class) of the peer written for that family
FAMILY_PEERS = {"biggan": ("torch_biggan", "BigGANPeer"),
                "stylegan2": ("torch_stylegan2", "StyleGAN2Peer")}


def ema_update_(ema: list, module: nn.Module, t: int, decay: float,
                start: int = 0) -> None:
    """jaxgan's EMA of G in place: decay warmed up as min(decay, (1 + t) / (10 + t)), and
    0 (a copy of G) before step `start`; shared by the family peers so they agree."""
    d = 0.0 if t < start else min(decay, (1.0 + t) / (10.0 + t))
    with torch.no_grad():
        torch._foreach_lerp_(ema, [p.detach() for p in module.parameters()], 1.0 - d)


def family_peer(cfg, **overrides):
    """The PyTorch peer of `cfg`'s model family, from its module's ``peer_kwargs(cfg)``."""
    module, cls = FAMILY_PEERS[cfg.model.generator]
    mod = importlib.import_module(module)
    return getattr(mod, cls)(**{**mod.peer_kwargs(cfg), **overrides})


def _weights_init(m: nn.Module) -> None:  # verbatim from examples/dcgan/main.py
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class Discriminator(nn.Module):
    def __init__(self, ndf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1, 1).squeeze(1)


def dcgan_pair(resolution: int, nz: int, ngf: int, ndf: int, nc: int = 1
               ) -> tuple[nn.Module, nn.Module]:
    """examples/dcgan's generator and discriminator for any power-of-two resolution >= 8:
    the same layer pattern as at 64x64 (which this reproduces), with one up/down block per
    doubling, widths doubling as resolution halves, and the example's N(0, 0.02) init."""
    n = int(math.log2(resolution)) - 2
    g: list[nn.Module] = [nn.ConvTranspose2d(nz, ngf * 2 ** (n - 1), 4, 1, 0, bias=False),
                          nn.BatchNorm2d(ngf * 2 ** (n - 1)), nn.ReLU(True)]
    for i in range(n - 1, 0, -1):
        g += [nn.ConvTranspose2d(ngf * 2 ** i, ngf * 2 ** (i - 1), 4, 2, 1, bias=False),
              nn.BatchNorm2d(ngf * 2 ** (i - 1)), nn.ReLU(True)]
    g += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]
    d: list[nn.Module] = [nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                          nn.LeakyReLU(0.2, inplace=True)]
    for i in range(1, n):
        d += [nn.Conv2d(ndf * 2 ** (i - 1), ndf * 2 ** i, 4, 2, 1, bias=False),
              nn.BatchNorm2d(ndf * 2 ** i), nn.LeakyReLU(0.2, inplace=True)]
    d += [nn.Conv2d(ndf * 2 ** (n - 1), 1, 4, 1, 0, bias=False), nn.Sigmoid()]

    class D(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.main = nn.Sequential(*d)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.main(x).view(-1, 1).squeeze(1)

    net_g, net_d = nn.Sequential(*g), D()
    net_g.apply(_weights_init)
    net_d.apply(_weights_init)
    return net_g, net_d


class DCGANPeer:
    """examples/dcgan/main.py's training iteration on one fixed real batch."""

    def __init__(self, batch: int = 64, image_size: int = 64, nz: int = 100, seed: int = 0):
        torch.manual_seed(seed)
        self.nz, self.batch = nz, batch
        self.netG, self.netD = Generator(nz), Discriminator()
        self.netG.apply(_weights_init)
        self.netD.apply(_weights_init)
        self.criterion = nn.BCELoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = torch.rand(batch, 3, image_size, image_size) * 2 - 1

    def step(self) -> float:
        real_label, fake_label = 1.0, 0.0
        self.netD.zero_grad()
        label = torch.full((self.batch,), real_label, dtype=self.real.dtype)
        errD_real = self.criterion(self.netD(self.real), label)
        errD_real.backward()
        noise = torch.randn(self.batch, self.nz, 1, 1)
        fake = self.netG(noise)
        label.fill_(fake_label)
        errD_fake = self.criterion(self.netD(fake.detach()), label)
        errD_fake.backward()
        self.optD.step()
        self.netG.zero_grad()
        label.fill_(real_label)
        errG = self.criterion(self.netD(fake), label)
        errG.backward()
        self.optG.step()
        return float(errG.item())


class ToyPeer:
    """The toy_ring MLP GAN, non-saturating loss, one D step then one G step per iteration."""

    def __init__(self, batch: int = 64, latent: int = 256, hidden: int = 128, seed: int = 0,
                 device: str = "cpu"):
        torch.manual_seed(seed)
        self.batch, self.latent, self.device = batch, latent, torch.device(device)
        self.G = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                               nn.ReLU(), nn.Linear(hidden, 2)).to(self.device)
        self.D = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                               nn.ReLU(), nn.Linear(hidden, 1)).to(self.device)
        self.optG = torch.optim.Adam(self.G.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(self.D.parameters(), lr=1e-3, betas=(0.5, 0.999))
        ang = torch.arange(8) * (2 * math.pi / 8)
        self.centers = 2.0 * torch.stack([torch.cos(ang), torch.sin(ang)], 1).to(self.device)
        self.bce = nn.BCEWithLogitsLoss()
        self.ones = torch.ones(batch, 1, device=self.device)
        self.zeros = torch.zeros(batch, 1, device=self.device)

    def step(self) -> None:
        dev = self.device
        real = self.centers[torch.randint(0, 8, (self.batch,), device=dev)] + \
            0.02 * torch.randn(self.batch, 2, device=dev)
        fake = self.G(torch.randn(self.batch, self.latent, device=dev))
        self.optD.zero_grad()
        d_loss = self.bce(self.D(real), self.ones) + self.bce(self.D(fake.detach()), self.zeros)
        d_loss.backward()
        self.optD.step()
        self.optG.zero_grad()
        g_loss = self.bce(self.D(fake), self.ones)  # non-saturating
        g_loss.backward()
        self.optG.step()


class DCGANDevicePeer:
    """`DCGANPeer`'s iteration for any resolution and width on any device, float32 or
    bfloat16, eager or `torch.compile`: the peer of `jaxgan bench` on an accelerator.

    D ends in a logit and the loss is `BCEWithLogitsLoss` (the example's Sigmoid + BCELoss,
    fused): autocast refuses BCELoss in bfloat16, and jaxgan's loss also takes logits.
    bfloat16 is `torch.autocast` (weights and optimizer in float32, convolutions in bf16),
    the mixed precision PyTorch users write; jaxgan's ``train.precision=bf16`` is the same
    split. `compile` wraps G and D in `torch.compile` (default mode); the optimizer steps
    stay eager, as in most compiled training loops.
    """

    def __init__(self, batch: int = 64, image_size: int = 64, nz: int = 100, ngf: int = 64,
                 ndf: int = 64, device: str = "cpu", precision: str = "float32",
                 compile: bool = False, seed: int = 0, compile_backend: str = "inductor"
                 ) -> None:
        torch.manual_seed(seed)
        self.nz, self.batch, self.device = nz, batch, torch.device(device)
        net_g, net_d = dcgan_pair(image_size, nz, ngf, ndf, nc=3)
        net_d.main = nn.Sequential(*list(net_d.main)[:-1])  # logits: drop the Sigmoid
        self.netG, self.netD = net_g.to(self.device), net_d.to(self.device)
        wrap = (lambda m: torch.compile(m, backend=compile_backend)) if compile else \
            (lambda m: m)
        self.fwdG, self.fwdD = wrap(self.netG), wrap(self.netD)
        self.dtype = torch.bfloat16 if precision == "bf16" else None
        self.criterion = nn.BCEWithLogitsLoss()
        self.optD = torch.optim.Adam(self.netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optG = torch.optim.Adam(self.netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.real = torch.rand(batch, 3, image_size, image_size, device=self.device) * 2 - 1
        self.ones = torch.ones(batch, device=self.device)
        self.zeros = torch.zeros(batch, device=self.device)

    def _autocast(self) -> torch.autocast:
        return torch.autocast(self.device.type, dtype=self.dtype,
                              enabled=self.dtype is not None)

    def step(self) -> torch.Tensor:
        """One iteration (D on real and fake, D step, G step); returns G's loss, unsynced."""
        self.optD.zero_grad(set_to_none=True)
        with self._autocast():
            errD_real = self.criterion(self.fwdD(self.real).float(), self.ones)
            fake = self.fwdG(torch.randn(self.batch, self.nz, 1, 1, device=self.device))
            errD_fake = self.criterion(self.fwdD(fake.detach()).float(), self.zeros)
        (errD_real + errD_fake).backward()
        self.optD.step()
        self.optG.zero_grad(set_to_none=True)
        with self._autocast():
            errG = self.criterion(self.fwdD(fake).float(), self.ones)
        errG.backward()
        self.optG.step()
        return errG.detach()

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def flops_per_step(self) -> float:
        """FLOPs of one iteration by `torch.utils.flop_counter` (convolutions and matmuls,
        forward and backward), counted on the eager modules."""
        from torch.utils.flop_counter import FlopCounterMode

        fwdG, fwdD = self.fwdG, self.fwdD
        self.fwdG, self.fwdD = self.netG, self.netD
        try:
            with FlopCounterMode(display=False) as counter:
                self.step()
        finally:
            self.fwdG, self.fwdD = fwdG, fwdD
        return float(counter.get_total_flops())
