"""Suite-wide settings, applied before any test module imports JAX.

The persistent XLA compilation cache: many tests compile the very same programs (the
dcgan_digits step in-process and again in `jaxgan` subprocesses, the autopilot's run and
its resumed twin, the zoo presets), and on 2 CPU cores compiling is most of their time.
Executables are keyed by their HLO, compile options and JAX version, so a changed program
never meets a stale entry; a cached executable is the same code, so bit-exactness tests are
unaffected. Subprocesses inherit the environment and share the cache.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "jaxgan-test-xla-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
