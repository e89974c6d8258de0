"""News items -> one currency's typed events: membership by tags, scores, votes, duplicates, bad rows; the
sources section of params.yaml; and the sample market's news."""

import csv
import io
import logging

import numpy as np
import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from conftest import news_settings, small_market
from whalecast import settings
from whalecast.data import event_sources, news_items, sample_market
from whalecast.errors import InputError
from whalecast.data.raw_files import RawTable

HEADER = "published_at,title,currencies,sentiment,positive,negative,id\n"


def items(tmp_path, body, header=HEADER):
    path = tmp_path / "news.csv"
    path.write_text(header + body)
    return news_items.read_news(path)


def clean(table, currency="BTC", settings=None, skip=False):
    return news_items.clean_news(table, currency, "news", settings or news_settings(), skip_bad_rows=skip)


def messages(caplog, logger="whalecast.data.news_items"):
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name == logger]


def test_an_item_counts_for_the_currencies_it_is_tagged_with_and_untagged_ones_for_all(tmp_path, caplog):
    table = items(tmp_path, "2024-03-01T10:00:00Z,BTC up,BTC,0.5,,,1\n"
                            "2024-03-01T10:05:00Z,ETH and BTC,ETH|BTC,0.1,,,2\n"
                            "2024-03-01T10:10:00Z,ETH only,ETH,-0.5,,,3\n"
                            "2024-03-01T10:15:00Z,market,,0.2,,,4\n")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        btc = clean(table)
    assert btc["id"].tolist() == ["1", "2", "4"] and btc["tagged"].tolist() == [True, True, False]
    assert list(btc.columns) == event_sources.EVENT_COLUMNS and (btc["source"] == "news").all()
    assert str(btc["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert messages(caplog) == [("INFO", f"news: 4 items from {tmp_path / 'news.csv'}, 1 of other currencies skipped, "
                                         "1 with no currency tag counted as market-wide, 0 duplicates dropped (0 with "
                                         "an id seen before, 0 identical items without an id), 0 titles with HTML markup read as text, 0 "
                                         "scored by "
                                         "vaderSentiment==3.3.2, 0 with votes; 3 BTC items kept (ascending; 2 tagged "
                                         "BTC, 1 market-wide)")]
    own_only = clean(table, settings=news_settings(market_wide=False))
    assert own_only["id"].tolist() == ["1", "2"]
    assert clean(table, currency="eth")["id"].tolist() == ["2", "3", "4"]


def test_a_headline_without_a_score_gets_vaders_compound_score(tmp_path, caplog):
    headlines = ["Bitcoin crashes as panic spreads", "Great news: ETF approved, huge win", "Bitcoin trades at 60k"]
    table = items(tmp_path, "".join(f'2024-03-01T1{index}:00:00Z,"{title}",BTC,,,,{index}\n'
                                    for index, title in enumerate(headlines)) + "2024-03-01T14:00:00Z,given,BTC,0.25,,,9\n")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        btc = clean(table)
    analyzer = SentimentIntensityAnalyzer()
    expected = [analyzer.polarity_scores(title)["compound"] for title in headlines]
    assert btc["sentiment"].tolist() == [*expected, 0.25]
    assert expected[0] < -0.3 and expected[1] > 0.3 and expected[2] == 0.0  # the scorer does read the words
    assert "3 scored by vaderSentiment==3.3.2" in messages(caplog)[0][1]


def test_votes_give_a_vote_score_and_no_votes_a_score_of_0(tmp_path):
    table = items(tmp_path, "2024-03-01T10:00:00Z,a,BTC,0,3,1,1\n2024-03-01T11:00:00Z,b,BTC,0,,,2\n"
                            "2024-03-01T12:00:00Z,c,BTC,0,0,4,3\n")
    btc = clean(table)
    assert btc["votes"].tolist() == [4.0, 0.0, 4.0]
    assert btc["vote_score"].tolist() == [0.5, 0.0, -1.0]


def test_duplicates_by_id_and_identical_items_without_one_are_dropped_and_counted(tmp_path, caplog):
    table = items(tmp_path, "2024-03-01T10:00:00Z,a,BTC,0.1,,,7\n"
                            "2024-03-01T10:30:00Z,a edited,BTC,0.2,,,7\n"  # a page fetched again: same id
                            "2024-03-01T11:00:00Z,b,BTC,0.3,,,\n"
                            "2024-03-01T11:00:00Z,b,BTC,0.3,,,\n"  # the same scrape saved twice
                            "2024-03-01T11:00:00Z,b but another,BTC,0.3,,,\n")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        btc = clean(table)
    assert btc["title"].tolist() == ["a", "b", "b but another"]
    assert "2 duplicates dropped (1 with an id seen before, 1 identical items without an id)" in messages(caplog)[0][1]


def test_unsorted_items_are_sorted_and_said_so(tmp_path, caplog):
    table = items(tmp_path, "2024-03-01T12:00:00Z,late,BTC,0.1,,,1\n2024-03-01T10:00:00Z,early,BTC,0.1,,,2\n")
    with caplog.at_level(logging.INFO, logger="whalecast"):
        assert clean(table)["title"].tolist() == ["early", "late"]
    assert "(re-sorted;" in messages(caplog)[0][1]



def test_html_markup_in_a_headline_is_read_as_the_text_it_shows_and_counted(tmp_path, caplog):
    # As written by feeds that pass HTML through, and the text a reader of the page sees.
    written_and_shown = [("<b>Great</b> day for Bitcoin", "Great day for Bitcoin"),
                         ("Investors don&#39;t like Bitcoin", "Investors don't like Bitcoin"),
                         ("Analysts call Bitcoin &quot;great&quot; again", 'Analysts call Bitcoin "great" again'),
                         ("Bitcoin<br>good", "Bitcoin good"),
                         ("Bitcoin&nbsp;good", "Bitcoin good"),
                         ("BTC < 50k & falling", "BTC < 50k & falling")]  # no tag, no entity: as it is
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(
        [f"2024-03-01T1{index}:00:00Z", written, "BTC", "", "", "", index]
        for index, (written, _) in enumerate(written_and_shown))
    with caplog.at_level(logging.INFO, logger="whalecast"):
        btc = clean(items(tmp_path, buffer.getvalue()))
    analyzer = SentimentIntensityAnalyzer()
    shown = [text for _, text in written_and_shown]
    assert btc["title"].tolist() == shown
    assert btc["sentiment"].tolist() == [analyzer.polarity_scores(text)["compound"] for text in shown]
    # The markup did change VADER's reading: the words behind it count now.
    assert [analyzer.polarity_scores(written)["compound"] for written, _ in written_and_shown[:5]] != btc["sentiment"][:5].tolist()
    assert "5 titles with HTML markup read as text, 6 scored by vaderSentiment==3.3.2" in messages(caplog)[-1][1]


def test_an_item_tagged_with_a_cashtag_or_hashtag_is_the_currencys(tmp_path):
    table = items(tmp_path, "2024-03-01T10:00:00Z,a,$BTC,0.1,,,1\n2024-03-01T11:00:00Z,b,#btc|$ETH,0.1,,,2\n"
                            "2024-03-01T12:00:00Z,c,$ETH,0.1,,,3\n")
    btc = clean(table)
    assert btc["id"].tolist() == ["1", "2"] and btc["tagged"].all()


BAD_ITEMS = {
    "unreadable time": ("yesterday,a,BTC,0.1,,,1\n",
                        "line 2: timestamp 'yesterday' is neither ISO-8601 nor epoch seconds/milliseconds/microseconds"),
    "empty time": (",a,BTC,0.1,,,1\n", "line 2: timestamp is empty"),
    "sentiment not a number": ("2024-03-01T10:00:00Z,a,BTC,good,,,1\n", "line 2: sentiment 'good' is not a number"),
    "sentiment out of range": ("2024-03-01T10:00:00Z,a,BTC,75,,,1\n", "line 2: sentiment 75 is outside -1..1"),
    "nothing to score": ("2024-03-01T10:00:00Z,,BTC,,,,1\n", "line 2: no sentiment and an empty title: nothing to score"),
    "negative votes": ("2024-03-01T10:00:00Z,a,BTC,0.1,-2,,1\n", "line 2: positive votes -2 is not a whole number >= 0"),
    "fractional votes": ("2024-03-01T10:00:00Z,a,BTC,0.1,1,0.5,1\n",
                         "line 2: negative votes 0.5 is not a whole number >= 0"),
    "votes not a number": ("2024-03-01T10:00:00Z,a,BTC,0.1,many,,1\n", "line 2: positive 'many' is not a number"),
}


@pytest.mark.parametrize("case", BAD_ITEMS)
def test_a_bad_item_is_named_with_its_line(tmp_path, case):
    body, problem = BAD_ITEMS[case]
    table = items(tmp_path, "2024-03-01T09:00:00Z,fine,BTC,0.1,,,0\n" + body)
    with pytest.raises(InputError) as raised:
        clean(table)
    assert str(raised.value) == f"{tmp_path / 'news.csv'}: {problem.replace('line 2', 'line 3')}"


def test_with_skip_every_bad_item_is_dropped_and_counted_in_one_line(tmp_path, caplog):
    body = "2024-03-01T09:00:00Z,fine,BTC,0.1,,,0\n" + "".join(body for body, _ in BAD_ITEMS.values())
    with caplog.at_level(logging.INFO, logger="whalecast"):
        btc = clean(items(tmp_path, body), skip=True)
    assert btc["title"].tolist() == ["fine"]
    [(level, skipped)] = messages(caplog, "whalecast.data.cells")  # the bad-row counter of every table
    assert skipped.startswith(f"news: {len(BAD_ITEMS)} malformed rows of {tmp_path / 'news.csv'} skipped "
                              "(data.bad_rows: skip): ")


def test_with_scorer_none_an_item_without_a_score_is_a_bad_row(tmp_path):
    table = items(tmp_path, "2024-03-01T10:00:00Z,Bitcoin crashes,BTC,,,,1\n")
    with pytest.raises(InputError, match=r"line 2: no sentiment, and sources.news.scorer is none$"):
        clean(table, settings=news_settings(scorer="none"))


def test_items_of_other_currencies_are_not_checked(tmp_path):
    # One news file serves every currency: a bad ETH item does not stop BTC's ingest.
    table = items(tmp_path, "2024-03-01T10:00:00Z,a,BTC,0.1,,,1\nbad time,b,ETH,0.1,,,2\n")
    assert clean(table)["id"].tolist() == ["1"]
    with pytest.raises(InputError, match="line 3: timestamp 'bad time'"):
        clean(table, currency="ETH")


def test_a_table_without_the_news_columns_is_refused():
    with pytest.raises(InputError, match=r"^somewhere: missing column 'title'$"):
        clean(RawTable(pd.DataFrame({"timestamp": []}), "somewhere"))


# --- params.yaml sources --------------------------------------------------------------------------------------

GOOD_SOURCE = {"format": "auto", "market_wide": True, "scorer": "vaderSentiment==3.3.2", "delay_seconds": 0}


def test_sources_are_read_into_settings_and_may_be_empty():
    declared = event_sources.parse({"news": GOOD_SOURCE, "tweets_2": {**GOOD_SOURCE, "delay_seconds": 90}})
    assert list(declared) == ["news", "tweets_2"]
    assert declared["tweets_2"].delay == pd.Timedelta(seconds=90)
    assert event_sources.parse({}) == {} and event_sources.parse(None) == {}


@pytest.mark.parametrize("raw, problem", [
    ([GOOD_SOURCE], "sources must map each source name to its settings, got"),
    ({"whales": GOOD_SOURCE}, "sources: 'whales' is not a usable source name"),
    ({"News Feed": GOOD_SOURCE}, "sources: 'News Feed' is not a usable source name"),
    ({"news": {**GOOD_SOURCE, "format": "xml"}}, "sources.news.format must be one of auto, headlines_csv, "
                                                 "cryptopanic, whale_alert, got 'xml'"),
    ({"news": {**GOOD_SOURCE, "format": "whale_alert"}}, "sources.news: scorer applies to headlines, not to "
                                                         "whale_alert transfers (set scorer: none)"),
    ({"news": {"format": "whale_alert", "delay_seconds": 0, "values": ["x"]}},
     "sources.news: fields and values apply to CSV files (format headlines_csv or auto), not whale_alert"),
    ({"news": {"format": "auto"}}, "sources.news.delay_seconds is missing"),
    ({"news": {**GOOD_SOURCE, "symbol": "USDT"}}, "sources.news: symbol applies to whale_alert sources and is a "
                                                  "currency code such as USDT, got 'USDT' for format auto"),
    ({"news": {**GOOD_SOURCE, "scorer": "vaderSentiment==3.3.1"}},
     "sources.news: scorer vaderSentiment==3.3.1 is not what is installed (vaderSentiment 3.3.2)"),
    ({"news": {**GOOD_SOURCE, "scorer": "vader"}}, "sources.news: scorer must be none or one of vaderSentiment "
                                                  "pinned as <package>==<version>, got 'vader'"),
    ({"news": {**GOOD_SOURCE, "delay_seconds": -1}}, "sources.news.delay_seconds must be in 0..2592000 (30 days), "
                                                      "got -1"),
    ({"news": {**GOOD_SOURCE, "market_wide": "yes"}}, "sources.news.market_wide must be bool, got 'yes'"),
    ({"news": {**GOOD_SOURCE, "path": "x"}}, "sources.news.path is not a setting"),
])
def test_a_bad_source_is_named(raw, problem):
    with pytest.raises(InputError) as raised:
        event_sources.parse(raw)
    assert str(raised.value).startswith(f"params.yaml: {problem}")


# --- the sample market's news -----------------------------------------------------------------------------------

def test_news_comes_from_streams_of_its_own_so_without_an_effect_prices_and_whales_do_not_change():
    quiet = small_market(hours=300, news_per_day=0, market_wide_news_per_day=0)
    busy = small_market(hours=300, news_per_day=48, market_wide_news_per_day=24, news_effect=0.0)
    assert quiet.news.empty and len(busy.news) > 300
    pd.testing.assert_frame_equal(quiet.prices, busy.prices)
    pd.testing.assert_frame_equal(quiet.whales, busy.whales)
    moved = small_market(hours=300, news_per_day=48, market_wide_news_per_day=24, news_effect=0.3)
    assert not moved.prices["close"].equals(busy.prices["close"])
    pd.testing.assert_frame_equal(moved.whales.drop(columns="amount"), busy.whales.drop(columns="amount"))


def test_market_wide_items_are_the_same_for_every_currency_and_own_items_carry_the_tag():
    btc, eth = (small_market(hours=300, currency=currency) for currency in ("BTC", "ETH"))
    market_wide = [market.news[market.news["currencies"] == ""].reset_index(drop=True) for market in (btc, eth)]
    assert len(market_wide[0]) > 50
    pd.testing.assert_frame_equal(*market_wide)
    assert set(btc.news["currencies"]) == {"BTC", ""} and set(eth.news["currencies"]) == {"ETH", ""}


def test_own_items_cluster_in_volatile_hours_and_headlines_follow_the_score():
    market = small_market(hours=24 * 120, seed=5, news_effect=0.0)
    own = market.news[market.news["currencies"] == "BTC"]
    per_hour = own.groupby(own["timestamp"].dt.floor("h")).size().reindex(market.prices["timestamp"], fill_value=0)
    abs_return = np.abs(np.log(market.prices["close"] / market.prices["open"])).to_numpy()
    assert np.corrcoef(per_hour.to_numpy(), abs_return)[0, 1] > 0.1
    bullish = own["title"].str.contains("|".join(sample_market.POSITIVE_WORDS))
    assert (own.loc[bullish, "sentiment"] > 0.2).all() and (own.loc[~bullish, "sentiment"] <= 0.2).all()


def next_hour_return_vs_sentiment(market):
    """Correlation of each bar's return with the summed sentiment of the items of the six hours before it."""
    bar = ((market.news["timestamp"] - market.prices["timestamp"].iloc[0]) // pd.Timedelta(hours=1)).to_numpy()
    per_bar = np.bincount(bar, weights=market.news["sentiment"], minlength=len(market.prices))
    before = np.convolve(per_bar, np.ones(6))[:len(per_bar)]
    returns = np.log(market.prices["close"] / market.prices["open"]).to_numpy()
    return np.corrcoef(before[6:-1], returns[7:])[0, 1]


def test_the_planted_news_effect_is_there_only_when_asked_for():
    planted = next_hour_return_vs_sentiment(small_market(hours=24 * 365, seed=4, whale_effect=0.0, news_effect=0.3))
    absent = next_hour_return_vs_sentiment(small_market(hours=24 * 365, seed=4, whale_effect=0.0, news_effect=0.0))
    assert planted > 0.15 and abs(absent) < 0.03


# --- a source of another kind: its own column names and numbers ------------------------------------------------

ANNOUNCEMENTS = event_sources.SourceSettings(format="headlines_csv", market_wide=False, scorer="none", delay_seconds=0,
                                       fields={"timestamp": "When", "title": "text", "currencies": "symbol",
                                               "sentiment": "tone"},
                                       values=["importance"])


def test_a_source_names_its_own_columns_and_keeps_its_numbers(tmp_path):
    path = tmp_path / "listings.csv"
    # `date` and `title` would be found by their usual names; the source's fields say which columns mean what.
    path.write_text("when,date,title,text,symbol,tone,importance\n"
                    "2024-03-01T10:00:00Z,2020-01-01,ignored,BTC listed on a new exchange,BTC,0.4,3\n"
                    "2024-03-01T11:00:00Z,2020-01-01,ignored,ETH delisted,ETH,-0.6,5\n")
    table = news_items.read_news(path, "headlines_csv", fields=ANNOUNCEMENTS.fields, values=ANNOUNCEMENTS.values)
    btc = news_items.clean_news(table, "BTC", "listings", ANNOUNCEMENTS)
    assert btc[["title", "sentiment", "importance"]].to_dict("records") == [
        {"title": "BTC listed on a new exchange", "sentiment": 0.4, "importance": 3.0}]
    assert btc["timestamp"].tolist() == [pd.Timestamp("2024-03-01 10:00", tz="UTC")]
    assert list(btc.columns) == [*event_sources.EVENT_COLUMNS, "importance"]


def test_a_value_that_is_not_a_number_is_a_bad_row_and_a_named_column_must_exist(tmp_path):
    path = tmp_path / "listings.csv"
    path.write_text("when,text,symbol,tone,importance\n2024-03-01T10:00:00Z,a,BTC,0.1,high\n")
    table = news_items.read_news(path, fields=ANNOUNCEMENTS.fields, values=ANNOUNCEMENTS.values)
    with pytest.raises(InputError, match=r"line 2: importance 'high' is not a number$"):
        news_items.clean_news(table, "BTC", "listings", ANNOUNCEMENTS)
    path.write_text("when,text,symbol,tone\n2024-03-01T10:00:00Z,a,BTC,0.1\n")
    with pytest.raises(InputError) as raised:
        news_items.read_news(path, fields=ANNOUNCEMENTS.fields, values=ANNOUNCEMENTS.values)
    assert str(raised.value) == (f"{path}: no column 'importance', which the source's fields or values name (have: "
                                 "when, text, symbol, tone)")


@pytest.mark.parametrize("raw, problem", [
    ({**GOOD_SOURCE, "fields": {"time": "when"}}, "fields maps timestamp, title, currencies, sentiment, positive, "
                                                  "negative, id, publisher to a column name each, got 'time': 'when'"),
    ({**GOOD_SOURCE, "values": ["sentiment"]}, "values must be lower-case column names other than source, "),
    ({**GOOD_SOURCE, "values": ["Importance"]}, "values must be lower-case column names"),
    ({**GOOD_SOURCE, "format": "cryptopanic", "values": ["x"]}, "fields and values apply to CSV files"),
    ({**GOOD_SOURCE, "values": "importance"}, "sources.news.values must be list"),
])
def test_bad_fields_and_values_are_named(raw, problem):
    with pytest.raises(InputError) as raised:
        event_sources.parse({"news": raw})
    assert problem in str(raised.value)


def test_settings_added_later_may_be_left_out_of_params_and_others_may_not():
    assert event_sources.parse({"news": GOOD_SOURCE})["news"].values == []
    without_news_rates = {"seed": 1, "start": "2024-01-01", "hours": 10, "whale_transfers_per_day": 1,
                          "whale_effect": 0}
    assert settings.build(sample_market.MarketSettings, without_news_rates, "data.synthetic").news_effect == 0.0
    no_effect = {key: value for key, value in without_news_rates.items() if key != "whale_effect"}
    with pytest.raises(InputError, match=r"^params.yaml: data.synthetic.whale_effect is missing$"):
        settings.build(sample_market.MarketSettings, no_effect, "data.synthetic")
