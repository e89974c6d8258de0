"""News files as dropped into data/raw/: headline CSVs and saved CryptoPanic JSON, read as tables of text."""

import json
import logging

import pytest

from whalecast.data import news_items
from whalecast.errors import InputError
from whalecast.data.news_items import NEWS_COLUMNS, read_news

CET_DATE = "Fri Feb 07 2025 08:29:27 GMT+0100 (heure normale d’Europe centrale)"
ACRE_DATE = "Mon Nov 17 2025 13:40:00 GMT-0500 (Horário Padrão do Acre)"


def write(tmp_path, text, name="news.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_csv_text(tmp_path, text):
    return read_news(write(tmp_path, text)).frame


def log_messages(caplog):
    return [(record.levelname, record.getMessage()) for record in caplog.records
            if record.name == "whalecast.data.news_items"]


def failure(path, **options):
    with pytest.raises(InputError) as raised:
        read_news(path, **options)
    return str(raised.value)


# --- headlines_csv ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["published_at", "datetime", "timestamp", "time", "date"])
def test_every_time_alias_becomes_timestamp(tmp_path, column):
    frame = read_csv_text(tmp_path, f"{column},title\n2025-05-02T11:20:45.000Z,Hello\n")
    assert frame["timestamp"].tolist() == ["2025-05-02T11:20:45.000Z"]


def test_the_first_present_time_alias_wins(tmp_path):
    frame = read_csv_text(tmp_path, "date,published_at,title\n2025-05-01,2025-05-02T10:00:00Z,Hello\n")
    assert frame["timestamp"].tolist() == ["2025-05-02T10:00:00Z"]


@pytest.mark.parametrize("column", ["title", "headline"])
def test_every_title_alias_becomes_title(tmp_path, column):
    frame = read_csv_text(tmp_path, f"time,{column}\n2025-05-02,Bitcoin rallies\n")
    assert frame["title"].tolist() == ["Bitcoin rallies"]


def test_a_minimal_file_has_every_column_as_text_or_none_and_rows_named_by_line(tmp_path):
    path = write(tmp_path, "Time,Title\n2025-05-02,One\n\n2025-05-03,Two\n")
    table = read_news(path)
    assert list(table.frame.columns) == NEWS_COLUMNS
    assert [table.row(label) for label in table.frame.index] == ["line 2", "line 4"]
    assert table.frame.to_dict("records")[0] == {
        "timestamp": "2025-05-02", "title": "One", "currencies": None, "sentiment": None, "positive": None,
        "negative": None, "id": None, "publisher": None}
    assert table.source == str(path)


@pytest.mark.parametrize("column", ["currencies", "tickers", "symbols", "categories"])
def test_every_currency_alias_is_split_stripped_and_upper_cased(tmp_path, column):
    frame = read_csv_text(tmp_path, f'time,title,{column}\n1,a,"btc| ETH ,sol;xrp  doge"\n2,b,BTC|MARKET\n')
    assert frame["currencies"].tolist() == ["BTC|ETH|SOL|XRP|DOGE", "BTC|MARKET"]


@pytest.mark.parametrize("cell", ["No currency", "N/A", "none", "NONE", ""])
def test_junk_currency_tags_mean_none(tmp_path, cell):
    frame = read_csv_text(tmp_path, f"time,title,currencies,id\n1,a,{cell},x\n")
    assert frame["currencies"].tolist() == [""]


def test_cashtags_and_hashtags_are_the_currency_they_tag(tmp_path):
    frame = read_csv_text(tmp_path, 'time,title,tickers\n1,a,"$BTC|#eth, $sol"\n2,b,$BTC|BTC|#\n3,c,#No currency\n')
    assert frame["currencies"].tolist() == ["BTC|ETH|SOL", "BTC", ""]
    posts = read_news(posts_file(tmp_path, [post(1, currencies=[{"code": "$BTC"}, {"code": "#ETH"}])])).frame
    assert posts["currencies"].tolist() == ["BTC|ETH"]
    scrape = {"/news/1/a": {"date": ACRE_DATE, "title": "a", "currencies": ["#BTC ", "$ETH", "$"]}}
    assert read_news(write(tmp_path, json.dumps(scrape), "scrape.json")).frame["currencies"].tolist() == ["BTC|ETH"]


def test_the_first_present_currency_alias_wins_and_a_repeated_tag_counts_once(tmp_path):
    frame = read_csv_text(tmp_path, "time,title,categories,tickers\n1,a,BTC|MARKET,eth|ETH|btc\n")
    assert frame["currencies"].tolist() == ["ETH|BTC"]


def test_sentiment_is_passed_through(tmp_path):
    frame = read_csv_text(tmp_path, "time,title,Sentiment\n1,a,bullish\n2,b,\n")
    assert frame["sentiment"].tolist() == ["bullish", None]


@pytest.mark.parametrize("columns", [("positive", "negative"), ("votes_positive", "votes_negative")])
def test_vote_count_columns_are_read(tmp_path, columns):
    frame = read_csv_text(tmp_path, f"time,title,{columns[0]},{columns[1]}\n1,a,10,2\n2,b,,\n")
    assert frame[["positive", "negative"]].values.tolist() == [["10", "2"], [None, None]]


def test_free_text_votes_are_counted_by_kind(tmp_path):
    votes = ["10 positive: votes, 8 important: votes, 1 negative: votes, 9 like: votes",
             "6 saves: votes, 3 positive: votes", "7 important: votes", "no votes yet", ""]
    body = "".join(f'{day},t{day},"{cell}"\n' for day, cell in enumerate(votes))
    frame = read_csv_text(tmp_path, "Time,Title,Votes\n" + body)
    assert frame[["positive", "negative"]].values.tolist() == [
        ["10", "1"], ["3", "0"], ["0", "0"], [None, None], [None, None]]


def test_vote_columns_win_over_free_text_votes(tmp_path):
    frame = read_csv_text(tmp_path, 'time,title,positive,negative,votes\n1,a,4,5,"1 positive: votes"\n')
    assert frame[["positive", "negative"]].values.tolist() == [["4", "5"]]


def test_id_is_the_id_column_else_the_url(tmp_path):
    assert read_csv_text(tmp_path, "time,title,id,url\n1,a,77,https://x/1\n")["id"].tolist() == ["77"]
    assert read_csv_text(tmp_path, "time,title,url\n1,a,https://x/1\n")["id"].tolist() == ["https://x/1"]


@pytest.mark.parametrize("column", ["source", "publisher", "domain"])
def test_every_publisher_alias_becomes_publisher(tmp_path, column):
    assert read_csv_text(tmp_path, f"time,title,{column}\n1,a,coindesk.com\n")["publisher"].tolist() == ["coindesk.com"]


def test_browser_dates_become_iso_with_their_offset_and_other_strings_pass(tmp_path):
    body = f"{CET_DATE},a\n{ACRE_DATE},b\n2025-07-15T13:55:26,c\nFri Feb 07 2025,d\n"
    frame = read_csv_text(tmp_path, "Time,Title\n" + body)
    assert frame["timestamp"].tolist() == ["2025-02-07T08:29:27+01:00", "2025-11-17T13:40:00-05:00",
                                           "2025-07-15T13:55:26", "Fri Feb 07 2025"]


def test_a_csv_without_a_time_or_title_column_is_named(tmp_path):
    path = write(tmp_path, "headline,source\nHello,x\n")
    assert failure(path) == (f"{path}: no time column (one of published_at, datetime, timestamp, time, date; "
                             f"have: headline, source)")
    path = write(tmp_path, "datetime,source\n1,x\n")
    assert failure(path) == f"{path}: no title column (one of title, headline; have: datetime, source)"


def test_csv_read_errors_come_from_the_shared_csv_reader(tmp_path):
    path = write(tmp_path, "")
    assert failure(path) == f"{path}: file is empty"
    path = write(tmp_path, "time;title\n1;a\n")
    assert failure(path) == (f"{path}: looks like `;`-separated (a spreadsheet's export in some locales); save it "
                             "comma-separated with `.` decimals")


# --- cryptopanic: API v1 posts -----------------------------------------------------------------------------

def post(index=1, **fields):
    item = {"kind": "news", "domain": "coindesk.com", "title": f"Post {index}", "id": 1000 + index,
            "published_at": f"2024-05-0{index}T12:00:00Z", "slug": f"post-{index}",
            "source": {"title": "CoinDesk", "region": "en", "domain": "coindesk.com", "path": None},
            "currencies": [{"code": "BTC", "title": "Bitcoin", "slug": "bitcoin", "url": "https://x/btc/"}],
            "votes": {"negative": 1, "positive": 5, "important": 2, "liked": 3, "disliked": 0, "lol": 0,
                      "toxic": 0, "saved": 1, "comments": 0}}
    item.update(fields)
    return {key: value for key, value in item.items() if value != "DROP"}


def posts_file(tmp_path, results, name="page.json"):
    return write(tmp_path, json.dumps({"count": len(results), "next": None, "previous": None, "results": results}),
                 name)


def test_api_posts_become_rows_named_by_result(tmp_path):
    results = [post(1), post(2, currencies=None, votes="DROP", id="DROP",
                                source={"title": None, "domain": "cointelegraph.com"}),
               post(3, currencies=[{"code": " eth "}, {"code": "btc"}], source="DROP",
                    published_at=ACRE_DATE)]
    table = read_news(posts_file(tmp_path, results))
    assert [table.row(label) for label in table.frame.index] == ["results[0]", "results[1]", "results[2]"]
    assert table.frame.to_dict("records") == [
        {"timestamp": "2024-05-01T12:00:00Z", "title": "Post 1", "currencies": "BTC", "sentiment": None,
         "positive": "5", "negative": "1", "id": "1001", "publisher": "CoinDesk"},
        {"timestamp": "2024-05-02T12:00:00Z", "title": "Post 2", "currencies": "", "sentiment": None,
         "positive": None, "negative": None, "id": None, "publisher": "cointelegraph.com"},
        {"timestamp": "2025-11-17T13:40:00-05:00", "title": "Post 3", "currencies": "ETH|BTC", "sentiment": None,
         "positive": "5", "negative": "1", "id": "1003", "publisher": "coindesk.com"}]


def test_an_empty_results_list_is_an_empty_table(tmp_path):
    frame = read_news(posts_file(tmp_path, [])).frame
    assert frame.empty and list(frame.columns) == NEWS_COLUMNS


@pytest.mark.parametrize("results, problem", [
    ([post(1), post(2, published_at="DROP")], "results[1]: missing field 'published_at'"),
    ([post(1, title="DROP")], "results[0]: missing field 'title'"),
    ([post(1), "not a post"], "results[1]: not a JSON object"),
    ([post(1, currencies=[{"code": "BTC"}, {"title": "Ether"}])],
     "results[0].currencies[1]: 'code' missing or not text"),
    ([post(1, currencies=[{"code": 5}])], "results[0].currencies[0]: 'code' missing or not text"),
    ([post(1, currencies=["BTC"])], "results[0].currencies[0]: 'code' missing or not text"),
    ([post(1, currencies="BTC")], "results[0].currencies: not a list"),
    ([post(1, votes=[1, 2])], "results[0].votes: not a JSON object"),
])
def test_a_bad_api_post_is_named(tmp_path, results, problem):
    path = posts_file(tmp_path, results)
    assert failure(path) == f"{path}: {problem}"


@pytest.mark.parametrize("text, problem", [
    ("", "file is empty"),
    ("  \n", "file is empty"),
    ('{"results": [\n  {"title": }\n]}', "malformed JSON at line 2 column 13: Expecting value"),
    ("[1, 2]", "not a CryptoPanic API v1 posts response (expected a JSON object)"),
    ('{"count": 0}', "not a CryptoPanic API v1 posts response (no 'results' list)"),
    ('{"results": {"a": 1}}', "not a CryptoPanic API v1 posts response (no 'results' list)"),
    ("{}", "not a CryptoPanic API v1 posts response (no 'results' list)"),
    ('{"status": "Incomplete", "info": "Token not found"}',
     "CryptoPanic API answered status 'Incomplete': \"Token not found\""),
    ('{"detail": "Invalid token."}', "CryptoPanic API answered: \"Invalid token.\""),
])
def test_a_json_file_that_is_not_a_posts_response_is_named(tmp_path, text, problem):
    path = write(tmp_path, text, "page.json")
    assert failure(path) == f"{path}: {problem}"


def test_a_json_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "page.json"
    path.write_bytes(b'{"results": ["\xff\xfe"]}')
    assert failure(path) == f"{path}: not UTF-8 text"


def test_a_missing_file_is_named(tmp_path):
    assert failure(tmp_path / "gone.json") == f"{tmp_path / 'gone.json'}: file not found"


# --- cryptopanic: website scrape ---------------------------------------------------------------------------

def test_a_website_scrape_in_either_capitalisation_is_read(tmp_path):
    scrape = {
        "/news/27140237/Chainlink-Price": {
            "Date": ACRE_DATE, "Title": "Chainlink Price", "Currencies": ["LINK", "BTC "], "Votes": {},
            "Source": "thecoinrepublic.com", "Source_Type": "link", "Sentiment": "bearish", "Confidence": 52},
        "/news/29539181/Over-23-of-traders": {
            "title": "Over 23% of traders", "url": "/news/29539181/Over-23-of-traders", "date": CET_DATE,
            "source": "cointelegraph.com", "currencies": ["N/A"],
            "votes": {"positive": 3, "like": 1, "negative": 2}},
        "/news/12/x": {"Date": ACRE_DATE, "Title": "No tags", "Currencies": ["No currency"]},
        "/news/slug-only": {"date": ACRE_DATE, "title": "No id"},
    }
    table = read_news(write(tmp_path, json.dumps(scrape), "scrape.json"))
    assert [table.row(label) for label in table.frame.index] == [f'["{key}"]' for key in scrape]
    assert table.frame.to_dict("records") == [
        {"timestamp": "2025-11-17T13:40:00-05:00", "title": "Chainlink Price", "currencies": "LINK|BTC",
         "sentiment": None, "positive": "0", "negative": "0", "id": "27140237", "publisher": "thecoinrepublic.com"},
        {"timestamp": "2025-02-07T08:29:27+01:00", "title": "Over 23% of traders", "currencies": "",
         "sentiment": None, "positive": "3", "negative": "2", "id": "29539181", "publisher": "cointelegraph.com"},
        {"timestamp": "2025-11-17T13:40:00-05:00", "title": "No tags", "currencies": "", "sentiment": None,
         "positive": None, "negative": None, "id": "12", "publisher": None},
        {"timestamp": "2025-11-17T13:40:00-05:00", "title": "No id", "currencies": "", "sentiment": None,
         "positive": None, "negative": None, "id": None, "publisher": None}]


@pytest.mark.parametrize("item, problem", [
    ({"Title": "a"}, "[\"/news/1/a\"]: missing field 'Date' (or 'date')"),
    ({"date": "x"}, "[\"/news/1/a\"]: missing field 'Title' (or 'title')"),
    ("text", "[\"/news/1/a\"]: not a JSON object"),
    ({"date": "x", "title": "a", "votes": [3]}, "[\"/news/1/a\"].votes: not a JSON object"),
    ({"date": "x", "title": "a", "currencies": "BTC"}, "[\"/news/1/a\"].currencies: not a list of text"),
    ({"date": "x", "title": "a", "Currencies": ["BTC", 4]}, "[\"/news/1/a\"].Currencies: not a list of text"),
])
def test_a_bad_scraped_item_is_named(tmp_path, item, problem):
    path = write(tmp_path, json.dumps({"/news/0/ok": {"date": "x", "title": "ok"}, "/news/1/a": item}), "s.json")
    assert failure(path) == f"{path}: {problem}"


def test_an_object_with_one_key_outside_news_is_not_taken_for_a_scrape(tmp_path):
    path = write(tmp_path, json.dumps({"/news/1/a": {"date": "x", "title": "a"}, "meta": {}}), "s.json")
    assert failure(path) == f"{path}: not a CryptoPanic API v1 posts response (no 'results' list)"


# --- formats, directories ----------------------------------------------------------------------------------

def test_the_format_is_detected_by_suffix_and_logged(tmp_path, caplog):
    csv_path, json_path = write(tmp_path, "time,title\n1,a\n", "a.CSV"), posts_file(tmp_path, [post(1)])
    with caplog.at_level(logging.INFO, logger="whalecast"):
        read_news(csv_path)
        read_news(json_path)
        read_news(json_path, news_format="cryptopanic")
    assert log_messages(caplog) == [("INFO", f"news: {csv_path} read as headlines_csv (detected)"),
                                    ("INFO", f"news: {json_path} read as cryptopanic (detected)"),
                                    ("INFO", f"news: {json_path} read as cryptopanic")]


def test_auto_refuses_other_suffixes_but_a_named_format_reads_them(tmp_path):
    path = write(tmp_path, "time,title\n1,a\n", "news.txt")
    assert failure(path) == f"{path}: not a .csv or .json news file"
    assert read_news(path, news_format="headlines_csv").frame["title"].tolist() == ["a"]
    assert failure(path, news_format="rss") == (f"{path}: unknown news format 'rss' "
                                                "(one of auto, headlines_csv, cryptopanic)")
    assert news_items.NEWS_FORMATS == ("auto", "headlines_csv", "cryptopanic")


def test_a_directory_of_mixed_pages_is_one_table_in_name_order(tmp_path, caplog):
    folder = tmp_path / "news"
    folder.mkdir()
    write(folder, f'Time,Title,Votes\n{CET_DATE},csv one,"2 positive: votes"\n', "b.csv")
    posts_file(folder, [post(1), post(2)], "a.json")
    write(folder, json.dumps({"/news/9/x": {"date": ACRE_DATE, "title": "scraped"}}), "c.json")
    write(folder, "not news", "README.txt")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        table = read_news(folder)
    assert [table.row(label) for label in table.frame.index] == ["a.json: results[0]", "a.json: results[1]", "b.csv: line 2",
                                          'c.json: ["/news/9/x"]']
    assert table.frame["title"].tolist() == ["Post 1", "Post 2", "csv one", "scraped"]
    assert table.frame["positive"].tolist() == ["5", "5", "2", None]
    assert list(table.frame.columns) == NEWS_COLUMNS and table.source == str(folder)
    assert log_messages(caplog)[-1] == ("INFO", f"news: 3 files in {folder}")


def test_a_bad_file_in_a_directory_is_an_error_or_with_skip_left_out_and_counted_once(tmp_path, caplog):
    folder = tmp_path / "news"
    folder.mkdir()
    posts_file(folder, [post(1)], "1.json")
    write(folder, '{"results": [', "2.json")
    write(folder, "headline\nno time\n", "3.csv")
    posts_file(folder, [post(4)], "4.json")
    assert failure(folder) == f"{folder / '2.json'}: malformed JSON at line 1 column 14: Expecting value"
    with caplog.at_level(logging.INFO, logger="whalecast"):
        table = read_news(folder, skip_bad_pages=True)
    assert table.frame["title"].tolist() == ["Post 1", "Post 4"]
    warnings = [message for level, message in log_messages(caplog) if level == "WARNING"]
    assert warnings == [f"news: 2 of 4 files in {folder} skipped (data.bad_rows: skip); first: 2.json: malformed "
                        f"JSON at line 1 column 14: Expecting value"]


def test_a_directory_whose_every_file_is_skipped_is_an_empty_table(tmp_path):
    folder = tmp_path / "news"
    folder.mkdir()
    write(folder, "", "1.json")
    frame = read_news(folder, skip_bad_pages=True).frame
    assert frame.empty and list(frame.columns) == NEWS_COLUMNS


def test_a_directory_without_news_files_is_named(tmp_path):
    write(tmp_path, "x", "notes.txt")
    assert failure(tmp_path) == f"{tmp_path}: no *.csv or *.json news files in the directory"
