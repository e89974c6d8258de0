"""Parquet in and out. Writes go to a temporary name first, so a failed run leaves no half file."""

import logging
import os
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


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    log.info("wrote %d rows x %d columns to %s", len(frame), frame.shape[1], path)
