"""Raw data -> the clean tables of one currency: prices on an hourly grid, whale transfers, and the items of
every declared event source. The ingest stage writes them; whalecast-predict computes them in memory, the same way.

data.source: synthetic generates the built-in sample market (offline, seeded); files reads
data/raw/prices/{CUR}.csv or a directory {CUR}/ of price files (layout data.price_format, auto-detected by
default), data/raw/whales/{CUR}.json, .csv or a directory {CUR}/ of API response pages, and the files of each
event source in params.yaml `sources` from data/raw/events/<name>/.

A downloaded price file often ends with the hour that was still open when it was saved, and nothing in
the file tells a partial candle from a quiet hour (volume is no guide: complete hours fall below a third of
the usual volume several percent of the time). So data.partial_candle: auto drops the newest bar of every price
file but Binance's monthly kline dumps, published after the month closed; drop and keep force it for every file.
A dropped hour that a later file holds is read from that file; one that no file holds is missing, as in an outage.
"""

import logging
from dataclasses import dataclass

import pandas as pd

from whalecast import paths, settings
from whalecast.data import event_sources, news_items, price_bars, raw_files, sample_market, whale_transfers
from whalecast.data.delays import ReportDelay, check_time_resolution
from whalecast.errors import InputError
from whalecast.hourly import HOUR

log = logging.getLogger(__name__)


@settings.section("data")
class DataSettings:
    """params.yaml data."""

    source: str = settings.choice("synthetic", "files")
    price_format: str = settings.choice(*price_bars.PRICE_FORMATS)
    max_gap_hours: int = settings.at_least(0)
    partial_candle: str = settings.choice("auto", "drop", "keep")
    bad_rows: str = settings.choice("error", "skip")
    warn_whales_outside_prices: float = settings.share()
    synthetic: dict
    # Settings added later keep a default, so that older params files still read.
    max_filled_share: float = settings.share(default=0.05)  # more missing hours than this share of a file: an error
    max_price_jump: float = settings.above(1, default=2.0)  # adjacent closes further apart than this factor: an error

    @property
    def skip_bad_rows(self) -> bool:
        return self.bad_rows == "skip"


def clean_prices_from_files(currency: str, data: DataSettings):
    table, layouts = price_bars.read_price_files(currency, data.price_format)
    setting = data.partial_candle
    drop_newest = [setting == "drop" or (setting == "auto" and layout != "binance_kline") for layout in layouts]
    return price_bars.clean_prices(table, data.max_gap_hours, skip_bad_rows=data.skip_bad_rows,
                                   max_filled_share=data.max_filled_share, max_price_jump=data.max_price_jump,
                                   drop_newest=drop_newest,
                                   drop_reason=f"it may have been still open when the file was saved "
                                               f"(data.partial_candle: {setting})")


def source_events(currency: str, declared: dict, data: DataSettings, market=None) -> pd.DataFrame:
    """The items of every declared source that concern the currency: from its files, or the sample market's news."""
    if market is not None and len(declared) > 1:
        raise InputError(paths.PARAMS, f"sources: the sample market has one news stream, {len(declared)} sources "
                                       f"are declared ({', '.join(declared)}); declare one or use data.source: files")
    tables = []
    for name, source in declared.items():
        if market is not None:
            if source.holds_transfers:
                raise InputError(paths.PARAMS, f"sources.{name}: the sample market's whales are the built-in `whales`; "
                                               f"a whale_alert source needs data.source: files")
            if source.values or source.fields:
                raise InputError(paths.PARAMS, f"sources.{name}: the sample market's news has no other columns: "
                                               f"fields and values need data.source: files")
            raw = market.raw_tables()[2]
        else:
            raw_files.refuse_linked_folder(paths.raw_events(name))
            if not paths.raw_events(name).exists():
                # Prices and whales without news is a common start: run, but say what the news features will be.
                log.warning("%s: no folder %s, so no items: every %s feature has its empty-window value; put the "
                            "files there, or switch the group off (feature_groups)", name, paths.raw_events(name), name)
                continue
            if source.holds_transfers:
                raw = whale_transfers.read_whale_pages(paths.raw_events(name), data.skip_bad_rows)
            else:
                raw = news_items.read_news(paths.raw_events(name), source.format, data.skip_bad_rows, source.fields,
                                           source.values)
        if source.holds_transfers:
            # Another symbol's records (a stablecoin's flows, say) count for every currency.
            transfers = whale_transfers.clean_whales(raw, source.symbol or currency, skip_bad_rows=data.skip_bad_rows)
            items = event_sources.transfer_events(transfers, name)
        else:
            items = news_items.clean_news(raw, currency, name, source, data.skip_bad_rows)
        check_time_resolution(items, raw.source, source.delay, stream=name)
        tables.append(items)
    return pd.concat(tables, ignore_index=True) if tables else event_sources.empty_events()


def check_overlap(prices: pd.DataFrame, whales: pd.DataFrame, source: str, warn_share: float) -> None:
    """Warn when at least warn_share of the whale records fall outside the price range: their hours get no
    features, and the whale features of the price hours read "no whales", which then means "no data"."""
    first, last = prices["timestamp"].iloc[0], prices["timestamp"].iloc[-1] + HOUR
    outside = int(((whales["timestamp"] < first) | (whales["timestamp"] > last)).sum())
    if outside and outside >= warn_share * len(whales):
        log.warning("whales: %d of %d whale records of %s fall outside the price range (prices %s .. %s, whales %s .. "
                    "%s; data.warn_whales_outside_prices: %g)", outside, len(whales), source, f"{first:%Y-%m-%d %H:%M}",
                    f"{last:%Y-%m-%d %H:%M}", f"{whales['timestamp'].min():%Y-%m-%d %H:%M}",
                    f"{whales['timestamp'].max():%Y-%m-%d %H:%M}", warn_share)


@dataclass(frozen=True)
class CleanTables:
    prices: pd.DataFrame
    whales: pd.DataFrame
    events: pd.DataFrame


def clean_tables(currency: str, params: dict) -> CleanTables:
    """The currency's clean tables from the source params.yaml names; every table is checked before any is
    returned, so a stage that writes them leaves no output behind on bad input."""
    data = settings.load(DataSettings, params)
    report_delay = settings.load(ReportDelay, params).delay
    declared = event_sources.parse(settings.value(params, "sources"))
    if data.source == "files":
        raw_whales = whale_transfers.read_whales(currency, skip_bad_pages=data.skip_bad_rows)
        prices = clean_prices_from_files(currency, data)
        events = source_events(currency, declared, data)
    else:
        market = sample_market.generate_market(currency, settings.load(sample_market.MarketSettings, params))
        raw_prices, raw_whales, _ = market.raw_tables()
        prices = price_bars.clean_prices(raw_prices, max_gap_hours=data.max_gap_hours,
                                         max_filled_share=data.max_filled_share, max_price_jump=data.max_price_jump)
        events = source_events(currency, declared, data, market)
    whales = whale_transfers.clean_whales(raw_whales, currency, skip_bad_rows=data.skip_bad_rows)
    check_time_resolution(whales, raw_whales.source, report_delay)
    check_overlap(prices, whales, raw_whales.source, data.warn_whales_outside_prices)
    return CleanTables(prices, whales, events)
