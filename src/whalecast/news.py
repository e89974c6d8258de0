"""Raw news items (whalecast.news_readers, or the sample market's) -> the typed events of one currency.

An item concerns a currency when tagged with it; an item tagged with no currency is market-wide and counts
for every currency when the source says so (sources.<name>.market_wide). Each item gets
- sentiment: the item's own score in -1..1, or else its headline scored by the source's scorer
  (VADER's compound score, also in -1..1); a headline's HTML tags and entities are read as the text they show;
- votes: positive + negative votes (0 without votes), and vote_score: (positive - negative) / votes, 0 without.
Every check raises InputError naming the source, the row and the problem (whalecast.ingest.BadRows).
"""

import html
import logging
import re

import numpy as np
import pandas as pd

from whalecast.errors import InputError
from whalecast.ingest import BadRows, numbers, text, timestamps
from whalecast.news_readers import NEWS_COLUMNS
from whalecast.readers import RawTable
from whalecast.sources import EVENT_COLUMNS, SourceSettings

log = logging.getLogger(__name__)

# HTML that feeds pass through in headlines: a tag (<b>, </a>, <br/>) or an entity (&amp; &#39; &#x27; &quot;),
# which VADER would read as words of the headline. A bare "<" or "&" ("BTC < 50k & falling") is text.
_TAG = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
_MARKUP = rf"{_TAG}|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"


def clean_news(table: RawTable, currency: str, name: str, settings: SourceSettings,
               skip_bad_rows: bool = False) -> pd.DataFrame:
    """The items of source `name` that concern the currency, typed, scored, de-duplicated and sorted."""
    missing = [column for column in NEWS_COLUMNS + settings.values if column not in table.frame.columns]
    if missing:
        raise InputError(table.source, f"missing column '{missing[0]}'")
    frame = table.frame
    tags = text(frame, "currencies").fillna("").str.upper().str.split("|").map(
        lambda parts: {part.strip() for part in parts} - {""})
    tagged = tags.map(lambda found: currency.upper() in found).astype(bool)
    untagged = (tags.map(len) == 0).astype(bool)
    ours = tagged | (untagged & settings.market_wide)
    mine = table.subset(ours)
    bad_rows = BadRows(mine, skip_bad_rows)
    items = pd.DataFrame({"timestamp": timestamps(mine, bad_rows), "tagged": tagged[ours]})
    for column in ("title", "id", "publisher"):
        items[column] = text(mine.frame, column)
    marked_up = items["title"].str.contains(_MARKUP).fillna(False).astype(bool)
    items.loc[marked_up, "title"] = items.loc[marked_up, "title"].map(_shown_text)
    given = text(mine.frame, "sentiment").fillna("") != ""
    items["sentiment"] = np.nan
    if given.any():
        scores = numbers(mine.subset(given), "sentiment", bad_rows)
        bad_rows.reject(scores.abs() > 1, "sentiment outside -1..1",
                        lambda label: f"sentiment {scores.loc[label]:g} is outside -1..1")
        items.loc[given, "sentiment"] = scores
    if settings.scorer == "none":
        bad_rows.reject(~given, "items without a sentiment", lambda label: (
            f"no sentiment, and sources.{name}.scorer is none"))
    else:
        bad_rows.reject(~given & (items["title"].fillna("") == ""), "items with neither sentiment nor title",
                        lambda label: "no sentiment and an empty title: nothing to score")
    votes = {}
    for column in ("positive", "negative"):
        present = text(mine.frame, column).fillna("") != ""
        counts = pd.Series(0.0, index=mine.frame.index)
        if present.any():
            counts[present] = numbers(mine.subset(present), column, bad_rows)
        bad_rows.reject((counts < 0) | (counts != np.floor(counts)), f"{column} votes not a whole number >= 0",
                        lambda label, column=column, counts=counts: (
                            f"{column} votes {counts.loc[label]:g} is not a whole number >= 0"))
        votes[column] = counts
    for column in settings.values:  # the source's own numbers (sources.<name>.values)
        items[column] = numbers(mine, column, bad_rows)
    items = bad_rows.without(items)
    marked_up_kept = int(marked_up[items.index].sum())
    bad_rows.log_skipped(f"{name}")
    positive, negative = bad_rows.without(votes["positive"]), bad_rows.without(votes["negative"])
    items["votes"] = positive + negative
    items["vote_score"] = np.divide(positive - negative, items["votes"], out=np.zeros(len(items)),
                                    where=items["votes"].to_numpy() > 0)
    unscored = items["sentiment"].isna()
    if unscored.any():
        items.loc[unscored, "sentiment"] = score(items.loc[unscored, "title"])
    items, id_duplicates, identical = _drop_duplicates(items)
    was_sorted = items["timestamp"].is_monotonic_increasing
    items = items.sort_values("timestamp", kind="stable").reset_index(drop=True)
    items.insert(0, "source", name)
    log.info(
        "%s: %d items from %s, %d of other currencies skipped, %d with no currency tag %s, %d duplicates dropped "
        "(%d with an id seen before, %d identical items without an id), %d titles with HTML markup read as text, "
        "%d scored by %s, %d with votes; "
        "%d %s items kept (%s; %d tagged %s, %d market-wide)",
        name, len(frame), table.source, int((~tagged & ~untagged).sum()), int(untagged.sum()),
        "counted as market-wide" if settings.market_wide else f"skipped (sources.{name}.market_wide: false)",
        id_duplicates + identical, id_duplicates, identical, marked_up_kept, int(unscored.sum()), settings.scorer,
        int((items["votes"] > 0).sum()), len(items), currency, "ascending" if was_sorted else "re-sorted",
        int(items["tagged"].sum()), currency, int((~items["tagged"]).sum()),
    )
    return items[EVENT_COLUMNS + settings.values]


def _drop_duplicates(items: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """An item whose id was seen before, or, without an id, an item identical in time and title to one before
    (pages fetched by cursor overlap; a scrape saved twice repeats)."""
    with_id = items["id"].notna() & (items["id"] != "")
    seen_id = with_id & items["id"].duplicated(keep="first")
    identical = ~with_id & items.duplicated(subset=["timestamp", "title"], keep="first")
    return items[~(seen_id | identical)], int(seen_id.sum()), int(identical.sum())


def _shown_text(title: str) -> str:
    """A headline as a page shows it: a tag as a space (<br> parts words), an entity as its character (&nbsp; a
    space), a run of spaces as one."""
    return " ".join(html.unescape(re.sub(_TAG, " ", title)).split())


def score(titles: pd.Series) -> np.ndarray:
    """VADER's compound score of each headline, in -1..1 (the one scorer sources.SCORER_PACKAGES offers)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # only where items lack a score

    analyzer = SentimentIntensityAnalyzer()
    return np.array([analyzer.polarity_scores(title)["compound"] for title in titles], dtype=float)
