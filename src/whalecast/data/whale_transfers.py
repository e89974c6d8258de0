"""Whale transfers: the Whale Alert records a user drops into data/raw/whales/ as read, and the clean transfers
ingest writes, the currency's own, typed, sorted by time, duplicates dropped.

A saved API v1 /transactions response, a folder of them (one per cursor page), or a flat CSV. Pages are read by
Arrow's JSON reader with the API's schema, many per call; what cannot be read so is read record by record, which
names the record at fault.
"""

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json

from whalecast import paths
from whalecast.data.cells import BadRows, labels, numbers, require_columns, text, timestamps
from whalecast.data.raw_files import (
    TEXT,
    PartRows,
    RawTable,
    check_not_empty,
    read_csv,
    read_json,
    refuse_linked_folder,
)
from whalecast.errors import InputError

log = logging.getLogger(__name__)

WHALE_REQUIRED = ["timestamp", "symbol", "amount", "amount_usd", "from_owner_type", "to_owner_type"]
# `id` is Whale Alert's id of a record: one on-chain transaction (hash) can carry several records.
WHALE_OPTIONAL = ["id", "blockchain", "hash", "from_owner", "to_owner", "transaction_type"]
WHALE_COLUMNS = WHALE_REQUIRED + WHALE_OPTIONAL
WHALE_NUMBERS = ("amount", "amount_usd")
# Whale columns of (usually) few distinct values: symbols, owner types, exchanges; read typed, as categories.
WHALE_CATEGORICAL = ("symbol", "from_owner_type", "to_owner_type", "blockchain", "from_owner", "to_owner",
                     "transaction_type")
# The transaction hash is looked up only for records alike in every other column (ingest's duplicate check), rarely
# any: 64 characters a record, it is most of a whale CSV's bytes (reading it was a sixth of ingest's time).
WHALE_ON_DEMAND = ("hash",)
_PARTY = pa.struct([("owner_type", TEXT), ("owner", TEXT)])
# A Whale Alert API v1 /transactions response, as far as ingest reads it.
_PAGE_SCHEMA = pa.schema([("result", TEXT), ("transactions", pa.list_(pa.struct([
    ("timestamp", pa.int64()), ("symbol", TEXT), ("amount", pa.float64()), ("amount_usd", pa.float64()),
    ("from", _PARTY), ("to", _PARTY), ("id", TEXT), ("blockchain", TEXT), ("hash", TEXT),
    ("transaction_type", TEXT)])))])
_PAGE_REQUIRED = ("timestamp", "symbol", "amount", "amount_usd")
PAGE_BATCH_BYTES = 64 * 2**20

# The optional whale columns kept in the clean table (see clean_whales for the hash).
WHALE_KEPT = [column for column in WHALE_OPTIONAL if column != "hash"]


def read_whales(currency: str, skip_bad_pages: bool = False) -> RawTable:
    """The currency's whale data: data/raw/whales/{CUR}.json, {CUR}.csv or a directory {CUR}/ of response
    pages, exactly one of them."""
    candidates = [paths.raw_whales_json(currency), paths.raw_whales_csv(currency), paths.raw_whales_pages(currency)]
    present = [path for path in candidates if path.exists()]
    if len(present) > 1:
        raise InputError(present[0], f"{' and '.join(map(str, present))} all exist; keep one")
    if not present:
        raise InputError(candidates[0], f"file not found (nor {candidates[1].name} or a directory {candidates[2].name}/)")
    path = present[0]
    refuse_linked_folder(paths.raw_whales_pages(currency))
    if path.is_dir():
        return read_whale_pages(path, skip_bad_pages)
    if path.suffix == ".json":
        return read_whales_json(path)
    return read_csv(path, numeric=WHALE_NUMBERS, categorical=WHALE_CATEGORICAL, on_demand=WHALE_ON_DEMAND)


def read_whales_json(path: Path) -> RawTable:
    """A saved Whale Alert API v1 /transactions response."""
    path = Path(path)
    check_not_empty(path)
    typed = _typed_pages([path])
    if typed is not None:
        return RawTable(typed[0], str(path), "transactions[{}]")
    return _whales_json_as_text(path)


def _whales_json_as_text(path: Path) -> RawTable:
    """read_whales_json record by record: slower, and names the record at fault."""
    response = read_json(path)
    if not isinstance(response, dict):
        raise InputError(path, "not a Whale Alert /transactions response (expected a JSON object)")
    if response.get("result", "success") != "success":
        raise InputError(path, f"API result is '{response['result']}': {response.get('message', '')}")
    transactions = response.get("transactions")
    if transactions is None and response.get("count") == 0:  # the API's answer when nothing matched
        transactions = []
    if not isinstance(transactions, list):
        raise InputError(path, "not a Whale Alert /transactions response (no 'transactions' list)")
    rows = [_whale_json_row(path, index, transaction) for index, transaction in enumerate(transactions)]
    return RawTable(pd.DataFrame(rows, columns=WHALE_COLUMNS), str(path), "transactions[{}]")


def _whale_json_row(path: Path, index: int, transaction) -> tuple:
    where = f"transactions[{index}]"
    if not isinstance(transaction, dict):
        raise InputError(path, f"{where}: not a JSON object")
    for name in ("timestamp", "symbol", "amount", "amount_usd", "from", "to"):
        if name not in transaction:
            raise InputError(path, f"{where}: missing field '{name}'")
    for side in ("from", "to"):
        if not isinstance(transaction[side], dict) or "owner_type" not in transaction[side]:
            raise InputError(path, f"{where}.{side}: missing field 'owner_type'")
        owner_type = transaction[side]["owner_type"]
        if owner_type is not None and not isinstance(owner_type, str):  # null: a bad row, checked by ingest
            raise InputError(path, f"{where}.{side}.owner_type: {owner_type!r} is not text")
    source, target = transaction["from"], transaction["to"]
    return (
        transaction["timestamp"],
        transaction["symbol"],
        transaction["amount"],
        transaction["amount_usd"],
        source["owner_type"],
        target["owner_type"],
        None if transaction.get("id") is None else str(transaction["id"]),
        transaction.get("blockchain"),
        transaction.get("hash"),
        source.get("owner"),
        target.get("owner"),
        transaction.get("transaction_type"),
    )


def read_whale_pages(directory: Path, skip_bad_pages: bool = False) -> RawTable:
    """Saved Whale Alert responses, one per cursor page (*.json, read in name order), as one table whose rows
    are named "page: transactions[i]".

    Pages fetched by cursor can overlap; ingest drops a record seen again. A page that cannot be read is an
    error, or with skip_bad_pages left out and counted. Pages are read typed in batches (see _typed_pages);
    a batch that cannot be read so is read page by page, record by record, which names the record at fault.
    """
    pages = sorted(Path(directory).glob("*.json"))
    if not pages:
        raise InputError(directory, "no *.json response pages in the directory")
    frames, parts, skipped = [], [], []
    for batch in _batches(pages, PAGE_BATCH_BYTES):
        typed = _typed_pages(batch)
        if typed is not None:
            frame, counts = typed
            frames.append(frame)
            parts += [(page.name, count, "transactions[{}]".format) for page, count in zip(batch, counts)]
            continue
        for page in batch:
            try:
                table = _whales_json_as_text(page)
            except InputError as error:
                if not skip_bad_pages:
                    raise
                skipped.append(f"{page.name}: {error.problem}")
                continue
            frames.append(table.frame)
            parts.append(PartRows.of(page.name, table))
    if skipped:
        log.warning("whales: %d of %d pages in %s skipped (data.bad_rows: skip); first: %s", len(skipped),
                    len(pages), directory, skipped[0])
    log.info("whales: %d pages in %s", len(pages) - len(skipped), directory)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=WHALE_COLUMNS)
    return RawTable(frame, str(directory), row_names=PartRows(parts))


def _batches(files: list[Path], max_bytes: int) -> list[list[Path]]:
    """Consecutive files in groups of at most max_bytes together (a larger file alone)."""
    batches, size = [[]], 0
    for path in files:
        length = path.stat().st_size
        if batches[-1] and size + length > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += length
    return batches


def _typed_pages(pages: list[Path]) -> tuple[pd.DataFrame, list[int]] | None:
    """The records of saved /transactions responses (one JSON object per file) as one table, read by Arrow's
    JSON reader with the API's types, and each page's number of records.

    None when any page cannot be read so: not one object, not UTF-8, not a success, a record not an object, a
    value of another type (an id or a timestamp as a number, an amount as text), a required field missing or null.
    The record-by-record reader then accepts it or names the fault.
    """
    texts = [page.read_bytes().strip() for page in pages]
    # One object per file (an empty file or a bare null would leave the rows and the files out of step; Arrow
    # cannot be given a bare null at all), and UTF-8 throughout, which Arrow does not check in every field.
    if not all(text.startswith(b"{") for text in texts):
        return None
    try:
        for text in texts:
            text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        table = pyarrow.json.read_json(
            io.BytesIO(b"\n".join(texts)),
            read_options=pyarrow.json.ReadOptions(block_size=max(1 << 20, max(map(len, texts)) + 1)),
            parse_options=pyarrow.json.ParseOptions(explicit_schema=_PAGE_SCHEMA, unexpected_field_behavior="ignore"))
    except pa.ArrowInvalid as error:
        log.debug("%s..%s: read record by record (%s)", pages[0], pages[-1].name, error)
        return None
    transactions = table["transactions"].combine_chunks()
    if (table.num_rows != len(pages) or table["result"].null_count
            or not pc.all(pc.equal(table["result"], "success")).as_py() or transactions.null_count):
        return None
    records = transactions.flatten()
    sides = {side: records.field(side) for side in ("from", "to")}
    required = [records.field(name) for name in _PAGE_REQUIRED] + [
        array for side in sides.values() for array in (side, side.field("owner_type"))]
    if records.null_count or any(array.null_count for array in required):
        return None
    columns = {name: records.field(name) for name in ("timestamp", "symbol", "amount", "amount_usd")}
    columns |= {f"{side}_owner_type": array.field("owner_type") for side, array in sides.items()}
    columns |= {name: records.field(name) for name in ("id", "blockchain", "hash")}
    columns |= {f"{side}_owner": array.field("owner") for side, array in sides.items()}
    columns["transaction_type"] = records.field("transaction_type")
    frame = pa.table({name: columns[name] for name in WHALE_COLUMNS}).to_pandas()
    return frame, pc.list_value_length(transactions).to_numpy().tolist()


def clean_whales(table: RawTable, currency: str, skip_bad_rows: bool = False) -> pd.DataFrame:
    """The currency's whale records (symbol match, any case), typed, sorted by time, duplicates dropped.

    Records with distinct ids are distinct, even of one on-chain transaction with equal amounts; a duplicate
    is a record whose id was seen before or, without an id, an identical record. A malformed record (a
    number or owner type missing, say) is an error, or with skip_bad_rows dropped and counted.

    The transaction hash tells records apart, but is not kept: no feature reads it, it stays in the raw file,
    and 2 million of them would be most of the table's bytes (to write, and for DVC to hash and cache)."""
    require_columns(table, WHALE_REQUIRED)
    frame = table.frame
    symbol = labels(frame, "symbol", "upper")
    ours = (symbol == currency.upper()).to_numpy()
    mine = table if ours.all() else table.subset(ours)
    bad_rows = BadRows(mine, skip_bad_rows)
    if len(frame) and not ours.any():
        symbols = symbol.value_counts()
        log.warning("whales: none of the %d records of %s is %s (symbols: %s); is it another currency's file?",
                    len(frame), table.source, currency, ", ".join(f"{name} {count}" for name, count in symbols.items()))
    transfers = pd.DataFrame({"timestamp": timestamps(mine, bad_rows)})
    for column in ("amount", "amount_usd"):
        transfers[column] = numbers(mine, column, bad_rows)
        bad_rows.reject(transfers[column] < 0, f"negative {column}", lambda label, column=column: f"{column} is negative")
    for column in ("from_owner_type", "to_owner_type"):
        transfers[column] = labels(mine.frame, column, "lower")
        bad_rows.reject(transfers[column].isna() | (transfers[column] == ""), f"empty {column}",
                        lambda label, column=column: f"{column} is empty")
    for column in WHALE_KEPT:
        case = "lower" if column == "transaction_type" else None
        transfers[column] = text(mine.frame, column) if column == "id" else labels(mine.frame, column, case)
    transfers = bad_rows.without(transfers)
    bad_rows.log_skipped("whales")
    # The flat CSV may leave the type out: such a row is read as a plain transfer (counted below).
    untyped = transfers["transaction_type"].isna() | (transfers["transaction_type"] == "")
    if untyped.any():
        transfers["transaction_type"] = transfers["transaction_type"].cat.add_categories(
            ["transfer"] if "transfer" not in transfers["transaction_type"].cat.categories else []).mask(untyped, "transfer")
    with_id = (transfers["id"].notna() & (transfers["id"] != "")).to_numpy(bool)
    seen_id = with_id & transfers["id"].duplicated(keep="first").to_numpy() if with_id.any() else with_id
    transfers = transfers[~seen_id]
    was_sorted = transfers["timestamp"].is_monotonic_increasing
    if not was_sorted:  # stable: records of one second keep their order, so "earlier" below is still the file's
        transfers = transfers.sort_values("timestamp", kind="stable")
    identical = _identical_to_earlier(transfers, mine)
    transfers = transfers[~identical].reset_index(drop=True)
    owner_types = transfers["from_owner_type"].value_counts().add(transfers["to_owner_type"].value_counts(),
                                                                    fill_value=0).astype(int).sort_values(ascending=False)
    owner_types = owner_types[owner_types > 0]  # categories of dropped records count 0
    transaction_types = transfers["transaction_type"].value_counts()
    transaction_types = transaction_types[transaction_types > 0]
    log.info(
        "whales: %d records from %s, %d of other symbols skipped, %d duplicates dropped (%d with an id seen before, "
        "%d identical records without an id), %d without a transaction_type read as 'transfer', "
        "%d %s records kept (%s; types: %s; owner types: %s)",
        len(frame), table.source, int((~ours).sum()), int(seen_id.sum() + identical.sum()), int(seen_id.sum()),
        int(identical.sum()), int(untyped.sum()), len(transfers), currency, "ascending" if was_sorted else "re-sorted",
        ", ".join(f"{name} {count}" for name, count in transaction_types.items()) or "none",
        ", ".join(f"{name} {count}" for name, count in owner_types.items()) or "none",
    )
    return transfers


def _identical_to_earlier(transfers: pd.DataFrame, raw: RawTable) -> np.ndarray:
    """Records without an id equal in every column, the raw hash too, to an earlier one; `transfers` sorted by time.
    Only records sharing a timestamp can be, and only those alike in every kept column need their hash looked up:
    comparing every column of millions of rows would be most of ingest's time."""
    times = transfers["timestamp"].to_numpy(dtype="datetime64[ns]")
    repeated = times[1:] == times[:-1]
    maybe = np.zeros(len(times), bool)
    maybe[1:] |= repeated
    maybe[:-1] |= repeated
    maybe &= (transfers["id"].isna() | (transfers["id"] == "")).to_numpy(bool)
    identical = np.zeros(len(transfers), bool)
    alike = np.flatnonzero(maybe)[transfers[maybe].duplicated(keep=False).to_numpy()] if maybe.any() else []
    if len(alike):
        candidates = transfers.iloc[alike]
        hashes = raw.column("hash")
        if hashes is not None:
            candidates = candidates.assign(hash=hashes.loc[candidates.index].astype("string").str.strip().to_numpy())
        identical[alike] = candidates.duplicated(keep="first").to_numpy()
    return identical
