"""Atomic writes, and the sample-file writers read back by the real readers."""

import pandas as pd
import pyarrow.parquet
import pytest

from conftest import clean_events, clean_market, news_settings, small_market
from whalecast import storage
from whalecast.acquire import sample_files
from whalecast.data import news_items, price_bars, raw_files, whale_transfers


def test_a_failed_write_leaves_neither_the_file_nor_a_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out" / "table.parquet"

    def half_write(frame, path, **options):  # the temporary exists, half written, when the write fails
        path.write_bytes(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_write)
    with pytest.raises(OSError, match="disk full"):
        storage.write_parquet(pd.DataFrame({"a": [1]}), target)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_write_replaces_the_old_file_whole(tmp_path):
    target = tmp_path / "table.parquet"
    storage.write_parquet(pd.DataFrame({"a": [1, 2, 3]}), target)
    storage.write_parquet(pd.DataFrame({"b": [4.0]}), target)
    pd.testing.assert_frame_equal(pd.read_parquet(target), pd.DataFrame({"b": [4.0]}))
    assert [path.name for path in tmp_path.iterdir()] == ["table.parquet"]


def test_a_table_reads_back_the_same_and_keeps_the_range_of_its_numbers_and_times(tmp_path):
    """The min and max that let DuckDB, Polars or a pyarrow filter skip row groups (not kept for text)."""
    target = tmp_path / "table.parquet"
    frame = pd.DataFrame({"timestamp": pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC"),
                          "amount": [3.0, 1.0, 2.0], "owner": pd.Categorical(["b", "a", "b"]), "note": ["x", "y", None]})
    storage.write_parquet(frame, target)
    pd.testing.assert_frame_equal(pd.read_parquet(target), frame)
    row_group = pyarrow.parquet.read_metadata(target).row_group(0)
    ranges = {column.path_in_schema: (column.statistics.min, column.statistics.max)
              for column in map(row_group.column, range(row_group.num_columns))
              if column.statistics is not None and column.statistics.has_min_max}
    assert ranges == {"timestamp": (frame["timestamp"].iloc[0], frame["timestamp"].iloc[-1]), "amount": (1.0, 3.0)}


@pytest.mark.parametrize("writer, name", [(sample_files.write_whales_json, "BTC.json"),
                                          (sample_files.write_whales_csv, "BTC.csv")])
def test_sample_files_read_back_to_the_same_clean_tables(tmp_path, writer, name):
    market = small_market(hours=120)
    expected_prices, expected_whales = clean_market(market)
    sample_files.write_prices_csv(market.prices, tmp_path / "BTC.csv.prices")
    writer(market.whales, tmp_path / name)
    read_whales = whale_transfers.read_whales_json if name.endswith(".json") else raw_files.read_csv
    prices = price_bars.clean_prices(raw_files.read_csv(tmp_path / "BTC.csv.prices"), max_gap_hours=72)
    whales = whale_transfers.clean_whales(read_whales(tmp_path / name), "BTC")
    pd.testing.assert_frame_equal(prices, expected_prices)
    pd.testing.assert_frame_equal(whales, expected_whales, check_dtype=False, check_categorical=False)


def test_sample_news_files_read_back_to_the_same_events_and_market_wide_repeats_are_dropped(tmp_path, caplog):
    btc, eth = small_market(hours=120), small_market(hours=120, currency="ETH")
    for market in (btc, eth):
        sample_files.write_news_csv(market.news, tmp_path / "news" / f"{market.currency}.csv")
    with caplog.at_level("INFO", logger="whalecast"):
        events = news_items.clean_news(news_items.read_news(tmp_path / "news"), "BTC", "news", news_settings())
    pd.testing.assert_frame_equal(events, clean_events(btc))
    market_wide = int((btc.news["currencies"] == "").sum())
    assert market_wide > 20
    assert f"{market_wide} duplicates dropped ({market_wide} with an id seen before" in caplog.text
