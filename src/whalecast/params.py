"""Reading params.yaml, once per stage."""

import dataclasses
import re
from typing import Any

import yaml

from whalecast import paths
from whalecast.errors import InputError


class _Yaml12Numbers(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, in which 1e-3 is text; YAML 1.2 (and DVC, which writes params with ruamel.yaml)
    reads it as a number, and so does a user."""


_Yaml12Numbers.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
                                     list("-+.0123456789"))


def load(path=paths.PARAMS) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            params = yaml.load(handle, Loader=_Yaml12Numbers)
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


def build(settings_class, raw, where: str, path=paths.PARAMS):
    """A settings dataclass from a params mapping with its fields, each of its type; a field with a default may
    be left out (settings added later, so that older params files still read)."""
    if not isinstance(raw, dict):
        raise InputError(path, f"{where} must be a mapping, got {raw!r}")
    fields = dataclasses.fields(settings_class)
    expected = {field.name: field.type for field in fields}
    required = {field.name for field in fields
                if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING}
    unknown, missing = sorted(set(raw) - set(expected)), sorted(required - set(raw))
    if unknown:
        raise InputError(path, f"{where}.{unknown[0]} is not a setting (expected: {', '.join(expected)})")
    if missing:
        raise InputError(path, f"{where}.{missing[0]} is missing")
    for name, kind in expected.items():
        if name not in raw:
            continue
        accepted = (int, float) if kind is float else kind
        # bool is a subclass of int: true must not pass for a number, nor 1 for a switch
        if (isinstance(raw[name], bool) != (kind is bool)) or not isinstance(raw[name], accepted):
            raise InputError(path, f"{where}.{name} must be {kind.__name__}, got {raw[name]!r}")
    try:
        return settings_class(**raw)
    except ValueError as error:
        raise InputError(path, f"{where}: {error}") from None


def update_file(path, changes: dict[str, Any]) -> dict[str, Any]:
    """Set keys of a params file, as `dvc exp run -S` does; a dotted key such as data.source reaches into
    sections. Returns the new params."""
    params = load(path)
    for dotted, value in changes.items():
        *sections, key = dotted.split(".")
        target = params
        for name in sections:
            target = target[name]
        target[key] = value
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(params, handle, sort_keys=False)
    return params
