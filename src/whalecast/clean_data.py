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

from whalecast import features, ingest, news, news_readers, params, paths, readers, sources, synthetic
from whalecast.errors import InputError

log = logging.getLogger(__name__)

SOURCES = ("synthetic", "files")
PARTIAL_CANDLE = ("auto", "drop", "keep")
BAD_ROWS = ("error", "skip")


@dataclass(frozen=True)
class DataSettings:
    """params.yaml data."""

    source: str
    price_format: str
    max_gap_hours: int
    partial_candle: str
    bad_rows: str
    warn_whales_outside_prices: float
    synthetic: dict
    max_filled_share: float = 0.05  # more missing hours than this share of a price file is an error
    max_price_jump: float = 2.0  # adjacent closes further apart than this factor are an error

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.price_format not in readers.PRICE_FORMATS:
            raise ValueError(f"price_format must be one of {', '.join(readers.PRICE_FORMATS)}, "
                             f"got {self.price_format!r}")
        if self.partial_candle not in PARTIAL_CANDLE:
            raise ValueError(f"partial_candle must be one of {', '.join(PARTIAL_CANDLE)}, got {self.partial_candle!r}")
        if self.bad_rows not in BAD_ROWS:
            raise ValueError(f"bad_rows must be one of {', '.join(BAD_ROWS)}, got {self.bad_rows!r}")
        if not 0 <= self.warn_whales_outside_prices <= 1:
            raise ValueError(f"warn_whales_outside_prices must be a share in 0..1, got {self.warn_whales_outside_prices}")
        if self.max_gap_hours < 0:
            raise ValueError(f"max_gap_hours cannot be negative, got {self.max_gap_hours}")
        if not 0 <= self.max_filled_share <= 1:
            raise ValueError(f"max_filled_share must be a share in 0..1, got {self.max_filled_share}")
        if not self.max_price_jump > 1:
            raise ValueError(f"max_price_jump must be a factor above 1, got {self.max_price_jump}")

    @property
    def skip_bad_rows(self) -> bool:
        return self.bad_rows == "skip"


def clean_prices_from_files(currency: str, settings: DataSettings):
    table, layouts = readers.read_price_files(currency, settings.price_format)
    setting = settings.partial_candle
    drop_newest = [setting == "drop" or (setting == "auto" and layout != "binance_kline") for layout in layouts]
    return ingest.clean_prices(table, settings.max_gap_hours, skip_bad_rows=settings.skip_bad_rows,
                               max_filled_share=settings.max_filled_share, max_price_jump=settings.max_price_jump,
                               drop_newest=drop_newest,
                               drop_reason=f"it may have been still open when the file was saved (data.partial_candle: "
                                           f"{setting})")


def source_events(currency: str, declared: dict, settings: DataSettings, market=None) -> pd.DataFrame:
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
            readers.refuse_linked_folder(paths.raw_events(name))
            if not paths.raw_events(name).exists():
                # Prices and whales without news is a common start: run, but say what the news features will be.
                log.warning("%s: no folder %s, so no items: every %s feature has its empty-window value; put the "
                            "files there, or switch the group off (feature_groups)", name, paths.raw_events(name), name)
                continue
            if source.holds_transfers:
                raw = readers.read_whale_pages(paths.raw_events(name), settings.skip_bad_rows)
            else:
                raw = news_readers.read_news(paths.raw_events(name), source.format, settings.skip_bad_rows,
                                             source.fields, source.values)
        if source.holds_transfers:
            # Another symbol's records (a stablecoin's flows, say) count for every currency.
            transfers = ingest.clean_whales(raw, source.symbol or currency, skip_bad_rows=settings.skip_bad_rows)
            items = sources.transfer_events(transfers, name)
        else:
            items = news.clean_news(raw, currency, name, source, settings.skip_bad_rows)
        ingest.check_time_resolution(items, raw.source, source.delay, stream=name)
        tables.append(items)
    return pd.concat(tables, ignore_index=True) if tables else sources.empty_events()


@dataclass(frozen=True)
class CleanTables:
    prices: pd.DataFrame
    whales: pd.DataFrame
    events: pd.DataFrame


def clean_tables(currency: str, all_params: dict) -> CleanTables:
    """The currency's clean tables from the source params.yaml names; every table is checked before any is
    returned, so a stage that writes them leaves no output behind on bad input."""
    settings = params.build(DataSettings, params.section(all_params, "data"), "data")
    report_delay = features.parse_report_delay(params.section(all_params, "whale_report_delay_seconds"))
    declared = sources.parse(params.section(all_params, "sources"))
    if settings.source == "files":
        raw_whales = readers.read_whales(currency, skip_bad_pages=settings.skip_bad_rows)
        prices = clean_prices_from_files(currency, settings)
        events = source_events(currency, declared, settings)
    else:
        market_settings = params.build(synthetic.MarketSettings, settings.synthetic, "data.synthetic")
        market = synthetic.generate_market(currency, market_settings)
        raw_prices, raw_whales, _ = market.raw_tables()
        prices = ingest.clean_prices(raw_prices, max_gap_hours=settings.max_gap_hours,
                                     max_filled_share=settings.max_filled_share, max_price_jump=settings.max_price_jump)
        events = source_events(currency, declared, settings, market)
    whales = ingest.clean_whales(raw_whales, currency, skip_bad_rows=settings.skip_bad_rows)
    ingest.check_time_resolution(whales, raw_whales.source, report_delay)
    ingest.check_overlap(prices, whales, raw_whales.source, settings.warn_whales_outside_prices)
    return CleanTables(prices, whales, events)
