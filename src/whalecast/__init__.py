"""Hourly crypto prices and whale transfers -> causal features -> LSTM, as a DVC pipeline."""

import os
import platform

# NumPy advises Linux to back every array of 4 MB or more with transparent huge pages. A stage is a short process
# that touches each large array once; where the kernel compacts memory to find huge pages on such advice (THP
# defrag "madvise", the kernel's default), a first touch can stall. `dvc repro featurize` on 2 million whale
# transfers spent 0.4 s (7%) more, most of it in the kernel, with the advice on. NumPy reads this at import,
# hence here, before any module imports it; a value already set wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

# NumPy picks its kernels by the CPU, once, at import. With AVX-512, its exp, log, power and others run NumPy's own
# AVX-512 code, which rounds differently from the C library's functions that an AVX2 machine calls: a fresh clone
# on an AVX-512 machine made other sample prices, hence new results from ingest on. With NumPy's dispatch targets
# above x86-64-v3 (AVX2, FMA3) off, every x86-64 machine with AVX2 runs NumPy's math alike, for little: that math
# is about 15 ms of the data path's 2 s. NumPy skips a target the CPU lacks, and would warn of these names on
# another architecture, hence x86-64 only. A value already set wins (an empty one keeps every kernel); with
# NPY_ENABLE_CPU_FEATURES set none is added, as NumPy refuses to import with both.
if platform.machine() in ("x86_64", "AMD64") and not os.environ.get("NPY_ENABLE_CPU_FEATURES"):
    os.environ.setdefault("NPY_DISABLE_CPU_FEATURES", "X86_V4 AVX512_ICL AVX512_SPR")

# TensorFlow reads these once, when it loads, which any module may cause (keras, dvclive). oneDNN picks kernels by
# CPU model, so its float rounding changes from one machine type to the next; turned off, a clone on another machine
# type is more likely to get the same weights. The second keeps TensorFlow's start-up notes out of the stage logs.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
