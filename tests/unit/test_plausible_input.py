"""Input that is wrong but looks right (issue 12): refused with one line naming file, row and problem, or
warned about under a `warning:` tag; and the stage machinery (params, logs, interrupted runs, process settings)
around it."""

import json
import os
import platform
import shutil
import signal
import subprocess
import sys

import pandas as pd
import pytest

from conftest import (GOOD_PRICES, REPO, assert_clean_failure, clean_market, edit_params, files_project, run,
                      run_stage_in_process, small_market)
from whalecast import paths, settings
from whalecast.acquire import sample_files
from whalecast.data import clean, price_bars, raw_files, whale_transfers
from whalecast.features import feature_specs, feature_table
from whalecast.modeling import scaling
from whalecast.errors import InputError

# --- params ----------------------------------------------------------------------------------------------


def test_numbers_in_exponent_notation_are_numbers(tmp_path):
    # YAML 1.2 (and DVC, which writes params with ruamel.yaml) reads 1e-3 as a number; PyYAML's YAML 1.1 did not.
    path = tmp_path / "params.yaml"
    path.write_text("model:\n  learning_rate: 1e-3\n  big: 2E+6\n  text: 1e-3x\n  version: '1e3'\n")
    loaded = settings.read(path)
    assert loaded["model"] == {"learning_rate": 0.001, "big": 2e6, "text": "1e-3x", "version": "1e3"}


def test_a_learning_rate_in_exponent_notation_reaches_the_optimizer(project):
    from whalecast.modeling import lstm

    # Not 1e-3: that is also Adam's default, which a model ignoring the setting would have too.
    text = (project / "params.yaml").read_text().replace("learning_rate: 0.001", "learning_rate: 5e-4")
    assert "\n  learning_rate: 5e-4\n" in text
    (project / "params.yaml").write_text(text)
    model = lstm.build_model(6, 2, settings.load(lstm.ModelSettings, settings.read(project / "params.yaml")))
    assert float(model.optimizer.learning_rate) == pytest.approx(5e-4)


def test_a_huge_report_delay_is_named_with_its_range(project):
    edit_params(project, whale_report_delay_seconds=1.0e12)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "params.yaml: whale_report_delay_seconds must be in 0..2592000 (30 days), got 1e+12")


def test_a_price_path_that_is_a_directory_is_named(project):
    files_project(project, prices=None)
    (project / paths.raw_prices("BTC")).mkdir(parents=True)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         "data/raw/prices/BTC.csv: is a directory, not a file")


# --- logs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_setting, advised", [(None, False), ("1", True)])
def test_numpy_asks_for_no_huge_pages_in_a_whalecast_process_unless_the_user_says(tmp_path, monkeypatch, user_setting,
                                                                                     advised):
    """whalecast sets NUMPY_MADVISE_HUGEPAGE=0 before NumPy is imported (see whalecast/__init__.py); a value in the
    environment wins."""
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    if user_setting:
        monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", user_setting)
    probe = "import whalecast, numpy._core.multiarray as arrays; print(arrays._get_madvise_hugepage())"
    assert run([sys.executable, "-c", probe], tmp_path).stdout.strip() == str(advised)


X86_64 = platform.machine() in ("x86_64", "AMD64")
# What a whalecast process asks of NumPy's CPU dispatch, and what NumPy then reports: its build's dispatch targets
# (lowest first) and which of them it uses on this machine. argv[1], when given, is the machine whalecast sees.
NUMPY_CPU_REPORT = """
import json, os, platform, sys
if len(sys.argv) > 1:
    platform.machine = lambda: sys.argv[1]
import whalecast
from numpy._core import _multiarray_umath as numpy_build
print(json.dumps({"asked": os.environ.get("NPY_DISABLE_CPU_FEATURES"), "dispatch": numpy_build.__cpu_dispatch__,
                  "used": numpy_build.__cpu_features__}))
"""


def numpy_cpu_report(directory, monkeypatch, machine=None, **user_settings):
    for name in ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES"):
        monkeypatch.delenv(name, raising=False)
    for name, value in user_settings.items():
        monkeypatch.setenv(name, value)
    return json.loads(run([sys.executable, "-c", NUMPY_CPU_REPORT, *filter(None, [machine])], directory).stdout)


@pytest.mark.skipif(not X86_64, reason="NumPy's x86-64 dispatch targets")
def test_numpy_uses_no_kernel_above_avx2_in_a_whalecast_process(tmp_path, monkeypatch):
    """whalecast turns off NumPy's dispatch targets above x86-64-v3 (AVX2, FMA3) before NumPy is imported (see
    whalecast/__init__.py), so that an AVX-512 machine computes as an AVX2 one. On a machine without AVX-512 NumPy
    reports those targets unused either way: there this sees only that whalecast asks for every one of them (a
    NumPy with a new target fails it); that NumPy honours the request shows only on an AVX-512 machine."""
    report = numpy_cpu_report(tmp_path, monkeypatch)
    above_avx2 = report["dispatch"][report["dispatch"].index("X86_V3") + 1:]
    assert sorted((report["asked"] or "").split()) == sorted(above_avx2)
    assert not any(report["used"][target] for target in above_avx2)
    assert report["used"]["X86_V3"] == report["used"]["AVX2"]  # the AVX2 kernels stay on


@pytest.mark.skipif(not X86_64, reason="NumPy's x86-64 dispatch targets")
@pytest.mark.parametrize("variable", ["NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES"])
def test_the_users_own_numpy_cpu_setting_wins(tmp_path, monkeypatch, variable):
    """A user's NPY_DISABLE_CPU_FEATURES replaces whalecast's; with NPY_ENABLE_CPU_FEATURES set whalecast sets
    nothing (NumPy refuses to import with both)."""
    report = numpy_cpu_report(tmp_path, monkeypatch, **{variable: "X86_V3"})
    assert report["used"]["X86_V3"] == (variable == "NPY_ENABLE_CPU_FEATURES")


def test_whalecast_leaves_numpys_cpu_dispatch_alone_off_x86_64(tmp_path, monkeypatch):
    """Elsewhere the x86 names would only earn an ImportWarning (an error under -W error)."""
    assert numpy_cpu_report(tmp_path, monkeypatch, machine="aarch64")["asked"] is None


def test_python_warnings_are_logged_as_warnings_and_counted_before_an_error(project):
    script = ("import warnings, sys; sys.argv = ['stages/check.py', 'BTC']\n"
              "from whalecast import stage\n"
              "from whalecast.errors import InputError\n"
              "def main(currency):\n"
              "    warnings.warn('something odd', RuntimeWarning)\n"
              "    raise InputError('some.csv', 'line 3: bad')\n"
              "stage.run(main)\n")
    result = run([sys.executable, "-c", script], cwd=project, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode == 1
    assert lines[0].startswith("check BTC: warning: ") and "RuntimeWarning: something odd" in lines[0]
    assert lines[-2:] == ["check BTC: info: 1 warning", "check BTC: error: some.csv: line 3: bad"]


# --- interrupted runs ------------------------------------------------------------------------------------

# The ingest stage, run with a signal sent to itself right after the first call of `patched` (a function the
# stage calls once per output).
INTERRUPTED_INGEST = """
import os, signal, sys
sys.argv = ["stages/ingest.py", "BTC"]
sys.path.insert(0, "stages")
import ingest
from whalecast import stage, storage
original = {patched}
def then_signal(*arguments):
    original(*arguments)
    os.kill(os.getpid(), signal.{name})
{patched} = then_signal
stage.run(ingest.main)
"""


def interrupted_ingest(project, patched: str, name: str):
    """Ingest run once, then again on changed params with a signal after the first `patched` call: the
    second run's result, the two outputs, and their bytes after the first run."""
    edit_params(project, **{"data.synthetic.hours": 200})
    run_stage_in_process(project, "ingest")
    outputs = [project / paths.prices("BTC"), project / paths.whales("BTC")]
    before = [path.read_bytes() for path in outputs]
    edit_params(project, **{"data.synthetic.seed": 5})
    result = subprocess.run([sys.executable, "-c", INTERRUPTED_INGEST.format(patched=patched, name=name)],
                            cwd=project, env={**os.environ, "PYTHONPATH": "src"}, capture_output=True, text=True,
                            timeout=120)
    return result, outputs, before


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM"])
def test_a_signal_between_two_writes_leaves_the_old_outputs(project, name):
    result, outputs, before = interrupted_ingest(project, "storage.write_parquet", name)
    assert result.returncode == 128 + getattr(signal, name), result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-2:] == ["ingest BTC: info: 0 warnings",
                                               f"ingest BTC: error: interrupted ({name}); outputs left as they were"]
    assert [path.read_bytes() for path in outputs] == before
    leftovers = [path.name for output in outputs for path in output.parent.iterdir() if path not in outputs]
    assert not leftovers


def test_outputs_of_a_stage_are_replaced_together(tmp_path):
    from whalecast import storage

    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    storage.write_text("old a", first), storage.write_text("old b", second)
    with pytest.raises(RuntimeError), storage.outputs_together():
        storage.write_text("new a", first)
        assert first.read_text() == "old a"  # not yet: the stage has not finished
        raise RuntimeError("the stage fails after its first write")
    assert (first.read_text(), second.read_text()) == ("old a", "old b")
    with storage.outputs_together():
        storage.write_text("new a", first)
        storage.write_text("new b", second)
    assert (first.read_text(), second.read_text()) == ("new a", "new b")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.txt", "b.txt"]


# --- whale records: duplicates (1c) ----------------------------------------------------------------------

def whale_record(id_=None, symbol="eth", amount=100, amount_usd=300000, hash_="0xabc", timestamp=1709254855,
                 source="unknown", target="exchange"):
    record = {"blockchain": "ethereum", "symbol": symbol, "hash": hash_, "timestamp": timestamp, "amount": amount,
              "amount_usd": amount_usd, "transaction_type": "transfer", "from": {"owner_type": source},
              "to": {"owner": "binance", "owner_type": target}}
    return {"id": id_, **record} if id_ is not None else record


def write_json(path, transactions):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"result": "success", "count": len(transactions), "transactions": transactions}))
    return path


def test_two_transfers_of_one_transaction_with_equal_amounts_are_two_records(tmp_path, caplog):
    path = write_json(tmp_path / "ETH.json", [whale_record("1"), whale_record("2")])
    with caplog.at_level("INFO"):
        whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "ETH")
    assert len(whales) == 2 and whales["id"].tolist() == ["1", "2"]
    assert "0 duplicates dropped" in caplog.text


def test_a_record_seen_again_is_dropped_by_id_and_counted(tmp_path, caplog):
    path = write_json(tmp_path / "ETH.json", [whale_record("1"), whale_record("1"), whale_record("2", amount=5)])
    with caplog.at_level("INFO"):
        whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "ETH")
    assert whales["id"].tolist() == ["1", "2"]
    assert "1 duplicates dropped (1 with an id seen before, 0 identical records without an id)" in caplog.text


def test_without_ids_only_identical_records_are_duplicates(tmp_path, caplog):
    path = write_json(tmp_path / "ETH.json", [whale_record(), whale_record(), whale_record(amount=5)])
    with caplog.at_level("INFO"):
        whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "ETH")
    assert whales["amount"].tolist() == [100, 5]
    assert "1 duplicates dropped (0 with an id seen before, 1 identical records without an id)" in caplog.text


def test_pages_keep_a_transfer_whose_transaction_also_carries_another_symbol(tmp_path, caplog):
    # Page 2 repeats page 1's last record (cursor overlap) and has a USDT record of the same on-chain transaction.
    write_json(tmp_path / "ETH" / "00001.json", [whale_record("7", amount=1), whale_record("8")])
    write_json(tmp_path / "ETH" / "00002.json", [whale_record("9", symbol="usdt"), whale_record("8"),
                                                 whale_record("10", hash_="0xdef")])
    with caplog.at_level("INFO"):
        whales = whale_transfers.clean_whales(whale_transfers.read_whale_pages(tmp_path / "ETH"), "ETH")
    assert whales["id"].tolist() == ["7", "8", "10"]
    assert "1 duplicates dropped (1 with an id seen before" in caplog.text


# --- whale timestamps that lost precision (1a) ------------------------------------------------------------

WHALE_CSV_HEADER = "timestamp,symbol,amount,amount_usd,from_owner_type,to_owner_type\n"


def test_epochs_in_scientific_notation_are_refused(project):
    files_project(project, whales_name="BTC.csv", whales=WHALE_CSV_HEADER
                  + "1709254855000,btc,1,600000,unknown,exchange\n1.70925E+12,btc,1,600000,unknown,exchange\n")
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/whales/BTC.csv",
                         "line 3: timestamp '1.70925E+12' is in scientific notation")


@pytest.mark.parametrize("step, described, delay", [(60, "a whole minute", 60), (3600, "a whole hour", 3600),
                                                     (10_000, "a multiple of 10000 s", 10_000)])
def test_whale_timestamps_rounded_to_a_minute_or_more_need_a_report_delay(project, step, described, delay):
    times = [1709254800 // step * step + step * k for k in (1, 4, 9)]  # multiples of step, and of no more
    files_project(project, whales=json.dumps({"result": "success", "count": 3, "transactions": [
        whale_record(str(k), symbol="btc", timestamp=time) for k, time in enumerate(times)]}))
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/whales/BTC.json",
                         f"every timestamp is {described}", f"whale_report_delay_seconds to at least {delay}")
    edit_params(project, whale_report_delay_seconds=delay)
    assert "every timestamp is" in run_stage_in_process(project, "ingest").stderr  # still said, as info


def test_a_few_whole_minute_timestamps_are_not_taken_for_rounding(tmp_path):
    path = write_json(tmp_path / "BTC.json", [whale_record("1", symbol="btc", timestamp=1709254800),
                                              whale_record("2", symbol="btc", timestamp=1709254860)])
    assert len(whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC")) == 2


# --- parse errors that name the real problem (1g) --------------------------------------------------------

def test_semicolons_with_comma_decimals_are_named(project):
    text = GOOD_PRICES.replace(",", ";").replace("100.5", "100,5")
    files_project(project, prices=text)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv",
                         "looks like `;`-separated with `,` decimals")


def test_a_tab_separated_file_is_named(project):
    files_project(project, prices=GOOD_PRICES.replace(",", "\t"))
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv",
                         "looks tab-separated")


def test_excel_serial_dates_are_named(project):
    text = "timestamp,open,high,low,close,volume\n" + "".join(
        f"{45352 + hour / 24:.6f},100,101,99,100.5,10\n" for hour in range(5))
    files_project(project, prices=text)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv",
                         "line 2: timestamp '45352.000000' looks like an Excel serial date (2024-03-01 00:00)")


def test_a_quoted_field_spanning_lines_keeps_row_numbers_as_an_editor_shows_them(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text(WHALE_CSV_HEADER.replace("\n", ",note\n")
                    + '2024-03-01T05:10:07Z,BTC,10,600000,exchange,unknown,"a note\nover\nthree lines"\n'
                    + "2024-03-01T05:20:07Z,btc,12,lots,unknown,exchange,x\n")
    with pytest.raises(InputError, match="line 5: amount_usd 'lots' is not a number"):
        whale_transfers.clean_whales(raw_files.read_csv(path), "BTC")


@pytest.mark.parametrize("owner_type", [None, ""])
def test_a_null_owner_type_is_a_bad_row(tmp_path, caplog, owner_type):
    records = [whale_record("1", symbol="btc"), whale_record("2", symbol="btc", target=owner_type)]
    path = write_json(tmp_path / "BTC.json", records)
    with pytest.raises(InputError, match=r"BTC.json: transactions\[1\]: to_owner_type is empty"):
        whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC")
    with caplog.at_level("INFO"):
        whales = whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC", skip_bad_rows=True)
    assert whales["id"].tolist() == ["1"]
    assert "1 malformed rows" in caplog.text and "1 empty to_owner_type" in caplog.text


# --- time zones (1f) -------------------------------------------------------------------------------------

def price_csv(timestamps) -> str:
    """Hourly bars at these timestamps, each with its own volume (as real bars have)."""
    return "timestamp,open,high,low,close,volume\n" + "".join(
        f"{time},100,101,99,100.5,{10 + row}\n" for row, time in enumerate(timestamps))


@pytest.mark.parametrize("written", ["2024-03-01T14:00:00+02:00", "2024-03-01 14:00:00+0200", "2024-03-01T12:00:00Z",
                                     "2024-03-01 13:00:00 Europe/Berlin", "2024-03-01 12:00:00 UTC",
                                     "2024-03-01 07:00:00 America/New_York"])
def test_a_timestamp_with_an_offset_or_zone_name_is_converted_to_utc(tmp_path, written):
    path = tmp_path / "BTC.csv"
    path.write_text(price_csv([written]))
    bars = price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)
    assert bars["timestamp"].tolist() == [pd.Timestamp("2024-03-01 12:00", tz="UTC")]


def test_an_unknown_zone_name_is_named(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text(price_csv(["2024-03-01 13:00:00 Mars/Olympus"]))
    with pytest.raises(InputError, match="line 2: timestamp '2024-03-01 13:00:00 Mars/Olympus' names an unknown "
                                         "time zone 'Mars/Olympus'"):
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)


def local_clock(zone: str, start: str, hours: int) -> list[str]:
    """Hourly bars as an export in local time writes them: wall-clock labels without an offset."""
    utc = pd.date_range(start, periods=hours, freq="h", tz="UTC")
    return [f"{time:%Y-%m-%d %H:%M:%S}" for time in utc.tz_convert(zone)]


@pytest.mark.parametrize("zone, start, hours, named", [
    ("Europe/Berlin", "2024-03-30", 48, "2024-03-31 02:00 is missing"),
    ("Europe/Berlin", "2024-10-26", 48, "2024-10-27 02:00 appears twice"),
    ("America/New_York", "2024-03-09", 48, "2024-03-10 02:00 is missing"),
    ("Europe/London", "2024-03-30", 24 * 220, "2024-03-31 01:00 is missing and 2024-10-27 01:00 appears twice"),
])
def test_an_hourly_file_in_local_time_is_refused(project, zone, start, hours, named):
    files_project(project, prices=price_csv(local_clock(zone, start, hours)))
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv",
                         "looks like local time, not UTC", named, zone)


def test_a_utc_file_with_an_outage_is_not_taken_for_local_time(tmp_path):
    utc = pd.date_range("2024-03-30", periods=48, freq="h")
    path = tmp_path / "BTC.csv"
    path.write_text(price_csv([f"{time:%Y-%m-%d %H:%M:%S}" for time in utc if time != pd.Timestamp("2024-03-31 05:00")]))
    assert price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=2)["filled"].sum() == 1


# --- feature specs that match nothing (1b) ---------------------------------------------------------------

def test_a_transaction_type_no_record_has_is_refused_listing_the_types_present():
    prices, whales = clean_market(small_market(hours=100))
    whales["transaction_type"] = whales["transaction_type"].cat.add_categories(["mint"])  # categorical, as ingest writes
    whales.loc[whales.index[:3], "transaction_type"] = "mint"
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 2, "transaction_type": "transfers"}])
    with pytest.raises(InputError, match=r"params.yaml: feature whale_transfers_all_count_2h: transaction_type "
                                         r"'transfers' matches no whale record and is no Whale Alert type \(types in "
                                         r"the data: transfer \d+, mint 3\)"):
        feature_table.build_feature_table(prices, whales, specs)
    for present in ("mint", "any"):
        specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 2, "transaction_type": present}])
        assert feature_table.build_feature_table(prices, whales, specs).iloc[:, 1].sum() > 0


def test_a_feature_constant_over_the_training_rows_is_warned_about_by_name(caplog):
    frame = pd.DataFrame({"moves": [1.0, 2.0, 4.0], "never_fires": [0.0, 0.0, 0.0], "always_one": [1.0, 1.0, 1.0]})
    settings = scaling.ScalingSettings(signed_log_columns=[])
    with caplog.at_level("INFO", logger="whalecast"):
        scaling.Scaler.fit(frame, list(frame.columns), settings)
    warned = [record for record in caplog.records if record.levelname == "WARNING"]
    assert len(warned) == 1 and "2 features constant over the training part" in warned[0].message
    assert "never_fires (0)" in warned[0].message and "always_one (1)" in warned[0].message
    assert "moves" not in warned[0].message


# --- whale records that barely overlap the prices (1e) ---------------------------------------------------

def test_whales_mostly_outside_the_price_range_are_warned_about_naming_both_ranges(caplog):
    prices, whales = clean_market(small_market(hours=100))
    later = whales.assign(timestamp=whales["timestamp"] + pd.Timedelta(days=30))
    mostly_later = pd.concat([whales.iloc[:1], later.iloc[1:]])
    with caplog.at_level("INFO", logger="whalecast"):
        clean.check_overlap(prices, whales, "data/raw/whales/BTC.json", warn_share=0.9)
        assert not [record for record in caplog.records if record.levelname == "WARNING"]
        clean.check_overlap(prices, mostly_later, "data/raw/whales/BTC.json", warn_share=0.9)
    warned = [record.message for record in caplog.records if record.levelname == "WARNING"]
    assert len(warned) == 1 and f"{len(whales) - 1} of {len(whales)} whale records" in warned[0]
    assert "data/raw/whales/BTC.json" in warned[0]
    assert "prices 2024-01-01 00:00 .. 2024-01-05 04:00" in warned[0]
    assert f"whales {mostly_later['timestamp'].min():%Y-%m-%d %H:%M} .. " in warned[0]


def test_a_whale_file_of_another_currency_is_warned_about(tmp_path, caplog):
    path = write_json(tmp_path / "BTC.json", [whale_record("1"), whale_record("2")])  # ETH records
    with caplog.at_level("INFO", logger="whalecast"):
        assert whale_transfers.clean_whales(whale_transfers.read_whales_json(path), "BTC").empty
    warned = [record.message for record in caplog.records if record.levelname == "WARNING"]
    assert warned == [f"whales: none of the 2 records of {path} is BTC (symbols: ETH 2); is it another currency's file?"]


@pytest.mark.parametrize("key, value", [("warn_whales_outside_prices", 1.5), ("max_filled_share", -0.01),
                                        ("max_filled_share", 1.01)])
def test_the_shares_are_checked_params(project, key, value):
    edit_params(project, **{f"data.{key}": value})
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project,
                         f"params.yaml: data.{key} must be a share in 0..1, got {value}")


# --- linked data folders (1d) ----------------------------------------------------------------------------

@pytest.fixture
def linked_repo(tmp_path):
    """A git + DVC repository whose data/raw/prices is a link to a folder kept elsewhere."""
    from conftest import commit, copy_project

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    market = small_market(hours=120)
    sample_files.write_prices_csv(market.prices, elsewhere / "BTC.csv")
    project = copy_project(tmp_path / "project")
    sample_files.write_whales_json(market.whales, project / paths.raw_whales_json("BTC"))
    shutil.rmtree(project / "data/raw/prices", ignore_errors=True)
    (project / "data/raw/prices").symlink_to(elsewhere, target_is_directory=True)
    edit_params(project, **{"currencies": ["BTC"], "data.source": "files"})
    run(["git", "init", "-q"], project)
    commit(project, "linked")
    return project, elsewhere


def test_a_change_behind_a_linked_prices_folder_is_seen_by_dvc(linked_repo):
    project, elsewhere = linked_repo
    run(["dvc", "repro", "ingest@BTC"], project)
    assert "ingest@BTC" not in run(["dvc", "status", "ingest@BTC"], project).stdout
    lines = (elsewhere / "BTC.csv").read_text().splitlines(keepends=True)
    (elsewhere / "BTC.csv").write_text("".join(lines[:-5]))
    assert "modified:           data/raw/prices" in run(["dvc", "status", "ingest@BTC"], project).stdout


def test_a_linked_folder_inside_the_raw_folders_is_refused(project, tmp_path):
    files_project(project, prices=None)
    (tmp_path / "monthly").mkdir()
    (tmp_path / "monthly" / "2024-03.csv").write_text(GOOD_PRICES)
    (project / paths.raw_prices_dir("BTC")).symlink_to(tmp_path / "monthly", target_is_directory=True)
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC: a linked folder",
                         "DVC does not follow", "link data/raw/prices itself")


# --- second reading: edge cases --------------------------------------------------------------------------

def test_a_signal_during_the_renames_lets_them_finish_and_says_so(project):
    result, outputs, before = interrupted_ingest(project, "storage.os.replace", "SIGINT")
    assert result.returncode == 130, result.stderr
    assert result.stderr.splitlines()[-1] == ("ingest BTC: error: interrupted (SIGINT) while the outputs were "
                                              "replaced; all of them are new")
    assert all(path.read_bytes() != old for path, old in zip(outputs, before))


def test_an_appended_copy_of_a_utc_file_is_not_taken_for_local_time(tmp_path):
    times = [f"{time:%Y-%m-%d %H:%M:%S}" for time in pd.date_range("2024-10-26", periods=48, freq="h")]
    path = tmp_path / "BTC.csv"
    rows = price_csv(times).splitlines(keepends=True)
    path.write_text("".join(rows + rows[21:31]))  # the same rows again
    assert len(price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)) == 48


def test_a_file_of_only_bad_rows_without_zones_is_still_a_one_line_error(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text(price_csv(["2024-03-01 00:00:00", "2024-03-01 01:00:00"]).replace(",99,", ",-99,"))
    with pytest.raises(InputError, match="no valid data rows"):
        price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0, skip_bad_rows=True)


def test_a_z_after_a_space_is_utc(tmp_path):
    path = tmp_path / "BTC.csv"
    path.write_text(price_csv(["2024-03-01 12:00:00 Z"]))
    assert price_bars.clean_prices(raw_files.read_csv(path), max_gap_hours=0)["timestamp"].tolist() == [
        pd.Timestamp("2024-03-01 12:00", tz="UTC")]


def test_a_known_type_one_currency_lacks_is_a_warning_not_an_error(caplog):
    # One features list serves every currency: mints are ETH's and USDT's, not BTC's.
    prices, whales = clean_market(small_market(hours=100))
    specs = feature_specs.parse_specs([{"source": "whales", "agg": "count", "window": 2, "transaction_type": "mint"}])
    with caplog.at_level("INFO", logger="whalecast"):
        table = feature_table.build_feature_table(prices, whales, specs)
    assert (table["whale_mint_all_count_2h"] == 0).all()
    warned = [record.message for record in caplog.records if record.levelname == "WARNING"]
    assert any("feature whale_mint_all_count_2h: no whale record is a mint" in message for message in warned)


def test_a_price_file_of_one_bar_is_a_one_line_error(project):
    files_project(project, prices="timestamp,open,high,low,close,volume\n2024-03-01T00:00:00Z,100,101,99,100.5,10\n")
    assert_clean_failure(run_stage_in_process(project, "ingest", check=False), project, "data/raw/prices/BTC.csv",
                         "no price bars left")


@pytest.mark.parametrize("retry_after", ["nan", "inf"])
def test_a_retry_after_that_is_not_a_finite_number_is_no_wait(retry_after):
    from whalecast.acquire import backoff

    assert backoff.wait_seconds({"Retry-After": retry_after}, 4, "page 1", "HTTP 429") == 4


# --- input whose content contradicts where it was put (issue 25) -----------------------------------------

PRICE_HEADER = "timestamp,open,high,low,close,volume\n"


def hourly_prices(start: str, closes, header=PRICE_HEADER, columns=lambda time: "") -> str:
    """A generic price file of one flat bar an hour from `start`; `columns` writes any cells before the bar's."""
    times = pd.date_range(start, periods=len(closes), freq="h", tz="UTC")
    return header + "".join(f"{columns(time)}{time.isoformat()},{close},{close},{close},{close},10\n"
                            for time, close in zip(times, closes))


def write_files(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def files_tables(tmp_path, monkeypatch, prices: dict[str, str], **data):
    """clean.clean_tables for BTC, in process, in a scratch project of these files under data/raw/prices/ (no
    whale records), with params.yaml's data section and `data` changes."""
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / paths.RAW / "prices", prices)
    write_files(tmp_path, {str(paths.raw_whales_json("BTC")): '{"result": "success", "count": 0}'})
    params = settings.read(REPO / "params.yaml")
    params["data"] = {**params["data"], "source": "files", **data}
    return clean.clean_tables("BTC", params)


@pytest.mark.parametrize("name, says", [
    ("Binance_ETHUSDT_1h.csv", "ETHUSDT (ETH)"),      # CryptoDataDownload's name
    ("ETHUSDT-1h-2024-01.csv", "ETHUSDT (ETH)"),      # Binance's monthly dump
    ("Bitstamp_ETHBTC_1h.csv", "ETHBTC (ETH)"),       # ETH priced in BTC is not BTC's price
    ("SOLUSDC-1h-2024-01.csv", "SOLUSDC (SOL)"),
])
def test_a_price_file_named_after_another_assets_market_is_refused(tmp_path, monkeypatch, name, says):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "data/raw/prices/BTC", {"BTCUSDT-1h-2023-12.csv": hourly_prices("2023-12-31", [1, 2]),
                                                   name: hourly_prices("2024-01-01", [1, 2])})
    with pytest.raises(InputError) as raised:
        price_bars.read_price_files("BTC")
    assert str(raised.value) == f"data/raw/prices/BTC/{name}: the file name says {says}, but the file is read as BTC's prices"


@pytest.mark.parametrize("name", ["BTCUSDT-1h-2024-01.csv", "Binance_BTCUSDT_1h.csv", "Kraken_XBTUSD_1h.csv",
                                  "KRAKEN_BTC.csv", "BTC-USD.csv", "btc_2024.csv", "2024-01.csv", "ETH.csv"])
def test_a_price_file_named_after_its_own_asset_or_no_market_is_read(tmp_path, monkeypatch, name):
    # ETH.csv names no market (the currencies are not a list the reader knows); the jump check below sees its prices.
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path / "data/raw/prices/BTC", {name: hourly_prices("2024-01-01", [3, 4, 5])})
    table, _ = price_bars.read_price_files("BTC")
    assert table.frame["close"].astype(float).tolist() == [3.0, 4.0, 5.0]


@pytest.mark.parametrize("text, line, symbol", [
    (hourly_prices("2024-01-01", [1, 2, 3], "symbol," + PRICE_HEADER, lambda time: "ETHUSDT,"), 2, "ETHUSDT"),
    # Another asset's rows appended to BTC's: the first is named.
    (hourly_prices("2024-01-01", [1, 2], "symbol," + PRICE_HEADER, lambda time: "BTCUSDT,")
     + hourly_prices("2024-01-01 02:00", [3], "", lambda time: "ETHUSDT,"), 4, "ETHUSDT"),
    # Its volume columns are ETH's too: the symbol is named, not a missing `Volume BTC`.
    ("https://www.CryptoDataDownload.com\nunix,date,symbol,open,high,low,close,Volume ETH,Volume USDT\n"
     "1704070800,2024-01-01 01:00:00,ETH/USDT,2305,2320,2300,2310,10,23100\n"
     "1704067200,2024-01-01 00:00:00,ETH/USDT,2300,2310,2290,2305,10,23050\n", 3, "ETH/USDT"),
])
def test_a_price_file_whose_symbol_column_names_another_asset_is_refused(tmp_path, monkeypatch, text, line, symbol):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"data/raw/prices/BTC.csv": text})
    with pytest.raises(InputError) as raised:
        price_bars.read_price_files("BTC")
    assert str(raised.value) == (f"data/raw/prices/BTC.csv: line {line}: symbol '{symbol}' says ETH, but the file is "
                                 "read as BTC's prices")


@pytest.mark.parametrize("symbol", ["BTCUSDT", "BTC/USDT", "btc-usd", "XBT/USD", "BTC", "BTC-PERP", "BTCUSD_PERP", ""])
def test_a_price_file_whose_symbol_column_names_its_own_asset_is_read(tmp_path, monkeypatch, symbol):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"data/raw/prices/BTC.csv": hourly_prices("2024-01-01", [3, 4], "symbol," + PRICE_HEADER,
                                                                    lambda time: f"{symbol},")})
    table, _ = price_bars.read_price_files("BTC")
    assert table.frame["close"].astype(float).tolist() == [3.0, 4.0]


def test_two_assets_prices_in_one_history_are_refused_naming_both_hours_prices_and_files(tmp_path, monkeypatch):
    # BTC's January and, dropped in BTC's folder under a name without its symbol, ETH's February: 30x lower.
    with pytest.raises(InputError) as raised:
        files_tables(tmp_path, monkeypatch, {"BTC/2024-01.csv": hourly_prices("2024-01-31 20:00", [42000, 42100, 42050, 42080]),
                                             "BTC/2024-02.csv": hourly_prices("2024-02-01", [2300, 2310, 2305])},
                     partial_candle="keep")
    assert str(raised.value) == (
        "data/raw/prices/BTC: close 42080 at 2024-01-31 23:00 (2024-01.csv: line 5) and 2300 at 2024-02-01 00:00 "
        "(2024-02.csv: line 2): a factor of 18.3 in 1 hour, more than data.max_price_jump (2) allows; two assets' "
        "prices in one history, or a wrong price?")


@pytest.mark.parametrize("hours, closes, named", [
    ([0, 1], [100, 201], "close 100 at 2024-03-01 00:00 (line 2) and 201 at 2024-03-01 01:00 (line 3): a factor of 2.01 "
                         "in 1 hour"),
    ([0, 1, 2], [402, 201, 100], "close 201 at 2024-03-01 01:00 (line 3) and 100 at 2024-03-01 02:00 (line 4): a factor "
                                 "of 2.01 in 1 hour"),
    # Across missing hours, filled flat at the earlier close: the jump is between the bars on either side.
    ([0, 1, 4], [100, 100, 300], "close 100 at 2024-03-01 01:00 (line 3) and 300 at 2024-03-01 04:00 (line 4): a "
                                 "factor of 3 in 3 hours"),
])
def test_a_price_jump_beyond_the_factor_is_refused_up_or_down(tmp_path, monkeypatch, hours, closes, named):
    times = pd.Timestamp("2024-03-01", tz="UTC") + pd.to_timedelta(hours, unit="h")
    text = PRICE_HEADER + "".join(f"{time.isoformat()},{close},{close},{close},{close},10\n"
                                  for time, close in zip(times, closes))
    with pytest.raises(InputError) as raised:
        files_tables(tmp_path, monkeypatch, {"BTC.csv": text}, partial_candle="keep", max_filled_share=1.0)
    assert str(raised.value) == (f"data/raw/prices/BTC.csv: {named}, more than data.max_price_jump (2) allows; two "
                                 "assets' prices in one history, or a wrong price?")


@pytest.mark.parametrize("closes", [
    [100, 200, 100],                 # a factor of 2 exactly, up and down
    [167.97, 132.91],                # ETH on Binance, 2020-03-12 09:00 -> 10:00: its largest hourly move in 8 years
    [4111.78, 5049.75],              # BTC on Bitstamp, 2020-03-13 01:00 -> 02:00: the largest in its 2018-2022 file
])
def test_a_price_doubling_or_halving_and_the_real_crash_hours_are_no_jump(tmp_path, monkeypatch, closes):
    tables = files_tables(tmp_path, monkeypatch, {"BTC.csv": hourly_prices("2024-03-01", closes)}, partial_candle="keep")
    assert tables.prices["close"].tolist() == closes


def test_the_jump_factor_has_a_default_for_older_params_files_and_must_exceed_1():
    data = {key: value for key, value in settings.read(REPO / "params.yaml")["data"].items() if key != "max_price_jump"}
    assert settings.build(clean.DataSettings, data, "data").max_price_jump == 2
    with pytest.raises(InputError) as raised:
        settings.build(clean.DataSettings, {**data, "max_price_jump": 1}, "data")
    assert str(raised.value) == "params.yaml: data.max_price_jump must be above 1, got 1"
