"""A sample market: hourly OHLCV and Whale Alert-shaped transfers, deterministic from a seed.

Stylised facts of real crypto: fat-tailed hourly returns (Student-t innovations), volatility clustering
(GARCH(1,1)), volume that rises with volatility, and whale transfers arriving at second resolution at a
rate that rises with volatility, with Pareto-tailed USD sizes of at least $500k.

The planted whale effect: the return of the bar opening at T drifts by -whale_effect * sigma * z, where z is
the standardised net exchange inflow (signed log-size) of the transfers in the six hours before T. Coins
moved onto exchanges tend to be sold. whale_effect = 0 gives a market in which whales tell nothing.
Only transfers stamped before T move the bar opening at T, so the effect is learnable without lookahead.

News: headline items tagged with the currency (more of them when volatile) and market-wide items (the same for
every currency), each with a sentiment score in -1..1, a headline whose tone matches it, and votes. The planted
news effect: the return of the bar opening at T drifts by +news_effect * sigma * z, z the standardised sum of
the sentiment of the items stamped in the six hours before T. News comes from random streams of its own, so with
news_effect = 0 the prices and whales are those of a market without news.
"""

import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from whalecast.data.raw_files import RawTable
from whalecast.settings import at_least, section


@dataclass(frozen=True)
class Profile:
    start_price: float
    hourly_volatility: float
    hourly_volume: float  # in coins
    blockchain: str


PROFILES = {
    "BTC": Profile(30_000.0, 0.006, 1_500.0, "bitcoin"),
    "ETH": Profile(2_000.0, 0.008, 20_000.0, "ethereum"),
}
EXCHANGES = np.array(["binance", "coinbase", "kraken", "okx", "bitfinex", "bybit"])
# Flow kinds, with their shares of all transfers: (from_owner_type, to_owner_type, share)
FLOW_KINDS = [("unknown", "exchange", 0.25), ("exchange", "unknown", 0.25), ("exchange", "exchange", 0.15),
              ("unknown", "unknown", 0.35)]
MIN_TRANSFER_USD = 500_000.0
SIZE_TAIL_INDEX = 1.3  # Pareto alpha: heavy tail, finite mean, infinite variance
SIGNAL_HOURS = 6
GARCH_ALPHA, GARCH_BETA = 0.08, 0.90
T_DEGREES_OF_FREEDOM = 4


@dataclass
class Market:
    currency: str
    prices: pd.DataFrame  # timestamp (bar open, UTC), open, high, low, close, volume
    whales: pd.DataFrame  # Whale Alert fields, flattened: timestamp, symbol, amount, amount_usd, ...
    news: pd.DataFrame  # news_items.NEWS_COLUMNS: tagged with the currency, or with none (market-wide)

    def raw_tables(self) -> tuple[RawTable, RawTable, RawTable]:
        """Prices, whales and news as ingest takes them from any source."""
        origin = f"synthetic {self.currency} market"
        return RawTable(self.prices, origin), RawTable(self.whales, origin), RawTable(self.news, origin)


def profile_for(currency: str) -> Profile:
    return PROFILES.get(currency.upper(), Profile(100.0, 0.01, 100_000.0, currency.lower()))


@section("data.synthetic")
class MarketSettings:
    """params.yaml data.synthetic."""

    seed: int
    start: str  # first bar's open time, UTC
    hours: int = at_least(1)
    whale_transfers_per_day: float = at_least(0)  # on average; busier when volatile
    whale_effect: float
    news_per_day: float = at_least(0, default=0.0)  # items tagged with the currency, on average; more when volatile
    market_wide_news_per_day: float = at_least(0, default=0.0)  # items tagged with no currency, the same for all
    news_effect: float = 0.0

    def __post_init__(self):
        pd.Timestamp(self.start)  # raises ValueError naming the bad date


def generate_market(currency: str, settings: MarketSettings) -> Market:
    profile = profile_for(currency)
    hours, whale_effect = settings.hours, settings.whale_effect
    rng = np.random.default_rng([settings.seed, zlib.crc32(currency.upper().encode())])
    shocks = rng.standard_t(T_DEGREES_OF_FREEDOM, hours) / np.sqrt(T_DEGREES_OF_FREEDOM / (T_DEGREES_OF_FREEDOM - 2))
    sigma = _garch_volatility(shocks, profile.hourly_volatility)

    # Busier when volatile, scaled so that whale_transfers_per_day is the average rate.
    transfers_per_bar = rng.poisson(settings.whale_transfers_per_day / 24 * sigma / sigma.mean())
    bar = np.repeat(np.arange(hours), transfers_per_bar)
    count = len(bar)
    kind = rng.choice(len(FLOW_KINDS), size=count, p=[share for *_, share in FLOW_KINDS])
    amount_usd = np.round(MIN_TRANSFER_USD * (1 + rng.pareto(SIZE_TAIL_INDEX, count)), 2)

    drift = -whale_effect * sigma * _inflow_signal(bar, kind, amount_usd, hours)
    news_bar, news = _news(currency, settings, sigma)
    if settings.news_effect:
        drift = drift + settings.news_effect * sigma * _standardised_sum_before(news_bar, news["sentiment"], hours)
    log_returns = drift + sigma * shocks
    close = profile.start_price * np.exp(np.cumsum(log_returns))
    open_ = np.concatenate([[profile.start_price], close[:-1]])
    wick_up, wick_down = np.abs(rng.standard_normal((2, hours))) * sigma / 2
    volume = profile.hourly_volume * np.exp(
        0.8 * np.log(sigma / profile.hourly_volatility) + 0.4 * np.abs(shocks) + 0.25 * rng.standard_normal(hours)
    )
    bar_open = pd.Timestamp(settings.start, tz="UTC") + pd.to_timedelta(np.arange(hours), unit="h")
    prices = pd.DataFrame({
        "timestamp": bar_open,
        "open": open_,
        "high": np.maximum(open_, close) * np.exp(wick_up),
        "low": np.minimum(open_, close) * np.exp(-wick_down),
        "close": close,
        "volume": np.round(volume, 4),
    })
    second_in_bar = pd.to_timedelta(rng.integers(0, 3600, count), unit="s")
    whales = _whale_records(rng, currency, profile, bar_open[bar] + second_in_bar, kind, amount_usd, open_[bar])
    news.insert(0, "timestamp", bar_open[news_bar] + news.pop("second_in_bar"))
    return Market(currency, prices, whales, news)


def _garch_volatility(shocks: np.ndarray, long_run_volatility: float) -> np.ndarray:
    """sigma_t from GARCH(1,1) on the unit shocks; sigma_t depends only on shocks before t."""
    omega = long_run_volatility**2 * (1 - GARCH_ALPHA - GARCH_BETA)
    variance = np.empty(len(shocks))
    variance[0] = long_run_volatility**2
    for t in range(1, len(shocks)):  # a recursion: each step needs the one before
        variance[t] = omega + variance[t - 1] * (GARCH_ALPHA * shocks[t - 1] ** 2 + GARCH_BETA)
    return np.sqrt(variance)


def _inflow_signal(bar: np.ndarray, kind: np.ndarray, amount_usd: np.ndarray, hours: int) -> np.ndarray:
    """Standardised net exchange inflow over the SIGNAL_HOURS bars before each bar (0 for an empty market)."""
    direction = np.select([kind == 0, kind == 1], [1.0, -1.0], 0.0)
    return _standardised_sum_before(bar, direction * np.log(amount_usd / MIN_TRANSFER_USD + 1), hours)


def _standardised_sum_before(bar: np.ndarray, values, hours: int) -> np.ndarray:
    """Per bar, the sum of the values of the SIGNAL_HOURS bars before it, standardised (0 for no values)."""
    per_bar = np.bincount(bar, weights=values, minlength=hours)
    before = np.concatenate([np.zeros(SIGNAL_HOURS + 1), np.cumsum(per_bar)])
    signal = before[SIGNAL_HOURS:-1] - before[:-SIGNAL_HOURS - 1]
    spread = signal.std()
    return signal / spread if spread > 0 else signal


POSITIVE_WORDS = ["surges", "rallies", "gains", "climbs", "jumps", "rebounds", "hits record high"]
NEGATIVE_WORDS = ["falls", "slides", "drops", "plunges", "crashes", "sinks", "slumps"]
NEUTRAL_WORDS = ["trades flat", "holds steady", "moves sideways"]


def _news(currency: str, settings: MarketSettings, sigma: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """The bar of each news item and the items (second_in_bar for the timestamp): the currency's, busier when
    volatile, and the market-wide ones, from a stream that does not depend on the currency."""
    own_rng = np.random.default_rng([settings.seed, zlib.crc32(currency.upper().encode()), zlib.crc32(b"news")])
    market_rng = np.random.default_rng([settings.seed, zlib.crc32(b"market-wide news")])
    own_bar, own = _news_items(own_rng, own_rng.poisson(settings.news_per_day / 24 * sigma / sigma.mean()),
                               currency.upper())
    market_bar, market_wide = _news_items(market_rng, market_rng.poisson(settings.market_wide_news_per_day / 24,
                                                                         settings.hours), "")
    return np.concatenate([own_bar, market_bar]), pd.concat([own, market_wide], ignore_index=True)


def _news_items(rng, per_bar: np.ndarray, tag: str) -> tuple[np.ndarray, pd.DataFrame]:
    bar = np.repeat(np.arange(len(per_bar)), per_bar)
    count = len(bar)
    sentiment = np.round(np.tanh(rng.normal(0.0, 0.7, count)), 4)
    tone = np.select([sentiment > 0.2, sentiment < -0.2],
                     [rng.choice(POSITIVE_WORDS, count), rng.choice(NEGATIVE_WORDS, count)],
                     rng.choice(NEUTRAL_WORDS, count))
    return bar, pd.DataFrame({
        "second_in_bar": pd.to_timedelta(rng.integers(0, 3600, count), unit="s"),
        "title": pd.Series(tone, dtype=object).radd(f"{tag or 'Crypto market'} "),
        "currencies": tag,
        "sentiment": sentiment,
        "positive": rng.poisson(1.5 * (1 + sentiment)),
        "negative": rng.poisson(1.5 * (1 - sentiment)),
        "id": [f"{tag.lower() or 'market'}-{index}" for index in range(count)],
        "publisher": "sample",
    })


def _whale_records(rng, currency, profile, timestamp, kind, amount_usd, price) -> pd.DataFrame:
    count = len(kind)
    from_type = np.array([source for source, _, _ in FLOW_KINDS])[kind]
    to_type = np.array([target for _, target, _ in FLOW_KINDS])[kind]
    hashes = np.frombuffer(rng.bytes(32 * count).hex().encode(), dtype="S64").astype(str)
    return pd.DataFrame({
        "timestamp": timestamp,
        "symbol": currency.lower(),  # the API reports lower-case symbols
        "amount": np.round(amount_usd / price, 8),
        "amount_usd": amount_usd,
        "from_owner_type": from_type,
        "to_owner_type": to_type,
        "blockchain": profile.blockchain,
        "hash": hashes,
        "from_owner": np.where(from_type == "exchange", EXCHANGES[rng.integers(0, len(EXCHANGES), count)], None),
        "to_owner": np.where(to_type == "exchange", EXCHANGES[rng.integers(0, len(EXCHANGES), count)], None),
        "transaction_type": "transfer",
    })
