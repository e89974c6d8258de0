"""Feature groups: the features an experiment switches on or off together (params.yaml feature_groups).

Every feature spec belongs to a group, by default its source (`prices`, `whales`); a spec may name its own.
featurize records each column's group in the feature table (pandas attrs, stored in the parquet file);
sequence keeps the columns of the groups switched on. So `dvc exp run -S feature_groups.whales=false` is an
ablation that re-runs neither ingest nor featurize.
"""

import logging

import pandas as pd

from whalecast import paths
from whalecast.errors import InputError

log = logging.getLogger(__name__)

ATTRIBUTE = "feature_groups"  # {group: [column, ...]} in the table's attrs


def of_specs(specs) -> dict[str, list[str]]:
    """The feature names of each group, in spec order (specs have .name and .group)."""
    groups: dict[str, list[str]] = {}
    for spec in specs:
        groups.setdefault(spec.group, []).append(spec.name)
    return groups


def record(table: pd.DataFrame, groups: dict[str, list[str]]) -> None:
    """Store the columns of each group in the table's attrs (kept in its parquet file)."""
    table.attrs[ATTRIBUTE] = groups


def read(table: pd.DataFrame, source) -> dict[str, list[str]]:
    groups = table.attrs.get(ATTRIBUTE)
    if not isinstance(groups, dict) or not groups:
        raise InputError(source, "no feature groups recorded in the file: run featurize again (dvc repro)")
    return groups


def columns(table_columns, enabled: dict[str, list[str]]) -> list[str]:
    """The columns of the groups switched on, in the table's order: the model's input order."""
    kept = {column for group_columns in enabled.values() for column in group_columns}
    return [name for name in table_columns if name in kept]


def select(groups: dict[str, list[str]], switches, source) -> dict[str, list[str]]:
    """The groups switched on in params.yaml feature_groups, which must name every group, each true or false."""
    where = f"{paths.PARAMS}: feature_groups"
    if not isinstance(switches, dict):
        raise InputError(where, f"must map each feature group to true or false, got {switches!r}")
    known = ", ".join(groups)
    unknown = [name for name in switches if name not in groups]
    if unknown:
        raise InputError(where, f"'{unknown[0]}' is not a feature group of {source} (its groups: {known})")
    missing = [name for name in groups if name not in switches]
    if missing:
        raise InputError(where, f"group '{missing[0]}' is not switched: add `{missing[0]}: true` (or false)")
    not_bool = [name for name, on in switches.items() if not isinstance(on, bool)]
    if not_bool:
        raise InputError(where, f"{not_bool[0]} must be true or false, got {switches[not_bool[0]]!r}")
    enabled = {name: columns for name, columns in groups.items() if switches[name]}
    if not enabled:
        raise InputError(where, f"every group is switched off ({known}): the model needs at least one")
    log.info("feature groups: %s", ", ".join(f"{name} ({len(columns)} columns) {'on' if switches[name] else 'OFF'}"
                                             for name, columns in groups.items()))
    return enabled
