"""News files and cross-asset specs through the real stage scripts: files in data/raw/events/<source>/ ->
ingest -> featurize, the one-line error on a bad file, counted skips. The first test runs the stages as processes,
the others in this process (the same scripts)."""

import json
import re

import pandas as pd
import pytest

from conftest import assert_clean_failure, edit_params, files_project, run_stage, run_stage_in_process
from whalecast import paths

PRICES = "timestamp,open,high,low,close,volume\n" + "".join(
    f"2024-03-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z,100,110,90,{100 + hour % 5},10\n" for hour in range(72))
HEADLINES = ("published_at,title,currencies,positive,negative,id\n"
             "2024-03-02T05:10:07Z,Bitcoin crashes as exchange is hacked,BTC,0,4,a1\n"
             "2024-03-02T06:20:00Z,Crypto market soars as investors celebrate strong gains,,3,0,a2\n"
             "2024-03-02T16:00:00Z,Ether gains,ETH,1,0,a3\n")
PAGE = {"count": 2, "next": None, "previous": None, "results": [
    {"kind": "news", "id": 11, "title": "Bitcoin ETF approved, a huge win", "published_at": "2024-03-03T08:00:00Z",
     "source": {"title": "Some Paper", "domain": "paper.example"}, "currencies": [{"code": "BTC", "title": "Bitcoin"}],
     "votes": {"positive": 5, "negative": 1, "important": 2, "liked": 0, "disliked": 0, "lol": 0, "toxic": 0,
               "saved": 0, "comments": 0}},
    {"kind": "news", "id": 12, "title": "Markets wait for the Fed", "published_at": "2024-03-03T09:30:00Z",
     "currencies": None, "votes": {"positive": 0, "negative": 0}},
]}


def news_project(project, **files):
    files_project(project, prices=PRICES)
    folder = project / paths.raw_events("news")
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return project


def test_headlines_and_cryptopanic_pages_become_the_currencys_news_features(project):
    news_project(project, headlines_csv=HEADLINES, page_json=json.dumps(PAGE))
    ingest_log = run_stage(project, "ingest").stderr
    events = pd.read_parquet(project / paths.events("BTC"))
    assert events["id"].tolist() == ["a1", "a2", "11", "12"]  # ETH's item is not BTC's
    assert events["tagged"].tolist() == [True, False, True, False]
    assert events["sentiment"].iloc[0] < 0 < events["sentiment"].iloc[1]  # scored by VADER at ingest
    assert events["vote_score"].tolist() == [-1.0, 1.0, 4 / 6, 0.0]
    assert "news: 5 items from data/raw/events/news, 1 of other currencies skipped" in ingest_log
    run_stage(project, "featurize")
    table = pd.read_parquet(project / paths.features("BTC")).set_index("timestamp")
    count = table["news_all_count_6h"]
    # counted from the hour it was published in: 05:10 -> row 06:00 .. 11:00, and 06:20 -> 07:00 .. 12:00
    assert count[pd.Timestamp("2024-03-02 06:00", tz="UTC")] == 1 and count[pd.Timestamp("2024-03-02 07:00",
                                                                                      tz="UTC")] == 2
    assert count[pd.Timestamp("2024-03-02 12:00", tz="UTC")] == 1 and count[pd.Timestamp("2024-03-02 13:00",
                                                                                      tz="UTC")] == 0


def test_every_log_line_carries_its_level_and_the_stage_counts_its_warnings(project):
    """Every line the stage processes write, import-time warnings included, as the stage writes it."""
    prices = "timestamp,open,high,low,close,volume\n" + "".join(
        f"2024-03-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z,100,101,99,100.5,10\n" for hour in range(60))
    files_project(project, prices=prices, whales=json.dumps({"result": "success", "count": 0}))
    ingest_log = run_stage(project, "ingest").stderr.splitlines()
    assert all(line.startswith(("ingest BTC: info: ", "ingest BTC: warning: ")) for line in ingest_log), ingest_log
    # No news files beside the prices and whales: the run goes on and says what the news features will read.
    assert [line for line in ingest_log if ": warning: " in line] == [
        "ingest BTC: warning: news: no folder data/raw/events/news, so no items: every news feature has its "
        "empty-window value; put the files there, or switch the group off (feature_groups)"]
    assert re.fullmatch(r"ingest BTC: info: done in \d+\.\d\d s, 1 warning", ingest_log[-1])
    featurize_log = run_stage(project, "featurize").stderr.splitlines()
    warnings = [line for line in featurize_log if ": warning: " in line]
    assert warnings == [
        "featurize BTC: warning: features: no whale transfers at all: every whale feature has its empty-window value",
        "featurize BTC: warning: features: no news items at all: every news feature has its empty-window value"]
    assert re.fullmatch(r"featurize BTC: info: done in \d+\.\d\d s, 2 warnings", featurize_log[-1])


def test_a_news_delay_moves_every_item_later(project):
    news_project(project, headlines_csv=HEADLINES)
    edit_params(project, **{"sources.news.delay_seconds": 3600})
    run_stage_in_process(project, "ingest")
    run_stage_in_process(project, "featurize")
    count = pd.read_parquet(project / paths.features("BTC")).set_index("timestamp")["news_all_count_6h"]
    assert count[pd.Timestamp("2024-03-02 06:00", tz="UTC")] == 0 and count[pd.Timestamp("2024-03-02 07:00",
                                                                                      tz="UTC")] == 1


def test_date_only_news_needs_a_source_delay_of_a_day_and_is_then_warned_about(project):
    # Stamped at midnight, a headline of 15:00 would feed the features of 01:00 to 14:00: look-ahead.
    news_project(project, headlines_csv="published_at,title,currencies,positive,negative,id\n" + "".join(
        f"2024-03-0{day},Bitcoin headline {day},BTC,1,0,d{day}\n" for day in (1, 2, 3)))
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "data/raw/events/news: every timestamp is midnight (3 records), likely a date-only export: "
                         "rounded times can put an item in the hour before it happened; if the source is that "
                         "coarse, set sources.news.delay_seconds to at least 86400")
    edit_params(project, **{"sources.news.delay_seconds": 86400})
    assert ("ingest BTC: warning: news: every timestamp is midnight, likely a date-only export; each counts from its "
            "stamp + sources.news.delay_seconds (86400 s), so a day's items count from the next midnight on"
            ) in run_stage_in_process(project, "ingest").stderr


def test_a_whale_alert_source_stamped_to_the_minute_needs_a_delay_of_a_minute(project):
    page = json.dumps({"result": "success", "count": 3, "transactions": [
        {"id": str(number), "timestamp": 1709356200 + 60 * number, "symbol": "btc", "amount": 10,
         "amount_usd": 600_000, "transaction_type": "transfer", "from": {"owner_type": "unknown"},
         "to": {"owner_type": "exchange"}} for number in range(3)]})
    files_project(project, prices=PRICES)
    folder = project / paths.raw_events("onchain")
    folder.mkdir(parents=True)
    (folder / "00001.json").write_text(page)
    edit_params(project, **{"sources.onchain": {"format": "whale_alert", "delay_seconds": 59}})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "data/raw/events/onchain: every timestamp is a whole minute (3 records): rounded times can "
                         "put an item in the hour before it happened; if the source is that coarse, set "
                         "sources.onchain.delay_seconds to at least 60")


@pytest.mark.parametrize("name, text, fragments", [
    ("bad_csv", HEADLINES.replace("2024-03-02T06:20:00Z", "soon"),
     ["data/raw/events/news: bad.csv: line 3: timestamp 'soon' is neither ISO-8601"]),
    ("bad_json", json.dumps({"results": [{"title": "no time"}]}),
     ["data/raw/events/news/bad.json: results[0]: missing field 'published_at'"]),
    ("bad_json", "{\"results\": [", ["data/raw/events/news/bad.json: malformed JSON at line 1"]),
    ("bad_csv", "when,what\n1,2\n", ["data/raw/events/news/bad.csv: no time column"]),
])
def test_a_bad_news_file_stops_ingest_with_one_line_and_writes_nothing(project, name, text, fragments):
    news_project(project, **{name: text})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, *fragments)


def test_with_skip_bad_items_and_unreadable_pages_are_dropped_and_counted(project):
    news_project(project, headlines_csv=HEADLINES.replace("2024-03-02T06:20:00Z", "soon"), page_json="{",
                 more_json=json.dumps(PAGE))
    edit_params(project, **{"data.bad_rows": "skip"})
    result = run_stage_in_process(project, "ingest")
    assert "warning: news: 1 of 3 files in data/raw/events/news skipped (data.bad_rows: skip)" in result.stderr
    assert "warning: news: 1 malformed rows of data/raw/events/news skipped (data.bad_rows: skip): 1 unreadable" \
           in result.stderr
    assert pd.read_parquet(project / paths.events("BTC"))["id"].tolist() == ["a1", "11", "12"]


def test_a_cross_asset_spec_reads_the_other_currencys_ingested_events(project):
    edit_params(project, **{"data.synthetic.hours": 200})
    extra = [{"source": "whales", "currency": "BTC", "filter": "inflow", "agg": "sum", "column": "amount_usd",
              "window": 6},
             {"source": "news", "currency": "BTC", "agg": "count", "window": 6}]
    features = edit_params(project)["features"]
    edit_params(project, features=features + extra)
    for currency in ("BTC", "ETH"):
        run_stage_in_process(project, "ingest", currency)
    for currency in ("BTC", "ETH"):
        run_stage_in_process(project, "featurize", currency)
    btc, eth = (pd.read_parquet(project / paths.features(currency)) for currency in ("BTC", "ETH"))
    pd.testing.assert_series_equal(eth["btc_whale_inflow_sum_amount_usd_6h"],
                                   btc["sum_of_whale_inflows_last_6_hours"], check_names=False)
    pd.testing.assert_series_equal(eth["btc_news_all_count_6h"], btc["news_all_count_6h"], check_names=False)
    assert not eth["btc_news_all_count_6h"].equals(eth["news_all_count_6h"])


def test_a_cross_asset_spec_of_a_currency_not_ingested_is_named(project):
    features = edit_params(project, **{"data.synthetic.hours": 200})["features"]
    edit_params(project, features=features + [{"source": "whales", "currency": "SOL", "agg": "count", "window": 6}])
    run_stage_in_process(project, "ingest")
    result = run_stage_in_process(project, "featurize", check=False)
    assert_clean_failure(result, project, "data/interim/whales/SOL.parquet: not found: feature sol_whale_all_count_6h "
                                          "reads SOL's events, which ingest makes only for the currencies in "
                                          "params.yaml `currencies`", outputs=(paths.FEATURES,))


def test_a_source_of_another_kind_is_params_only(project):
    # Exchange listings as a second source: own column names, a number of its own, no scorer, a delay.
    files_project(project, prices=PRICES)
    folder = project / paths.raw_events("listings")
    folder.mkdir(parents=True)
    (folder / "listings.csv").write_text("when,text,symbol,importance\n"
                                         "2024-03-02T05:10:00Z,BTC listed on a new exchange,BTC,3\n"
                                         "2024-03-02T05:40:00Z,ETH listed,ETH,5\n"
                                         "2024-03-02T06:20:00Z,BTC delisted somewhere,BTC,1\n")
    listings = {"format": "headlines_csv", "market_wide": False, "scorer": "vaderSentiment==3.3.2",
                "delay_seconds": 600, "fields": {"timestamp": "when", "title": "text", "currencies": "symbol"},
                "values": ["importance"]}
    current = edit_params(project, **{"sources.listings": listings})
    edit_params(project, features=current["features"] + [
        {"source": "listings", "agg": "max", "column": "importance", "window": 2, "fill": -1},
        {"source": "listings", "agg": "count", "window": 2}], **{"feature_groups.listings": True})
    run_stage_in_process(project, "ingest")
    run_stage_in_process(project, "featurize")
    table = pd.read_parquet(project / paths.features("BTC")).set_index("timestamp")
    hour = pd.Timedelta(hours=1)
    at = pd.Timestamp("2024-03-02 06:00", tz="UTC")  # 05:10 + 10 min is known at 05:20: rows 06:00 and 07:00
    assert table.loc[[at - hour, at, at + hour, at + 2 * hour, at + 3 * hour], "listings_all_max_importance_2h"
                     ].tolist() == [-1.0, 3.0, 3.0, 1.0, -1.0]
    assert table.loc[[at, at + hour, at + 2 * hour], "listings_all_count_2h"].tolist() == [1, 2, 1]


@pytest.mark.parametrize("extra, problem", [
    ({"sources.second": {"format": "auto", "market_wide": True, "scorer": "none", "delay_seconds": 0}},
     "params.yaml: sources: the sample market has one news stream, 2 sources are declared (news, second); declare "
     "one or use data.source: files"),
    ({"sources.news.values": ["importance"]},
     "params.yaml: sources.news: the sample market's news has no other columns: fields and values need "
     "data.source: files"),
])
def test_the_sample_market_refuses_sources_it_cannot_fill(project, extra, problem):
    edit_params(project, **{"data.synthetic.hours": 100, **extra})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, problem)


def test_a_second_whale_feed_is_a_source_of_format_whale_alert(project):
    # The same Whale Alert page as the built-in whales and as a declared source: the same features, by its name.
    page = json.dumps({"result": "success", "count": 3, "transactions": [
        {"id": str(number), "timestamp": stamp, "symbol": "btc", "amount": 10 * (number + 1),
         "amount_usd": 600_000 * (number + 1), "transaction_type": "transfer", "from": {"owner_type": source},
         "to": {"owner_type": target}}
        for number, (stamp, source, target) in enumerate([(1709356207, "unknown", "exchange"),
                                                          (1709359813, "exchange", "unknown"),
                                                          (1709363429, "unknown", "exchange")])]})
    files_project(project, prices=PRICES, whales=page)
    folder = project / paths.raw_events("onchain")
    folder.mkdir(parents=True)
    (folder / "00001.json").write_text(page)
    current = edit_params(project, **{"sources.onchain": {"format": "whale_alert", "delay_seconds": 0}})
    edit_params(project, features=current["features"] + [
        {"source": "onchain", "filter": "net_inflow", "agg": "sum", "column": "amount_usd", "window": 6},
        {"source": "onchain", "filter": "inflow", "agg": "count", "window": 12, "transaction_type": "any"}],
        **{"feature_groups.onchain": True})
    run_stage_in_process(project, "ingest")
    run_stage_in_process(project, "featurize")
    table = pd.read_parquet(project / paths.features("BTC"))
    assert table["onchain_net_inflow_sum_amount_usd_6h"].abs().sum() > 0
    pd.testing.assert_series_equal(table["onchain_net_inflow_sum_amount_usd_6h"],
                                   table["whale_net_inflow_sum_amount_usd_6h"], check_names=False)
    assert table["onchain_any_inflow_count_12h"].max() == 2  # the two inflows, twelve hours after the first


def test_a_stablecoins_flows_are_a_feature_of_every_currency(project):
    usdt = json.dumps({"result": "success", "count": 2, "transactions": [
        {"id": "u1", "timestamp": 1709356207, "symbol": "usdt", "amount": 5e7, "amount_usd": 5e7,
         "from": {"owner_type": "unknown"}, "to": {"owner_type": "exchange"}},
        {"id": "b1", "timestamp": 1709356307, "symbol": "btc", "amount": 100, "amount_usd": 6e6,
         "from": {"owner_type": "unknown"}, "to": {"owner_type": "exchange"}}]})
    files_project(project, prices=PRICES)
    folder = project / paths.raw_events("stablecoins")
    folder.mkdir(parents=True)
    (folder / "00001.json").write_text(usdt)
    current = edit_params(project, **{"sources.stablecoins": {"format": "whale_alert", "delay_seconds": 0,
                                                              "symbol": "USDT"}})
    edit_params(project, features=current["features"] + [
        {"source": "stablecoins", "filter": "inflow", "agg": "sum", "column": "amount_usd", "window": 3}],
        **{"feature_groups.stablecoins": True})
    run_stage_in_process(project, "ingest")
    run_stage_in_process(project, "featurize")
    inflow = pd.read_parquet(project / paths.features("BTC")).set_index("timestamp")["stablecoins_inflow_sum_amount_usd_3h"]
    # 2024-03-02 05:10:07: rows 06:00 .. 08:00 hold the $50M USDT inflow, and not the BTC record of the same page
    assert inflow[inflow > 0].to_dict() == {pd.Timestamp(f"2024-03-02 {hour:02d}:00", tz="UTC"): 5e7
                                            for hour in (6, 7, 8)}


def test_the_sample_market_has_no_second_whale_feed(project):
    edit_params(project, **{"data.synthetic.hours": 100, "sources": {"onchain": {"format": "whale_alert",
                                                                                 "delay_seconds": 0}}})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "params.yaml: sources.onchain: the sample market's whales are the built-in `whales`; a "
                         "whale_alert source needs data.source: files")
