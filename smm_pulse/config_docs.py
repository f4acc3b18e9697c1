"""docs/configuration.md, generated from the settings model: ``python -m smm_pulse.config_docs``.

Every key of the configuration file with its type, default and help (the
field's docstring in smm_pulse/config.py), then the environment variables.
tests/unit/tools/test_config_docs.py fails when the committed page drifts.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from smm_pulse.config import ENVIRONMENT, Config, _check_duration

HEADER = """# Configuration

Generated from `smm_pulse/config.py` by `make docs`; do not edit by hand.

The configuration is one YAML file (`--config FILE` or `SMM_PULSE_CONFIG`),
validated at start: an error names the file, the key and what is wrong.
Durations are written like `30s`, `5m`, `1h`, `7d`.

## The configuration file

| key | type | default | what it does |
| --- | --- | --- | --- |
"""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The settings model a field holds, directly, in a dict or optionally; else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (dict, types.UnionType, typing.Union):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _type_name(annotation: Any) -> str:
    """A reader's name of a field's type: ``list of duration``, ``one of auto, on, off``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        base = args[0]
        is_duration = any(getattr(m, "func", None) is _check_duration for m in args[1:])
        return "duration" if is_duration else _type_name(base)
    if origin is typing.Literal:
        return "one of " + ", ".join(map(str, args))
    if origin in (types.UnionType, typing.Union):
        named = [_type_name(arg) for arg in args if arg is not type(None)]
        return " or ".join(named) + (", optional" if type(None) in args else "")
    if origin is list:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return f"{annotation.__name__.lower()} ({', '.join(m.value for m in annotation)})"
    return {"str": "string", "float": "number", "int": "integer", "Path": "file path",
            "SecretStr": "string (secret)"}.get(annotation.__name__, annotation.__name__)


def _default(field: Any) -> str:
    if field.default is PydanticUndefined:
        return "required"
    if isinstance(field.default, BaseModel):
        return "see below"
    return f"`{field.default!r}`" if field.default not in (None, [], {}) else (
        "none" if field.default is None else f"`{field.default!r}`")


def rows(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """One table row per key of ``model``, then the keys of the models it holds."""
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        help_text = " ".join((field.description or "").split()).replace("|", "\\|")
        held = _model_of(field.annotation)
        if held is not None:
            is_map = typing.get_origin(field.annotation) is dict
            nested.append((f"{key}.<name>." if is_map else f"{key}.", held))
        is_duration = any(getattr(m, "func", None) is _check_duration for m in field.metadata)
        kind = "duration" if is_duration else _type_name(field.annotation)
        yield (f"| `{key}` | {kind} | {_default(field)} "
               f"| {help_text} |\n")
    for nested_prefix, held in nested:
        yield from rows(held, nested_prefix)


def render() -> str:
    environment = "".join(
        f"| `{var.name}` | {f'`{var.default}`' if var.default else 'unset'} | {var.help} |\n"
        for var in ENVIRONMENT)
    return (HEADER + "".join(rows(Config))
            + "\n## Environment variables\n\n| name | default | what it does |\n"
              "| --- | --- | --- |\n" + environment)


if __name__ == "__main__":
    print(render(), end="")
