"""How sure a test-part number is: a moving-block bootstrap over time.

Hourly outcomes are not independent: volatility clusters, and so do a model's errors. Resampling single hours
would understate the spread, so whole blocks of `block_days` x 24 consecutive test hours are drawn with
replacement until a resample is as long as the test part, and the statistic is recomputed on every resample.
The blocks wrap around the end of the test part (Politis and Romano's circular block bootstrap, a moving-block
bootstrap in which every hour is equally likely to be drawn; arch.bootstrap.CircularBlockBootstrap draws them).
A 95% interval is the 2.5th to 97.5th percentile of the resampled values. Resamples are kept as weights (how
often each hour is drawn), so one sort of a model's scores serves every resample, and every model is scored on
the same resamples (paired).
"""

import logging
from collections.abc import Iterator

import numpy as np
from arch.bootstrap import CircularBlockBootstrap

from whalecast import paths
from whalecast.errors import InputError
from whalecast.settings import at_least, section

log = logging.getLogger(__name__)

CONFIDENCE = 0.95
HOURS_PER_DAY = 24


@section("bootstrap")
class BootstrapSettings:
    """params.yaml bootstrap."""

    seed: int
    resamples: int = at_least(1000)  # fewer make the 2.5th and 97.5th percentiles unstable
    block_days: int = at_least(1)


def block_resamples(n_hours: int, settings: BootstrapSettings) -> Iterator[np.ndarray]:
    """Each resample as the positions of the test hours it draws, block after block."""
    block = settings.block_days * HOURS_PER_DAY
    if n_hours < 2 * block:
        raise ValueError(f"the test part has {n_hours} hours, fewer than two bootstrap blocks of {block} hours")
    bootstrap = CircularBlockBootstrap(block, np.arange(n_hours), seed=np.random.default_rng(settings.seed))
    for positional, _ in bootstrap.bootstrap(settings.resamples):
        yield positional[0]


def resample_weights(n_hours: int, settings: BootstrapSettings) -> np.ndarray:
    """(resamples, n_hours): how many times each test hour is drawn in each resample. A test part too short for
    the blocks params.yaml asks for is an error naming them."""
    weights = np.empty((settings.resamples, n_hours), dtype=np.int32)
    try:
        for row, drawn in enumerate(block_resamples(n_hours, settings)):
            weights[row] = np.bincount(drawn, minlength=n_hours)
    except ValueError as error:
        raise InputError(paths.PARAMS, f"bootstrap: {error}") from None
    return weights


def resampled_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC on every resample: the weighted Mann-Whitney statistic, ties counting one half."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    tie_starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    drawn = weights[:, order].astype(np.float64)
    down = labels[order].astype(bool)
    positives = np.add.reduceat(np.where(down, drawn, 0.0), tie_starts, axis=1)   # per distinct score
    negatives = np.add.reduceat(np.where(down, 0.0, drawn), tie_starts, axis=1)
    negatives_below = np.cumsum(negatives, axis=1) - negatives
    ranked_pairs = (positives * (negatives_below + 0.5 * negatives)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return ranked_pairs / (positives.sum(axis=1) * negatives.sum(axis=1))


def interval(resampled: np.ndarray, what: str) -> tuple[float, float]:
    """The central 95% of the resampled values."""
    undefined = int(np.isnan(resampled).sum())
    if undefined:  # e.g. a resample with one class only; astronomically rare on a test part of days
        log.warning("bootstrap: %s is undefined on %d of %d resamples, left out of its interval",
                    what, undefined, len(resampled))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.nanpercentile(resampled, [tail, 100 - tail])
    return float(low), float(high)


def compare(observed: float, resampled: np.ndarray, what: str) -> dict:
    """A difference of two models' statistic, its interval and a two-sided p-value for "no difference", from
    the differences on the same resamples (paired).

    The p-value is that of the bootstrap distribution moved to the null (Hall and Wilson's rule): the share of
    resamples whose difference lies at least as far from the observed one as the observed one lies from 0,
    counting the observed sample itself.
    """
    low, high = interval(resampled, f"{what} difference")
    defined = resampled[~np.isnan(resampled)]
    p_value = (1 + np.sum(np.abs(defined - observed) >= abs(observed))) / (1 + len(defined))
    return {f"{what}_difference": float(observed), f"{what}_difference_ci_low": low,
            f"{what}_difference_ci_high": high, "p_value": float(p_value)}


def resampled_mean_and_std(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (ddof 1) of `values` on every resample."""
    drawn = weights.astype(np.float64)
    count = drawn.sum(axis=1)
    mean = drawn @ values / count
    variance = (drawn @ (values - values.mean()) ** 2 - count * (mean - values.mean()) ** 2) / (count - 1)
    return mean, np.sqrt(np.maximum(variance, 0.0))
