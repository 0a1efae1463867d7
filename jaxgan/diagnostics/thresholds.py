"""The detectors' default thresholds and the loss profiles, each with the reason for it.

Kept apart from the rules in `jaxgan.diagnostics.detectors` so that the numbers a user may
want to question (and the README's threshold table) sit in one place. The values were
chosen from practitioners' rules of thumb and checked on jaxgan's failure zoo.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LossProfile:
    """What a loss's numbers mean, so probability rules run only where they are meaningful."""

    name: str
    probabilistic: bool = False  # sigmoid(D) is a probability (minimax, non-saturating)
    accuracy_meaningful: bool = False  # the sign of D's output is its real/fake decision
    saturating: bool = False  # G's gradient shrinks with D(G(z)) (minimax)
    d_loss_floor: float | None = None
    g_loss_high: float | None = None


# --- how "sustained" is decided -------------------------------------------------------------
# A failure is a trend, not a bad log interval: 7 of 10 records, the latest among them, means
# it has persisted for most of the window and is still going; once raised, the verdict stays
# until fewer than half the window shows it, so noise near a threshold cannot make it flicker.
FIRE_FRAC = 0.7
HOLD_FRAC = 0.5
MIN_EVIDENCE_RECORDS = 3  # never judge a trend from fewer post-warm-up records than this

# --- diverged ----------------------------------------------------------------------------------
# A NaN/Inf anywhere is terminal for plain SGD-style training: reported on the very record.
# Gradient norms jumping two orders of magnitude above their early median precede NaNs in
# practice (the "loss spike" of large-model training); one spike can be a bad batch, so two
# consecutive records are needed.
EXPLODE_FACTOR = 100.0
EXPLODE_RECORDS = 2
# ...and exploding means sudden: also EXPLODE_JUMP x the median of the window's earlier
# records. Healthy GANs' gradient norms drift up 10-30x over a run as D sharpens (toy_ring,
# non-saturating: G's from 0.2 to 7 in 3k steps), and that drift is not divergence.
EXPLODE_JUMP = 10.0
# ...or a runaway: a gradient norm (for Wasserstein also |d_loss|, the critic's estimate)
# growing geometrically, RUNAWAY_GROWTH x over the last RUNAWAY_RECORDS records, rising in
# every interval (a healthy dcgan_digits G's norm is spiky: 21 -> 46 -> 149 -> 303 -> 409,
# with falls between), and RUNAWAY_FACTOR x its early median: an unconstrained
# critic or an unstable optimizer on its way to Inf (toy_ring with the plain Wasserstein
# loss: G's gradient norm 2e3 -> 3e4 -> 1e5 in 600 steps, finite for 1,000 steps more).
# The healthy drift above is ~1.1x per record; this is >= 1.52x per record for 6 records (a
# collapsing toy_ring run's G gradient surged 7x in 5 records, 8 -> 62, then fell back).
RUNAWAY_RECORDS = 6
RUNAWAY_GROWTH = 8.0
RUNAWAY_FACTOR = 30.0
# Absolute sanity bounds beside the relative rules, which compare with the run's warm-up and
# are blind when the warm-up itself exploded (toy_ring, plain SGD at a huge learning rate:
# losses 6e5 -> 4e17 and gradient norms 1e3 -> 1e9 within the first log interval, non-finite
# only later). A batch-mean loss term of 1e5 means logits of ~1e5 for the sigmoid and hinge
# losses; the largest gradient norms of healthy jaxgan runs are ~4e2 (dcgan_digits' G late
# in its run) and ~7 (toy_ring). Fired on the very record, even during warm-up. For
# Wasserstein only d_loss (fake - real: the critic's arbitrary offset cancels) is bounded.
LOSS_ABS_MAX = 1e5
GRAD_ABS_MAX = 1e6
LOSS_KEYS = ("d_loss", "g_loss", "d_loss_real", "d_loss_fake")
GRAD_KEYS = ("g_grad_norm", "d_grad_norm")

# --- convergence failure (the discriminator wins outright) ------------------------------------
# Stable GANs keep D at ~70-80 % accuracy; >= 95 % on both real and fake means D separates
# the two almost perfectly and G has lost the game.
D_WIN_ACC = 0.95
# `d_loss` is the SUM of the real and fake terms (batch means). For the sigmoid losses a
# balanced game sits near 2 ln 2 = 1.39 and a stable one at ~1.0-1.4; 0.15 means each term is
# ~0.07, i.e. D(x) > 0.93 and D(G(z)) < 0.07. Hinge: 0 once every margin is met (healthy
# ~1-2). Least squares (jaxgan's 0-1-1 coding with the 1/2 factor, balanced ~0.25): 0.05 puts
# both outputs within ~0.16 of their targets. With the terms logged, the rule reads
# d_loss_real + d_loss_fake (any gradient penalty excluded); for the sigmoid losses the fake
# term alone (the real side is judged by accuracy, because one-sided label smoothing keeps
# the real BCE term above H(0.9) = 0.33).
D_LOSS_FLOOR = {"non_saturating": 0.15, "minimax": 0.15, "hinge": 0.1, "least_squares": 0.05}
# G loss "climbing": over the records where D dominates, its mean is above its early median by
# half its scale, or above a level no healthy run stays at: -log D(G(z)) > 3 means
# D(G(z)) < 0.05 (healthy G loss is ~1-2); for minimax, log(1 - D(G(z))) > -0.05 means the
# same; least squares 0.5 (D(G(z)) - 1)^2 > 0.4 means D(G(z)) < 0.1 (balanced: 0.125). For the
# sigmoid losses a mean D(G(z)) <= D_CONFIDENT_PROB counts too: the same level, read without
# the log that lets a few rejected samples dominate the mean.
G_CLIMB_MARGIN = 0.5
G_LOSS_HIGH = {"non_saturating": 3.0, "minimax": -0.05, "least_squares": 0.4}
# ...or, over time (measured: a dcgan_digits run with D ahead in every record, accuracies
# 0.90-1.00, d_loss down to 0.001 and g_loss 3-9, missed the single-record cut-offs above by
# hairs; a healthy dcgan_digits run sits at D accuracy 0.8-1.0 too, but its G loss stays at
# 1.3-3.1 around a 10-record median of 1.6-2.5 and its mean D(G(z)) at 0.07-0.4, median
# 0.13-0.25): D ahead (both accuracies >= D_AHEAD_ACC, sustained) while G is losing over the
# window: the median G loss of the whole window and of its latest half above G_LOSS_HIGH, or
# the median D(G(z)) of both at most D_CONFIDENT_PROB (D rejects essentially every fake and
# keeps doing so). Medians, not single records, so one bad or good interval decides nothing.
# 0.85 rather than 0.9 since the failure benchmark (benchmarks/health_zoo.py, half A): a
# toy_ring run with G 10x faster than D sat at accuracies 0.86-0.93 with G's loss 2.7-4.7
# (early 0.76) and ended at 3/8 modes, 1 % high quality; G's loss is what separates it.
D_AHEAD_ACC = 0.85
# ...or G has learned nothing recognizable while D is ahead: jaxgan's live classifier
# (labelled image data, `health.class_signal`) is sure (p >= 0.9) of at most
# NOTHING_CONFIDENT of G's samples in at least NOTHING_MIN_RECORDS records of the window,
# the latest among them. Measured on the failure benchmark (benchmarks/health_zoo.py, whose
# half B and the autopilot's rescue runs showed it; half A is the held-out check): healthy
# digits and MNIST controls show it in at most 4 consecutive records (their first, before G
# draws digits); a minimax MNIST run with D 10x faster than G in 18 of 20 (D(G(z)) sliding
# 0.5 -> 0.04 over 1,000 steps, never reaching the saturation level below), a D 4x faster
# than a G at lr 1e-5 in all 30. A level of G's loss cannot tell these apart from health.
NOTHING_CONFIDENT = 0.02
NOTHING_MIN_RECORDS = 8
# ...unless G's samples look like the data over the window: the raw G's pixel spread within
# LOOKS_REAL_SPREAD of the real images' (window median), the batch not mostly near-duplicates
# in D's features (median excess over the real batch's at most DUP_FRAC_MAX: pixels can be
# spread while D sees one image, the digits latent-1 runs) and, where the live classifier
# runs, more than LOOKS_REAL_CONFIDENT of the samples recognized (median). A strong D is not
# a failed G: the shipped dcgan_mnist (widths 64, 32x32) holds D at 0.89-1.0 accuracy and G's
# loss at 3-5 from step ~2,600 on (and above 3 at steps 600-700) while an independent judge
# scores its EMA samples at real-data FD with all 10 classes (five seeds,
# benchmarks/traces/dcgan_mnist_5000; pixel spread 0.8-1.0 in those windows). Set from those
# traces and half A of the failure benchmark, reported on half B (benchmarks/RESULTS.md,
# session 19): wherever the rule fired on a failing image run, G drew 0.001-0.4 of the real
# spread. The classifier's level only separates "nothing recognized" (the D-dominated runs
# that drew no digit: 0-0.07 of their samples) from a G that has begun (dcgan_mnist: 0.15 at
# step 200, 0.55 by step 1,100; 0.63-0.65 of its EMA samples at step 5,000; real digits
# 0.94). The upper spread bound keeps noise out: independent pixels are farther apart than
# digits, which are mostly background.
LOOKS_REAL_SPREAD = (0.7, 1.3)
LOOKS_REAL_CONFIDENT = 0.1
# Wasserstein has no floor and no meaningful sign: the critic winning shows as its
# Wasserstein estimate -(d_loss) growing steadily, here 3x within one window.
WGAN_W_GROWTH = 3.0

# --- vanishing generator gradient -------------------------------------------------------------
# G's gradient norm down to a tenth of its early median while D is confident (mean
# D(G(z)) <= 0.05, or >= 95 % fake accuracy where probabilities mean nothing).
VANISH_FRAC = 0.1
D_CONFIDENT_PROB = 0.05
# Minimax: G's gradient is proportional to D(G(z)) (Goodfellow et al. 2014's saturation), so
# D(G(z)) <= 0.05 IS the VANISH_FRAC collapse, 10x below a balanced game (D = 0.5), whatever
# the norm says: on toy_ring a strong D held D(G(z)) at 0.02-0.05 while D's sharpening kept
# G's gradient norm up. The remedy is the non-saturating loss, hence this verdict.
SATURATED_PROB = 0.05
# Where D's confidence cannot be read (wasserstein, unknown losses) only a 100x collapse counts.
VANISH_FRAC_UNCONFIRMED = 0.01
# A G gradient norm at float32's noise floor is a dead generator (every ReLU dead or the output
# saturated), whatever D says: seen on toy_ring after Adam at lr 1 blew G's weights up.
G_DEAD_NORM = 1e-8

# --- mode collapse -----------------------------------------------------------------------------
# Generated batch less than half as spread as the real batch in D's feature space, or > 30 % of
# generated samples with a near-duplicate in the batch beyond what the real batch has, or
# (2-D toys) fewer than half the modes captured. Measured on jaxgan runs: healthy toy_ring and
# dcgan_digits sit at 0.8-1.3; a toy_ring G covering 3 of 8 modes at 0.22-0.45; a G stuck in
# one blob at ~0.2.
DIVERSITY_RATIO_MIN = 0.5
DUP_FRAC_MAX = 0.3
MODES_MIN_FRAC = 0.5
# The live toy count (`diagnostics.toy_modes`) is logged at every record, counted
# among the samples near a mode however few they are; the rule reads it once at least 5 % of
# the samples are near a mode (`toy_off_mode` <= 0.95; it used to need 50 %, which hid the
# count the further off-mode G was). Below that G is off the data, not collapsed onto part
# of it: zoo_oscillation's G, flung around the ring by momentum 0.99, has 0-4 % of its
# samples near a mode from step 120 on, at a diversity ratio of 2-7 (in its first 110 steps
# 6-12 %, all near 2-3 modes: counted, and a collapse then); a G collapsed onto a thin curve
# across toy_grid (model.latent_dim=1) keeps 8-39 % of its samples near 3-15 of the 25 modes.
MODES_MAX_OFF = 0.95
# Images: the live class count (same MODES_MIN_FRAC) is judged once >= 20 % of the samples
# are classified with p >= 0.9 (51 of 256: enough for every class to reach its share); below
# that the generator draws nothing recognizable yet, which is not a coverage question.
CLASSES_MIN_CONFIDENT = 0.2
# Images: generated samples less spread in pixel space than this share of the real images'
# spread (`diagnostics.spread`; mean pairwise distance), sustained past the warm-up. Tuned on
# the failure benchmark's half A (session 12): a DCGAN at its initialization draws 0.15-0.22
# of the real spread, and G stuck there is what the batch-8 collapses did for 1,000-1,500
# steps (digits 0.15-0.23, MNIST 0.19-0.23; an independent judge: 1-5 classes, spread
# 0.14-0.37); healthy dcgan_digits / MNIST-recipe runs leave it by their 6th record
# (0.30-0.32 at step 300, 0.44-0.63 at 350-400; dcgan_mnist 0.35 at step 100). 0.1 caught
# 2 of those 6 runs, 0.22-0.3 all 6; 0.25 keeps the most room on both sides.
PIXEL_SPREAD_MIN = 0.25

# --- oscillation -------------------------------------------------------------------------------
# The players trading wins: a D accuracy swinging by >= 0.3 (e.g. 55 % <-> 85 %), or the gap
# g_loss - d_loss swinging by >= 0.8 of the losses' typical size, crossing its median >= 4
# times in the window (two full cycles) and not damping (the second half of the window swings
# at least half as much as the first). Needs 6 records to see two cycles.
OSC_MIN_RECORDS = 6
OSC_ACC_AMPLITUDE = 0.3
OSC_LOSS_REL_AMPLITUDE = 0.8
OSC_MIN_CROSSINGS = 4
OSC_SETTLE_FRAC = 0.5
OSC_BAND_FRAC = 0.25  # a crossing must go from +-1/4 of the required amplitude to the other
OSC_HOLD_FACTOR = 0.7  # an active oscillation verdict holds down to 70 % of the amplitudes

# --- d_overfitting (ADA's signals: ada_p, ada_rt, ada_target) --------------------------------
# ADA raises p while r_t = E[sign D(real)] is above its target. Once p is past 0.8 the
# augmentations of the bgc pipeline begin to leak into the generated images (Karras et al.
# 2020b, Fig. 3: the leak starts near p = 0.8), so p has no useful room left; r_t still
# above the target there means D overfits the training set despite (nearly) full
# augmentation. 0.05 above the target: the heuristic keeps r_t within a few hundredths of
# it, record to record, while it still has room (benchmarks/RESULTS.md, the ADA trace).
ADA_P_PINNED = 0.8
ADA_RT_MARGIN = 0.05
