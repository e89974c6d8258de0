"""Event sources beside prices and whales, as declared in params.yaml `sources` (news headlines, posts, a second
whale feed, ...).

Each source is a name and its settings. With data.source: files its items are the files in data/raw/events/<name>/
(one file or several, e.g. saved API pages); with the sample market, the market's news stream. Ingest writes the
items of every source that concern a currency to data/interim/events/{CUR}.parquet; a feature spec names the
source as its `source`. A source of format whale_alert holds whale transfers, with the whale features' filters.
"""

import importlib.metadata
import re
from dataclasses import field

import pandas as pd

from whalecast import paths, settings
from whalecast.data.delays import MAX_DELAY_SECONDS
from whalecast.errors import InputError

# The file layouts whalecast.data.news_items reads (auto: .csv headlines_csv, .json cryptopanic), and Whale Alert
# /transactions pages (whalecast.data.whale_transfers), read as whale transfers.
NEWS_FORMATS = ("auto", "headlines_csv", "cryptopanic")
WHALE_FORMAT = "whale_alert"
FORMATS = (*NEWS_FORMATS, WHALE_FORMAT)
# data/interim/events/{CUR}.parquet: one row per item, `tagged` when tagged with the currency (else market-wide).
EVENT_COLUMNS = ["source", "timestamp", "tagged", "sentiment", "votes", "vote_score", "id", "title", "publisher"]
# The per-item numbers a feature spec can aggregate (and weight by), and the items it can select.
VALUE_COLUMNS = ("sentiment", "vote_score", "votes")
WEIGHT_COLUMNS = ("votes",)  # a weight must not be negative: a signed one can sum to 0 and blow the mean up
FILTERS = ("all", "tagged", "market_wide")
# What a headlines CSV's columns mean; `fields` names the file's column for any of them (else the usual names).
FIELDS = ("timestamp", "title", "currencies", "sentiment", "positive", "negative", "id", "publisher")
# The columns a whale_alert source's rows add to the events table (as ingest cleans whale records).
TRANSFER_COLUMNS = ["amount", "amount_usd", "from_owner_type", "to_owner_type", "transaction_type"]
# Names the feature specs already use for the two built-in sources.
RESERVED_NAMES = ("prices", "whales")
# A headline's sentiment, where the item has none: "none" (such an item is a bad row) or VADER, whose lexicon
# ships in its package (no download at run time). The version is in params so that DVC re-runs on a change.
SCORER_PACKAGES = ("vaderSentiment",)


def empty_events() -> pd.DataFrame:
    """The events table of a currency no source has items for."""
    frame = pd.DataFrame({column: pd.Series(dtype="string") for column in EVENT_COLUMNS})
    frame["timestamp"] = pd.Series(dtype="datetime64[ns, UTC]")
    frame["tagged"] = pd.Series(dtype=bool)
    for column in VALUE_COLUMNS:
        frame[column] = pd.Series(dtype=float)
    return frame


def transfer_events(transfers: pd.DataFrame, name: str) -> pd.DataFrame:
    """Clean whale records of a whale_alert source as rows of the events table (tagged: of the currency)."""
    events = empty_events().reindex(range(len(transfers)))
    events["source"], events["timestamp"], events["tagged"] = name, transfers["timestamp"].to_numpy(), True
    events["id"] = transfers["id"].to_numpy()
    for column in TRANSFER_COLUMNS:
        events[column] = transfers[column].astype(str if column.endswith("type") else float).to_numpy()
    return events


@settings.section("sources.<name>")
class SourceSettings:
    """params.yaml sources.<name>: one entry of `sources`, built by parse."""

    format: str = settings.choice(*FORMATS)
    delay_seconds: float = settings.within(0, MAX_DELAY_SECONDS, why=" (30 days)")  # counts from timestamp + delay
    market_wide: bool = True  # items tagged with no currency count for every currency (false: dropped, counted)
    scorer: str = "none"  # "none" or "<package>==<version>"
    fields: dict = field(default_factory=dict)  # headlines_csv: FIELDS name -> the file's column
    values: list = field(default_factory=list)  # headlines_csv: more numeric columns of an item, for features
    symbol: str = ""  # whale_alert: the records of this symbol count for every currency (e.g. USDT flows for BTC)

    def __post_init__(self):
        if (self.fields or self.values) and self.format in ("cryptopanic", WHALE_FORMAT):
            raise ValueError(f"fields and values apply to CSV files (format headlines_csv or auto), not {self.format}")
        if self.format == WHALE_FORMAT and self.scorer != "none":
            raise ValueError("scorer applies to headlines, not to whale_alert transfers (set scorer: none)")
        if self.symbol and (self.format != WHALE_FORMAT or not re.fullmatch(r"[A-Za-z0-9]+", self.symbol)):
            raise ValueError(f"symbol applies to whale_alert sources and is a currency code such as USDT, got "
                             f"{self.symbol!r} for format {self.format}")
        for name, column in self.fields.items():
            if name not in FIELDS or not isinstance(column, str):
                raise ValueError(f"fields maps {', '.join(FIELDS)} to a column name each, got {name!r}: {column!r}")
        for column in self.values:
            if not isinstance(column, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", column) or column in EVENT_COLUMNS:
                raise ValueError(f"values must be lower-case column names other than {', '.join(EVENT_COLUMNS)}, "
                                 f"got {column!r}")
        if self.scorer != "none":
            _check_scorer(self.scorer)

    @property
    def holds_transfers(self) -> bool:
        return self.format == WHALE_FORMAT

    @property
    def delay(self) -> pd.Timedelta:
        return pd.Timedelta(seconds=self.delay_seconds)


def _check_scorer(scorer: str) -> None:
    match = re.fullmatch(r"(?P<package>[\w.-]+)==(?P<version>[\w.+-]+)", scorer)
    if not match or match["package"] not in SCORER_PACKAGES:
        raise ValueError(f"scorer must be none or one of {', '.join(SCORER_PACKAGES)} pinned as "
                         f"<package>==<version>, got {scorer!r}")
    installed = importlib.metadata.version(match["package"])
    if installed != match["version"]:
        raise ValueError(f"scorer {scorer} is not what is installed ({match['package']} {installed}): scores "
                         f"would not be what the params say; install that version or set scorer: "
                         f"{match['package']}=={installed}")


def parse(raw, path=paths.PARAMS) -> dict[str, SourceSettings]:
    """params.yaml `sources`: a mapping of source name to its settings (may be empty)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(path, f"sources must map each source name to its settings, got {raw!r}")
    result = {}
    for name, entry in raw.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in RESERVED_NAMES:
            raise InputError(path, f"sources: {name!r} is not a usable source name (lower-case letters, digits and _; "
                                   f"not {' or '.join(RESERVED_NAMES)})")
        result[name] = settings.build(SourceSettings, entry, f"sources.{name}", path)
    return result
