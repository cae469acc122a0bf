"""RunSpec keys and the text forms of the command line."""

from __future__ import annotations

import pytest

from optbench import RunSpec
from optbench.errors import OptbenchError
from optbench.spec import per_setting
from optbench.textform import parse_assignment, parse_optimizer, parse_point, parse_value


def test_run_key_is_stable_and_sensitive():
    spec = RunSpec(
        "landscape",
        "beale",
        "adam",
        {"learning_rate": 0.1},
        seed=1,
        start=2,
        budget={"steps": 100},
        options={"x0": [4, 4]},
    )
    same = RunSpec(
        "landscape",
        "beale",
        "adam",
        (("learning_rate", 0.1),),
        seed=1,
        start=2,
        budget={"steps": 100},
        options={"x0": (4, 4)},
    )
    assert spec == same and hash(spec) == hash(same)
    assert spec.key == same.key == "0ab8aaa7ac5f1650"
    assert (
        RunSpec(
            "landscape",
            "beale",
            "adam",
            {"learning_rate": 0.2},
            seed=1,
            start=2,
            budget={"steps": 100},
            options={"x0": [4, 4]},
        ).key
        != spec.key
    )


def test_copies_equal_specs_built_one_by_one():
    import pickle

    template = RunSpec("landscape", "beale", "adam", {"learning_rate": 0.1}, budget={"steps": 9})
    copies = template.copies([3, 5], starts=2)
    one_by_one = [
        RunSpec("landscape", "beale", "adam", {"learning_rate": 0.1}, seed, start, {"steps": 9})
        for seed in (3, 5)
        for start in (0, 1)
    ]
    assert copies == one_by_one and [hash(c) for c in copies] == [hash(s) for s in one_by_one]
    assert [c.key for c in copies] == [s.key for s in one_by_one]
    assert len({c.key for c in copies}) == 4 and pickle.loads(pickle.dumps(copies)) == copies
    with pytest.raises(OptbenchError, match="seed must be a non-negative integer, got -1"):
        template.copies([-1], starts=1)


def _fields_of(spec, **changes):
    fields = ("runner", "problem", "optimizer", "hyperparameters", "seed", "start", "budget")
    values = {name: getattr(spec, name) for name in (*fields, "target", "options")} | changes
    return list(values.values())


def test_setting_is_shared_by_copies_and_ignores_only_seed_and_start():
    template = RunSpec("landscape", "beale", "adam", {"learning_rate": 0.1}, budget={"steps": 9})
    copies = template.copies([3, 5], starts=2)
    assert all(c.setting is copies[0].setting for c in copies)
    assert copies[0].setting == template.setting == RunSpec(*_fields_of(template, seed=7)).setting
    others = [
        RunSpec("landscape", "beale", "adam", {"learning_rate": 0.2}, budget={"steps": 9}),
        RunSpec("landscape", "beale", "adam", {"learning_rate": 0.1}, budget={"steps": 8}),
        RunSpec("landscape", "booth", "adam", {"learning_rate": 0.1}, budget={"steps": 9}),
        RunSpec("landscape", "beale", "adam", {"learning_rate": 0.1}, 0, 0, {"steps": 9}, 1e-3),
    ]
    assert len({template.setting, *(o.setting for o in others)}) == 5


def test_per_setting_computes_once_per_setting():
    calls = []

    @per_setting
    def problem_of(spec):
        calls.append(spec.key)
        return spec.problem

    specs = [
        *RunSpec("landscape", "beale", "adam").copies([0, 1], starts=3),
        *RunSpec("landscape", "booth", "adam").copies([0], starts=2),
    ]
    assert [problem_of(s) for s in specs] == ["beale"] * 6 + ["booth"] * 2
    assert calls == [specs[0].key, specs[6].key]


def test_spec_columns_flatten_hyperparameters():
    row = RunSpec("landscape", "beale", "sgd", {"momentum": 0.8}, options={"x0": [4, 4]}).columns()
    assert row["hp.momentum"] == 0.8 and row["option.x0"] == "[4, 4]"


def test_bad_spec_fields():
    with pytest.raises(OptbenchError, match="seed must be a non-negative integer, got -1"):
        RunSpec("landscape", "beale", "sgd", seed=-1)
    with pytest.raises(OptbenchError, match=r"unknown budget field\(s\) \['stepz'\]"):
        RunSpec("landscape", "beale", "sgd", budget={"stepz": 3})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", 0.1),
        ("7", 7),
        ("1e-3", 0.001),
        ("true", True),
        ("None", None),
        ("2-point", "2-point"),
        ("adam", "adam"),
        ("[1, 2]", [1, 2]),
    ],
)
def test_parse_value(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_parse_optimizer_text_form():
    assert parse_optimizer("sgd:lr=0.1,momentum=0.8,decay=0.0016667") == (
        "sgd",
        {"lr": 0.1, "momentum": 0.8, "decay": 0.0016667},
    )
    assert parse_optimizer("keras.sgd:lr=0.1,schedule=exponential,k=0.1") == (
        "keras.sgd",
        {"lr": 0.1, "schedule": "exponential", "k": 0.1},
    )
    assert parse_optimizer("adam") == ("adam", {})
    assert parse_assignment("x0=[1,2]") == ("x0", [1, 2])


def test_parse_point():
    assert parse_point("4,4") == (4.0, 4.0)
    with pytest.raises(OptbenchError, match="malformed point '4,,'"):
        parse_point("4,,")
