"""params.yaml to settings: one loader, each class declaring its section, choices and ranges checked in one place."""

import dataclasses
import importlib
import pkgutil

import pytest

import whalecast
from conftest import REPO
from whalecast import settings
from whalecast.errors import InputError


@settings.section("outer.inner")
class Example:
    name: str = settings.choice("a", "b")
    count: int = settings.at_least(2)
    rate: float = settings.positive()
    share: float = settings.share()
    part: float = settings.fraction()
    bounded: float = settings.within(-1, 5, why=" (the why)")
    open_ended: float = settings.within(0, 1, high_excluded=True)
    factor: float = settings.above(1)
    switch: bool = True
    later: int = settings.at_least(0, default=7)

    def __post_init__(self):
        if self.count > 10 and self.switch:
            raise ValueError("count over 10 needs switch: false")


GOOD = {"name": "a", "count": 2, "rate": 1e-9, "share": 1, "part": 0.5, "bounded": 5, "open_ended": 0.0, "factor": 1.01}


def load(**changes):
    return settings.load(Example, {"outer": {"inner": {**GOOD, **changes}}, "elsewhere": 1})


def problem(**changes) -> str:
    with pytest.raises(InputError) as raised:
        load(**changes)
    return str(raised.value)


def test_a_section_at_a_dotted_key_is_read_with_its_defaults():
    example = load()
    assert dataclasses.asdict(example) == {**GOOD, "switch": True, "later": 7}
    assert Example.SECTION == "outer.inner" and dataclasses.is_dataclass(example)
    with pytest.raises(dataclasses.FrozenInstanceError):
        example.count = 3


@pytest.mark.parametrize("changes, message", [
    ({"name": "c"}, "outer.inner.name must be one of a, b, got 'c'"),
    ({"count": 1}, "outer.inner.count must be at least 2, got 1"),
    ({"rate": 0}, "outer.inner.rate must be positive, got 0"),
    ({"share": 1.5}, "outer.inner.share must be a share in 0..1, got 1.5"),
    ({"share": -0.1}, "outer.inner.share must be a share in 0..1, got -0.1"),
    ({"part": 1}, "outer.inner.part must be a fraction between 0 and 1 (exclusive), got 1"),
    ({"part": 0}, "outer.inner.part must be a fraction between 0 and 1 (exclusive), got 0"),
    ({"bounded": 5.5}, "outer.inner.bounded must be in -1..5 (the why), got 5.5"),
    ({"bounded": -1.5}, "outer.inner.bounded must be in -1..5 (the why), got -1.5"),
    ({"open_ended": 1}, "outer.inner.open_ended must be in 0..1, 1 excluded, got 1"),
    ({"factor": 1}, "outer.inner.factor must be above 1, got 1"),
    ({"later": -1}, "outer.inner.later must be at least 0, got -1"),
    ({"count": 2.0}, "outer.inner.count must be int, got 2.0"),
    ({"count": True}, "outer.inner.count must be int, got True"),
    ({"switch": 1}, "outer.inner.switch must be bool, got 1"),
    ({"rate": "1e-3"}, "outer.inner.rate must be float, got '1e-3'"),
    ({"extra": 1}, "outer.inner.extra is not a setting (expected: name, count, rate, share, part, bounded, open_ended, "
                   "factor, switch, later)"),
    ({"count": 11}, "outer.inner: count over 10 needs switch: false"),
])
def test_each_value_outside_its_declared_choices_or_range_is_named_with_its_key(changes, message):
    assert problem(**changes) == f"params.yaml: {message}"


def test_the_bounds_themselves_are_inside():
    assert load(share=0, bounded=-1, open_ended=0.999, count=10).count == 10


def test_a_missing_field_or_section_is_named():
    del_name = {key: value for key, value in GOOD.items() if key != "name"}
    with pytest.raises(InputError) as raised:
        settings.load(Example, {"outer": {"inner": del_name}})
    assert str(raised.value) == "params.yaml: outer.inner.name is missing"
    with pytest.raises(InputError) as raised:
        settings.load(Example, {"outer": {}})
    assert str(raised.value) == "params.yaml: missing key 'outer.inner'"
    with pytest.raises(InputError) as raised:
        settings.load(Example, {"outer": [1]})
    assert str(raised.value) == "params.yaml: missing key 'outer.inner'"
    with pytest.raises(InputError) as raised:
        settings.load(Example, {"outer": {"inner": [1, 2]}})
    assert str(raised.value) == "params.yaml: outer.inner must be a mapping, got [1, 2]"


def test_an_instance_made_in_code_keeps_to_the_same_rules():
    with pytest.raises(settings.FieldError) as raised:
        Example(**{**GOOD, "count": 0})
    assert (raised.value.name, raised.value.problem) == ("count", "must be at least 2, got 0")


@settings.section(None)
class TopLevel:
    seq_len: int = settings.at_least(1)


def test_a_section_of_none_reads_top_level_keys_and_names_them_bare():
    assert settings.load(TopLevel, {"seq_len": 3, "model": {}}).seq_len == 3
    with pytest.raises(InputError) as raised:
        settings.load(TopLevel, {"seq_len": 0})
    assert str(raised.value) == "params.yaml: seq_len must be at least 1, got 0"
    with pytest.raises(InputError) as raised:
        settings.load(TopLevel, {})
    assert str(raised.value) == "params.yaml: seq_len is missing"


def settings_classes() -> list[type]:
    """Every settings class of the package: every class that declares a section."""
    classes = []
    for info in pkgutil.walk_packages(whalecast.__path__, "whalecast."):
        module = importlib.import_module(info.name)
        classes += [value for value in vars(module).values()
                    if isinstance(value, type) and value.__module__ == module.__name__ and hasattr(value, "SECTION")]
    return classes


def test_every_settings_class_loads_from_the_committed_params():
    params = settings.read(REPO / "params.yaml")
    classes = settings_classes()
    assert len(classes) >= 14  # the data, market, source, delay, window, target, split, scaling, model, ...
    for settings_class in classes:
        if settings_class.SECTION == "sources.<name>":  # one per declared source, built by event_sources.parse
            continue
        loaded = settings.load(settings_class, params)
        assert isinstance(loaded, settings_class)
