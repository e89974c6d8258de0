"""Files in and out. Writes go to a temporary name first, so a failed or interrupted run leaves no half file
and, within a stage, no mix of new and old outputs."""

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa

from whalecast.errors import InputError

log = logging.getLogger(__name__)


def read_parquet(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    if not Path(path).exists():
        raise InputError(path, "file not found (run the stage that makes it: dvc repro)")
    try:
        return pd.read_parquet(path, columns=columns)
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(path, f"not a readable parquet file with columns {columns or 'any'}: {error}") from None


# Set while a stage runs (see outputs_together): its finished files, temporary name -> final path.
_held_outputs: dict[Path, Path] | None = None
_renaming = False


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path to write to; it replaces `path` when the block ends without error, or, inside
    outputs_together, when that block does."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield temporary
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    if _held_outputs is None:
        os.replace(temporary, path)
    else:
        _held_outputs[temporary] = path


@contextmanager
def outputs_together() -> Iterator[None]:
    """Every file written in the block replaces its target only when the whole block ends without error: a
    stage's outputs are all new or all old. A signal handler that sees renaming() must let the renames finish."""
    global _held_outputs, _renaming
    _held_outputs = {}
    try:
        yield
        _renaming = True
        try:
            for temporary, path in _held_outputs.items():
                os.replace(temporary, path)
        finally:
            _renaming = False
    finally:
        for temporary in _held_outputs:
            temporary.unlink(missing_ok=True)
        _held_outputs = None


def renaming() -> bool:
    """True while outputs_together renames a stage's outputs into place."""
    return _renaming


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # Dictionary pages pay off for text (few owner types, exchanges); for numbers and times they are tried and dropped.
    # Min/max statistics (for readers that skip row groups) only for numbers and times: for text they cost a quarter
    # of writing 2 million whale records, and none is filtered on.
    text = [name for name, dtype in frame.dtypes.items() if not (pd.api.types.is_numeric_dtype(dtype)
                                                                  or pd.api.types.is_datetime64_any_dtype(dtype))]
    with atomic_path(path) as temporary:
        frame.to_parquet(temporary, index=False, use_dictionary=text,
                         write_statistics=[name for name in frame.columns if name not in text])
    log.info("wrote %d rows x %d columns to %s", len(frame), frame.shape[1], path)


def write_text(text: str, path: Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    log.info("wrote %s", path)


def write_metrics(document: dict, path: Path) -> None:
    """A metrics document as JSON, floats rounded to 6 digits so diffs show changes, not float noise."""
    write_text(json.dumps(_rounded(document), indent=2) + "\n", path)


def _rounded(node):
    if isinstance(node, dict):
        return {key: _rounded(value) for key, value in node.items()}
    return round(node, 6) if isinstance(node, float) else node
