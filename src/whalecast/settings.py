"""params.yaml, read once per stage, and the settings classes built from it.

A settings class declares the section of params.yaml it is read from (`@section("model")`; `@section(None)` for
top-level keys such as seq_len) and, on its fields, the choices and ranges a value must keep to (`choice`,
`at_least`, `above`, `positive`, `within`, `fraction`, `share`). `load` builds one from the params, checking that every field is
there (or has a default) and has its type; the class checks the choices and ranges whenever an instance is made,
in `check_fields`, and its own `__post_init__` what ties fields together (the split's fractions sum to 1). Every
problem is an InputError naming params.yaml and the key.
"""

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import yaml

from whalecast import paths
from whalecast.errors import InputError

_NO_DEFAULT = dataclasses.MISSING


class _Yaml12Numbers(yaml.SafeLoader):
    """PyYAML reads YAML 1.1, in which 1e-3 is text; YAML 1.2 (and DVC, which writes params with ruamel.yaml)
    reads it as a number, and so does a user."""


_Yaml12Numbers.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
                                     list("-+.0123456789"))


def read(path=paths.PARAMS) -> dict[str, Any]:
    """params.yaml as a mapping."""
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


def value(params: dict[str, Any], dotted: str, path=paths.PARAMS) -> Any:
    """The value at a dotted key of params (data.synthetic), or an error naming the missing key."""
    node = params
    for depth, key in enumerate(dotted.split(".")):
        if not isinstance(node, dict) or key not in node:
            where = ".".join(dotted.split(".")[:depth + 1])
            raise InputError(path, f"missing key '{where}'")
        node = node[key]
    return node


class FieldError(ValueError):
    """A field's value outside its choices or range: the loader names the key."""

    def __init__(self, name: str, problem: str):
        self.name, self.problem = name, problem
        super().__init__(f"{name} {problem}")


def _rule(check: Callable[[Any], bool], wants: str, default=_NO_DEFAULT) -> dataclasses.Field:
    return dataclasses.field(default=default, metadata={"check": check, "wants": wants})


def choice(*options: str, default=_NO_DEFAULT) -> dataclasses.Field:
    return _rule(lambda value: value in options, f"must be one of {', '.join(options)}", default)


def at_least(minimum: float, default=_NO_DEFAULT) -> dataclasses.Field:
    return _rule(lambda value: value >= minimum, f"must be at least {_shown(minimum)}", default)


def above(bound: float, default=_NO_DEFAULT) -> dataclasses.Field:
    return _rule(lambda value: value > bound, f"must be above {_shown(bound)}", default)


def positive(default=_NO_DEFAULT) -> dataclasses.Field:
    return _rule(lambda value: value > 0, "must be positive", default)


def within(low: float, high: float, default=_NO_DEFAULT, why: str = "", high_excluded: bool = False
           ) -> dataclasses.Field:
    excluded = f", {_shown(high)} excluded" if high_excluded else ""
    return _rule(lambda value: low <= value and (value < high if high_excluded else value <= high),
                 f"must be in {_shown(low)}..{_shown(high)}{why}{excluded}", default)


def _shown(number: float) -> str:
    """A bound as written in params.yaml: 2592000, not 2.592e+06."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def fraction(default=_NO_DEFAULT) -> dataclasses.Field:
    """A share strictly between 0 and 1 (a part of the rows)."""
    return _rule(lambda value: 0 < value < 1, "must be a fraction between 0 and 1 (exclusive)", default)


def share(default=_NO_DEFAULT) -> dataclasses.Field:
    """A share in 0..1, both ends allowed."""
    return _rule(lambda value: 0 <= value <= 1, "must be a share in 0..1", default)


def check_fields(instance) -> None:
    """Each field's choices and range, as its class declares them."""
    for field in dataclasses.fields(instance):
        check = field.metadata.get("check")
        field_value = getattr(instance, field.name)
        if check is not None and not check(field_value):
            shown = f"{field_value:g}" if isinstance(field_value, float) else repr(field_value)
            raise FieldError(field.name, f"{field.metadata['wants']}, got {shown}")


def section(name: str | None):
    """A frozen settings dataclass read from params.yaml `name` (dotted, e.g. data.synthetic; None: top-level keys).
    Its fields' choices and ranges are checked whenever an instance is made, before its own __post_init__."""

    def make(cls):
        own_checks = cls.__dict__.get("__post_init__")

        def __post_init__(self):
            check_fields(self)
            if own_checks is not None:
                own_checks(self)

        cls.__post_init__ = __post_init__
        settings_class = dataclasses.dataclass(frozen=True)(cls)
        settings_class.SECTION = name
        return settings_class

    return make


def load(settings_class, params: dict[str, Any], path=paths.PARAMS):
    """The settings class built from its section of params."""
    if settings_class.SECTION is None:
        names = {field.name for field in dataclasses.fields(settings_class)}
        return build(settings_class, {key: params[key] for key in names if key in params}, None, path)
    return build(settings_class, value(params, settings_class.SECTION, path), settings_class.SECTION, path)


def build(settings_class, raw, where: str | None, path=paths.PARAMS):
    """A settings class from a mapping of its fields (where: the section it sits at, for messages; None for
    top-level keys): each of its type; a field with a default may be left out (settings added later, so that
    older params files still read)."""
    prefix = f"{where}." if where else ""
    if not isinstance(raw, dict):
        raise InputError(path, f"{where} must be a mapping, got {raw!r}")
    fields = dataclasses.fields(settings_class)
    expected = {field.name: field.type for field in fields}
    required = {field.name for field in fields
                if field.default is _NO_DEFAULT and field.default_factory is _NO_DEFAULT}
    unknown, missing = sorted(set(raw) - set(expected)), sorted(required - set(raw))
    if unknown:
        raise InputError(path, f"{prefix}{unknown[0]} is not a setting (expected: {', '.join(expected)})")
    if missing:
        raise InputError(path, f"{prefix}{missing[0]} is missing")
    for name, kind in expected.items():
        if name not in raw:
            continue
        accepted = (int, float) if kind is float else kind
        # bool is a subclass of int: true must not pass for a number, nor 1 for a switch
        if (isinstance(raw[name], bool) != (kind is bool)) or not isinstance(raw[name], accepted):
            raise InputError(path, f"{prefix}{name} must be {kind.__name__}, got {raw[name]!r}")
    try:
        return settings_class(**raw)
    except FieldError as error:
        raise InputError(path, f"{prefix}{error.name} {error.problem}") from None
    except ValueError as error:
        raise InputError(path, f"{where or 'params'}: {error}") from None


def update_file(path, changes: dict[str, Any]) -> dict[str, Any]:
    """Set keys of a params file, as `dvc exp run -S` does; a dotted key such as data.source reaches into
    sections. Returns the new params."""
    params = read(path)
    for dotted, new_value in changes.items():
        *sections, key = dotted.split(".")
        target = params
        for name in sections:
            target = target[name]
        target[key] = new_value
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(params, handle, sort_keys=False)
    return params
