"""ConfigError, naming the file, the entry and the fix, and what every section model of guild.toml
shares: the field types, the `Section` base and `validate`, which turns pydantic's ValidationError
into one ConfigError with the wording the hand-written checks had. The sections (sections.py,
syncs.py) and the database URL check (database.py) build on this module; loader.py on them all.
"""
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Strict, StrictBool, StrictFloat, StrictInt, TypeAdapter, ValidationError

# Field types as guild.toml writes them: no coercion (a "3" is not a number, a 1 is not true).
Text = Annotated[str, Strict()]
Whole = StrictInt
Number = StrictInt | StrictFloat  # kept as written; the sections make it a float once checked
Flag = StrictBool
List = Annotated[list, Strict()]

FORBID = ConfigDict(extra="forbid")  # the sections that reject unknown fields
IGNORE = ConfigDict(extra="ignore")  # [guild], [people], [[teams]], [[people.aliases]]: unknown fields are ignored


class ConfigError(Exception):
    def __init__(self, path: Path | str, entry: str, problem: str, fix: str):
        self.path, self.entry, self.problem, self.fix = Path(path), entry, problem, fix
        where = f"{path}" + (f", {entry}" if entry else "")
        super().__init__(f"{where}: {problem}\n  fix: {fix}")


class Invalid(ValueError):
    """Raised by a section's validators: pydantic keeps it in its error, `validate` makes it a ConfigError."""

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


class Section:
    """What a section model says about itself, for messages. A section is a pydantic dataclass (or
    model) whose fields carry their fix as `description`."""

    TABLE: ClassVar[str] = ""            # "[digest]", "[[projects]]": how the section is written
    TABLE_FIX: ClassVar[str] = ""        # the fix when the section is not a table
    FIELD_IN_ENTRY: ClassVar[bool] = True  # a field's own problem names "[digest] day", not just "[digest]"

    @classmethod
    def keys(cls) -> list[str]:
        """The fields guild.toml may set, in their order."""
        hidden = {f.name for f in dataclasses.fields(cls) if not f.init} if dataclasses.is_dataclass(cls) else set()
        return [k for k in _fields(cls) if k not in hidden]

    @classmethod
    def unknown(cls, key: str, context: dict) -> tuple[str, str]:
        return f"unknown field `{key}`", f"{cls.TABLE} accepts: {', '.join(cls.keys())}"

    @classmethod
    def fix_for(cls, key: str, context: dict) -> str:
        field = _fields(cls).get(key)
        return (field.description if field is not None else None) or cls.TABLE_FIX


def validate(model: type, raw: Any, path: Path, entry: str, context: dict | None = None) -> Any:
    """`raw` (one table of guild.toml) as `model`, or the ConfigError for its first problem."""
    if not isinstance(raw, dict):
        raise ConfigError(path, entry, "must be a table", model.TABLE_FIX)
    context = dict(context or {})
    try:
        return _adapter(model).validate_python(raw, context=context)
    except ValidationError as e:
        key, problem, fix = describe(e, model, raw, context)
        named = key and model.FIELD_IN_ENTRY
        raise ConfigError(path, f"{entry} {key}" if named else entry, problem, fix) from None


@functools.cache
def _adapter(model: type) -> TypeAdapter:
    return TypeAdapter(model)


def describe(error: ValidationError, model: type, raw: dict, context: dict) -> tuple[str, str, str]:
    """The first problem of a ValidationError as (the field for the entry, or "", problem, fix).

    An unknown field comes first, as the hand-written checks did. The field is named in the entry
    only for a section's own checks (Invalid); a missing field or a wrong type names it in the problem.
    """
    errors = error.errors()
    first = next((e for e in errors if e["type"] in ("unexpected_keyword_argument", "extra_forbidden")), errors[0])
    loc = first["loc"]
    key = loc[0] if loc and isinstance(loc[0], str) else ""
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid):
        return key, cause.problem, cause.fix
    if first["type"] in ("unexpected_keyword_argument", "extra_forbidden"):
        return "", *model.unknown(key, context)
    fix = model.fix_for(key, context)
    if first["type"] in ("missing", "missing_argument"):
        return "", f"missing required field `{key}`", fix
    if first["type"].endswith("_type") and key in raw:
        value = raw[key]
        return "", f"`{key}` must be a {type_names(_fields(model)[key].annotation)}, not {type(value).__name__} ({value!r})", fix
    return "", f"`{key}`: {first['msg']}" if key else first["msg"], fix


def type_names(annotation: Any) -> str:
    """How a message names a field's type: "str", "int or float", "str or list"."""
    names: list[str] = []
    for t in _members(annotation):
        t = typing.get_origin(t) or t
        for name in (["int", "float"] if t is float else [getattr(t, "__name__", str(t))]):
            if name not in names:
                names.append(name)
    return " or ".join(names)


def _members(annotation: Any) -> list:
    if typing.get_origin(annotation) is Annotated:
        return _members(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _members(a)]
    return [annotation]


def _fields(model: type) -> dict:
    """The pydantic fields of a pydantic dataclass or model."""
    return getattr(model, "__pydantic_fields__", None) or getattr(model, "model_fields", {})
