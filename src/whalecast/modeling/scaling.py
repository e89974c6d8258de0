"""Feature scaling fit on training rows only, stored as plain JSON (no pickle) beside the model.

Whale amounts and counts are heavy-tailed (a single transfer can be 1000x the median), so columns
matching `signed_log_columns` first go through sign(x) * log1p(|x|); then every column is standardised
with the training mean and standard deviation.
"""

import fnmatch
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from whalecast import storage
from whalecast.settings import section

log = logging.getLogger(__name__)


@section("scaling")
class ScalingSettings:
    """params.yaml scaling."""

    signed_log_columns: list

    def __post_init__(self):
        if not all(isinstance(pattern, str) for pattern in self.signed_log_columns):
            raise ValueError(f"signed_log_columns must be a list of column-name patterns, got {self.signed_log_columns!r}")


@dataclass(frozen=True)
class Scaler:
    columns: list[str]
    signed_log: list[bool]
    mean: list[float]
    std: list[float]

    @classmethod
    def fit(cls, frame, columns: list[str], settings: ScalingSettings, warn_constant: bool = True) -> "Scaler":
        """Statistics of `frame` (the training rows); warn_constant: say which columns are constant there."""
        signed_log = [any(fnmatch.fnmatchcase(name, pattern) for pattern in settings.signed_log_columns)
                      for name in columns]
        values = _signed_log(frame[columns].to_numpy(np.float64), np.array(signed_log))
        mean, std = values.mean(axis=0), values.std(axis=0)
        constant = [f"{name} ({frame[name].iloc[0]:g})" for name, spread in zip(columns, std) if spread == 0]
        if constant and warn_constant:
            log.warning("%d %s constant over the training part (no information for the models; a spec that matches "
                        "no data?): %s", len(constant), "feature" if len(constant) == 1 else "features", ", ".join(constant))
        std = np.where(std == 0, 1.0, std)  # a constant column carries no information; keep it finite
        return cls(list(columns), signed_log, mean.tolist(), std.tolist())

    def transform(self, frame) -> np.ndarray:
        values = _signed_log(frame[self.columns].to_numpy(np.float64), np.array(self.signed_log))
        return ((values - np.array(self.mean)) / np.array(self.std)).astype(np.float32)

    def save(self, path: Path) -> None:
        """One entry per column, in the model's input order: {name: {signed_log, mean, std}}."""
        entries = {name: {"signed_log": flag, "mean": mean, "std": std}
                   for name, flag, mean, std in zip(self.columns, self.signed_log, self.mean, self.std)}
        storage.write_text(json.dumps(entries, indent=1) + "\n", path)

    @classmethod
    def load(cls, path: Path) -> "Scaler":
        """The scaler as saved, e.g. to scale live features the way the model was trained."""
        entries = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(list(entries), *([entry[key] for entry in entries.values()] for key in ("signed_log", "mean", "std")))


def _signed_log(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    values = values.copy()
    values[:, mask] = np.sign(values[:, mask]) * np.log1p(np.abs(values[:, mask]))
    return values
