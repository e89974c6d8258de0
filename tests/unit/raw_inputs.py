"""Raw price and whale files as the reader tests write them, and the package's log lines they check (shared by
test_raw_files, test_cells, test_price_bars and test_whale_transfers)."""

from whalecast.data import raw_files

HEADER = "timestamp,open,high,low,close,volume\n"
WHALE_HEADER = "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type,id,transaction_type\n"
# Two rows of a Binance kline dump: no header, 12 columns, open and close time in epoch milliseconds.
KLINES = ("1709269200000,1,2,1,2,7,1709272799999,14,3,1,2,0\n"
          "1709272800000,2,3,1,3,6,1709276399999,18,3,1,2,0\n")


def write(tmp_path, text, name="BTC.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def price_table(tmp_path, body, header=HEADER):
    return raw_files.read_csv(write(tmp_path, header + body))


def log_messages(caplog, logger):
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name.startswith(logger)]
