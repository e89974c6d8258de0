"""Hourly crypto prices and whale transfers -> causal features -> LSTM, as a DVC pipeline."""

import os

# NumPy advises Linux to back every array of 4 MB or more with transparent huge pages. A stage is a short process
# that touches each large array once; where the kernel compacts memory to find huge pages on such advice (THP
# defrag "madvise", the kernel's default), a first touch can stall. `dvc repro featurize` on 2 million whale
# transfers spent 0.4 s (7%) more, most of it in the kernel, with the advice on. NumPy reads this at import,
# hence here, before any module imports it; a value already set wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
