"""News items and other headline-like events: the files a user drops into data/raw/events/<source>/ as read, and
the items of one currency that ingest writes, typed, scored and de-duplicated.

Two layouts (NEWS_FORMATS; "auto" picks by suffix):
- headlines_csv (.csv): one headline a row, under any of the usual column names (see the *_ALIASES below), e.g.
  CryptoCompare/Finnhub dumps or a scraped CryptoPanic list with a free-text `Votes` column;
- cryptopanic (.json): a saved CryptoPanic API v1 `posts` response, or a scrape of the website (an object keyed by
  "/news/<id>/<slug>").
A file, or a directory of such files (read in name order as one table). Rows are named as the user finds them:
"line N", "results[i]", '["/news/<id>/<slug>"]', and "file: row" in a directory.

An item concerns a currency when tagged with it; an item tagged with no currency is market-wide and counts
for every currency when the source says so (sources.<name>.market_wide). Each item gets
- sentiment: the item's own score in -1..1, or else its headline scored by the source's scorer
  (VADER's compound score, also in -1..1); a headline's HTML tags and entities are read as the text they show;
- votes: positive + negative votes (0 without votes), and vote_score: (positive - negative) / votes, 0 without.
Every check raises InputError naming the source, the row and the problem (whalecast.data.cells.BadRows).
"""

import html
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from whalecast.data.cells import BadRows, numbers, text, timestamps
from whalecast.data.event_sources import EVENT_COLUMNS, FIELDS, NEWS_FORMATS, SourceSettings
from whalecast.data.raw_files import RawTable, one_table, read_csv, read_json
from whalecast.errors import InputError

log = logging.getLogger(__name__)

NEWS_COLUMNS = list(FIELDS)  # one column per field a headlines CSV may hold
SUFFIX_FORMATS = {".csv": "headlines_csv", ".json": "cryptopanic"}
# Column names of a headlines CSV, lower-cased; the first present one is used.
TIME_ALIASES = ("published_at", "datetime", "timestamp", "time", "date")
TITLE_ALIASES = ("title", "headline")
CURRENCY_ALIASES = ("currencies", "tickers", "symbols", "categories")
ID_ALIASES = ("id", "url")
PUBLISHER_ALIASES = ("source", "publisher", "domain")
# Tags that mean "no currency" in the files seen ("N/A", "No currency", "none"); a CSV cell is split into words.
JUNK_TAGS = {"", "N/A", "NO", "CURRENCY", "NONE", "NO CURRENCY"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# JavaScript's Date.toString(), as scrapers save it: the zone's name is in the browser's language, the rest is not.
BROWSER_DATE = re.compile(r"[A-Z][a-z]{2} (?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2}) (?P<year>\d{4}) "
                          r"(?P<time>\d{2}:\d{2}:\d{2}) GMT(?P<sign>[+-])(?P<hours>\d{2})(?P<minutes>\d{2})"
                          r"(?: \(.*\))?")
# "10 positive: votes, 8 important: votes, 1 negative: votes" (CryptoPanic's vote buttons, as scraped).
VOTE = re.compile(r"(\d+)\s+([a-z_]+)")
NOT_POSTS = "not a CryptoPanic API v1 posts response"
# HTML that feeds pass through in headlines: a tag (<b>, </a>, <br/>) or an entity (&amp; &#39; &#x27; &quot;),
# which VADER would read as words of the headline. A bare "<" or "&" ("BTC < 50k & falling") is text.
_TAG = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
_MARKUP = rf"{_TAG}|&(?:#\d+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);"


def read_news(path: Path, news_format: str = "auto", skip_bad_pages: bool = False, fields: dict | None = None,
              values=()) -> RawTable:
    """A news file, or every *.csv and *.json file of a directory, as a table with the columns NEWS_COLUMNS
    and then `values`.

    In a directory a file that cannot be read is an error, or with skip_bad_pages left out and counted. A CSV's
    columns are found by their usual names, or as `fields` names them ({"timestamp": "when", ...}); `values`
    are more columns of it kept as they are (ingest reads them as numbers).
    """
    path = Path(path)
    if news_format not in NEWS_FORMATS:
        raise InputError(path, f"unknown news format '{news_format}' (one of {', '.join(NEWS_FORMATS)})")
    fields, values = fields or {}, list(values)
    if path.is_dir():
        return _read_directory(path, news_format, skip_bad_pages, fields, values)
    layout = SUFFIX_FORMATS.get(path.suffix.lower()) if news_format == "auto" else news_format
    if layout is None:
        raise InputError(path, "not a .csv or .json news file")
    table = _headlines_csv(path, fields, values) if layout == "headlines_csv" else _cryptopanic(path)
    log.info("news: %s read as %s%s", path, layout, " (detected)" if news_format == "auto" else "")
    return table


def _read_directory(directory: Path, news_format: str, skip_bad_pages: bool, fields: dict, values: list) -> RawTable:
    files = sorted((file for file in directory.iterdir() if file.suffix.lower() in SUFFIX_FORMATS and file.is_file()),
                   key=lambda file: file.name)
    if not files:
        raise InputError(directory, "no *.csv or *.json news files in the directory")
    tables, skipped = {}, []
    for file in files:
        try:
            tables[file.name] = read_news(file, news_format, fields=fields, values=values)
        except InputError as error:
            if not skip_bad_pages:
                raise
            skipped.append(f"{file.name}: {error.problem}")
    if skipped:
        log.warning("news: %d of %d files in %s skipped (data.bad_rows: skip); first: %s", len(skipped), len(files),
                    directory, skipped[0])
    log.info("news: %d files in %s", len(tables), directory)
    return one_table(directory, tables, NEWS_COLUMNS + values)


def iso_time(value):
    """A browser date string ("Fri Feb 07 2025 08:29:27 GMT+0100 (heure normale d’Europe centrale)") as ISO-8601
    with its offset ("2025-02-07T08:29:27+01:00"), which ingest's parser reads; anything else as it is."""
    match = BROWSER_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if not match or match["month"] not in MONTHS:
        return value
    return (f"{match['year']}-{MONTHS.index(match['month']) + 1:02d}-{int(match['day']):02d}T{match['time']}"
            f"{match['sign']}{match['hours']}:{match['minutes']}")


def _tags(tags) -> str:
    """Currency tags as "BTC|ETH": stripped (scrapes leave "BTC "), a cashtag's $ and a hashtag's # dropped ($BTC and
    #BTC, as posts tag a coin, are BTC), upper-cased, junk and repeats dropped."""
    cleaned = (tag.strip().lstrip("$#").upper() for tag in tags)
    return "|".join(dict.fromkeys(tag for tag in cleaned if tag not in JUNK_TAGS))


def _text(value) -> str | None:
    return None if value is None else str(value)


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's contract is str or None, but read_csv leaves empty cells NaN and pandas turns None into NaN."""
    frame = frame.astype(object)
    return frame.where(frame.notna(), None)


def _headlines_csv(path: Path, fields: dict, values: list) -> RawTable:
    table = read_csv(path)
    frame = table.frame
    for name in [*fields.values(), *values]:
        if name.strip().lower() not in frame.columns:
            raise InputError(path, f"no column '{name}', which the source's fields or values name (have: "
                                   f"{', '.join(frame.columns)})")

    def column(field, aliases, required_as=None):
        """The column the source's fields name for this field, else the first present alias."""
        if field in fields:
            return frame[fields[field].strip().lower()]
        present = [name for name in aliases if name in frame.columns]
        if not present and required_as:
            raise InputError(path, f"no {required_as} column (one of {', '.join(aliases)}; "
                                   f"have: {', '.join(frame.columns)})")
        return frame[present[0]] if present else None

    news = pd.DataFrame({"timestamp": column("timestamp", TIME_ALIASES, "time").map(iso_time),
                         "title": column("title", TITLE_ALIASES, "title")}, index=frame.index)
    tags = column("currencies", CURRENCY_ALIASES)
    # No tag column: the file does not say (None); an empty cell in one: the item has no currency ("").
    news["currencies"] = None if tags is None else tags.map(
        lambda cell: _tags(re.split(r"[|,;\s]+", cell) if isinstance(cell, str) else []))
    news["sentiment"] = column("sentiment", ("sentiment",))
    news["positive"] = column("positive", ("positive", "votes_positive"))
    news["negative"] = column("negative", ("negative", "votes_negative"))
    if news["positive"].isna().all() and news["negative"].isna().all() and "votes" in frame.columns:
        counts = frame["votes"].map(_vote_counts)
        for kind in ("positive", "negative"):
            news[kind] = counts.map(lambda found, kind=kind: None if found is None else str(found.get(kind, 0)))
    news["id"], news["publisher"] = column("id", ID_ALIASES), column("publisher", PUBLISHER_ALIASES)
    for name in values:
        news[name] = frame[name]
    return RawTable(_as_text(news[NEWS_COLUMNS + values]), table.source, table.row_format)


def _vote_counts(cell) -> dict | None:
    """{"positive": 10, ...} from free text; None when the cell holds no "N kind" (the votes are unknown, not 0)."""
    found = VOTE.findall(cell.lower()) if isinstance(cell, str) else []
    return {kind: int(count) for count, kind in found} if found else None


def _cryptopanic(path: Path) -> RawTable:
    response = read_json(path)
    if not isinstance(response, dict):
        raise InputError(path, f"{NOT_POSTS} (expected a JSON object)")
    if response and all(key.startswith("/news/") for key in response):
        rows = [_scraped_row(path, key, item) for key, item in response.items()]
        return RawTable(_as_text(pd.DataFrame(rows, columns=NEWS_COLUMNS, index=list(response))), str(path), '["{}"]')
    results = response.get("results")
    if not isinstance(results, list):
        # CryptoPanic's error bodies: {"status": "Incomplete", "info": ...} or Django REST's {"detail": ...}.
        if "detail" in response:
            raise InputError(path, f'CryptoPanic API answered: "{response["detail"]}"')
        if "status" in response:
            raise InputError(path, f"CryptoPanic API answered status '{response['status']}': "
                                   f"\"{response.get('info', '')}\"")
        raise InputError(path, f"{NOT_POSTS} (no 'results' list)")
    rows = [_post_row(path, index, post) for index, post in enumerate(results)]
    return RawTable(_as_text(pd.DataFrame(rows, columns=NEWS_COLUMNS)), str(path), "results[{}]")


def _post_row(path: Path, index: int, post) -> tuple:
    where = f"results[{index}]"
    if not isinstance(post, dict):
        raise InputError(path, f"{where}: not a JSON object")
    for field in ("published_at", "title"):
        if field not in post:
            raise InputError(path, f"{where}: missing field '{field}'")
    currencies = post.get("currencies") or []  # the API leaves it out, or null, when no currency is linked
    if not isinstance(currencies, list):
        raise InputError(path, f"{where}.currencies: not a list")
    for number, currency in enumerate(currencies):
        if not isinstance(currency, dict) or not isinstance(currency.get("code"), str):
            raise InputError(path, f"{where}.currencies[{number}]: 'code' missing or not text")
    positive, negative = _votes(path, f"{where}.votes", post.get("votes"))
    source = post["source"] if isinstance(post.get("source"), dict) else {}
    publisher = source.get("title") or source.get("domain") or post.get("domain")
    return (iso_time(_text(post["published_at"])), _text(post["title"]), _tags(item["code"] for item in currencies),
            None, positive, negative, _text(post.get("id")), _text(publisher))


def _scraped_row(path: Path, key: str, item) -> tuple:
    where = f'["{key}"]'
    if not isinstance(item, dict):
        raise InputError(path, f"{where}: not a JSON object")

    def field(name, required=False):  # the scrapers write "Date" or "date"
        found = next((spelling for spelling in (name.capitalize(), name) if spelling in item), None)
        if found is None and required:
            raise InputError(path, f"{where}: missing field '{name.capitalize()}' (or '{name}')")
        return found

    date, title, currencies, votes = field("date", True), field("title", True), field("currencies"), field("votes")
    tags = item.get(currencies) or []
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise InputError(path, f"{where}.{currencies}: not a list of text")
    positive, negative = _votes(path, f"{where}.{votes}", item.get(votes))
    number = re.match(r"/news/(\d+)", key)
    # The scrapes' "Sentiment" is the scraper's own VADER score, not CryptoPanic's: left out, as ingest scores.
    return (iso_time(_text(item[date])), _text(item[title]), _tags(tags), None, positive, negative,
            number[1] if number else None, _text(item.get(field("source"))))


def _votes(path: Path, where: str, votes) -> tuple[str | None, str | None]:
    """(positive, negative) as text from a votes object; a kind nobody voted is left out of it, so it is "0"."""
    if votes is None:
        return None, None
    if not isinstance(votes, dict):
        raise InputError(path, f"{where}: not a JSON object")
    return _text(votes.get("positive", 0)), _text(votes.get("negative", 0))


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
