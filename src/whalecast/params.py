"""Reading params.yaml, once per stage."""

from typing import Any

import yaml

from whalecast import paths
from whalecast.errors import InputError


def load(path=paths.PARAMS) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            params = yaml.safe_load(handle)
    except FileNotFoundError:
        raise InputError(path, "file not found (run from the repository root)") from None
    except yaml.YAMLError as error:
        raise InputError(path, f"not valid YAML: {error}") from None
    if not isinstance(params, dict):
        raise InputError(path, "must be a mapping of settings")
    return params


def section(params: dict[str, Any], key: str, path=paths.PARAMS) -> Any:
    if key not in params:
        raise InputError(path, f"missing top-level key '{key}'")
    return params[key]
