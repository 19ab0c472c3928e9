"""The model's classes construct, are frozen, compare, hash and print exactly as @dataclass(frozen=True) classes do.

They share `_Value`'s methods instead of generating them; the reference here is a real frozen
dataclass built from the same fields.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from driftcheck import model

CLASSES = [cls for cls in vars(model).values()
           if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__]


def _reference(cls: type) -> type:
    fields = [(f.name, f.type, dataclasses.field(default=f.default) if f.default is not dataclasses.MISSING
               else dataclasses.field()) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True)


def _sample(cls: type, salt: int) -> dict[str, object]:
    return {f.name: (f"{f.name}-{salt}", salt) for f in dataclasses.fields(cls)}


def test_every_model_class_is_covered() -> None:
    assert {c.__name__ for c in CLASSES} >= {"Key", "Finding", "ExtractedList", "CheckResult", "ListRef", "Span"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_same_equality_hash_and_repr_as_a_frozen_dataclass(cls: type) -> None:
    reference = _reference(cls)
    a, b, c = cls(**_sample(cls, 1)), cls(**_sample(cls, 1)), cls(**_sample(cls, 2))
    ra, rc = reference(**_sample(cls, 1)), reference(**_sample(cls, 2))
    assert (a == b, a == c, a != c) == (ra == reference(**_sample(cls, 1)), ra == rc, ra != rc) == (True, False, True)
    assert hash(a) == hash(b) == hash(ra)  # the same field tuple is hashed
    assert repr(a) == repr(ra)
    assert a.__eq__(ra) is NotImplemented  # another class never compares equal, as with dataclasses
    first = dataclasses.fields(cls)[0].name
    for change in (lambda: setattr(a, first, "changed"), lambda: delattr(a, first), lambda: setattr(a, "new", 1)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            change()
    assert getattr(a, first) == getattr(b, first) and not hasattr(a, "new")
    assert dataclasses.replace(a, **{first: "other"}) == cls(**{**_sample(cls, 1), first: "other"})


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_copies_and_pickles_are_equal_and_still_frozen(cls: type) -> None:
    value = cls(**_sample(cls, 3))
    for twin in (copy.copy(value), copy.deepcopy(value), pickle.loads(pickle.dumps(value))):
        assert twin == value and hash(twin) == hash(value)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(twin, dataclasses.fields(cls)[0].name, "changed")


def test_values_work_as_set_members_and_dict_keys() -> None:
    keys = {model.Key("A", 1, 2), model.Key("A", 1, 2), model.Key("B", 1, 2)}
    assert len(keys) == 2 and model.Key("B", 1, 2) in keys


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_same_constructor_as_a_frozen_dataclass(cls: type) -> None:
    reference = _reference(cls)
    fields = dataclasses.fields(cls)
    values = list(_sample(cls, 4).values())
    names = [f.name for f in fields]
    required = [f.name for f in fields if f.default is dataclasses.MISSING]
    assert repr(cls(*values)) == repr(reference(*values))  # positionally
    half = len(values) // 2
    assert repr(cls(*values[:half], **dict(zip(names[half:], values[half:])))) == repr(
        reference(*values[:half], **dict(zip(names[half:], values[half:]))))
    minimal = [_sample(cls, 5)[name] for name in required]
    assert repr(cls(*minimal)) == repr(reference(*minimal))  # the defaults fill the rest
    for bad_args, bad_kwargs in (
            (values + ["one too many"], {}),
            (values, {names[0]: "twice"}),
            (minimal, {"no_such_field": 1}),
            (minimal[:-1], {}) if required else ((), {"no_such_field": 1})):
        with pytest.raises(TypeError):
            reference(*bad_args, **bad_kwargs)
        with pytest.raises(TypeError):
            cls(*bad_args, **bad_kwargs)


def test_a_model_class_generates_no_methods() -> None:
    for cls in CLASSES:
        assert all(name not in vars(cls) for name in ("__init__", "__eq__", "__hash__", "__repr__", "__setattr__"))
