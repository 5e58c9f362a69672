"""Which part of the configuration a change at one key must be validated with.

A set validates the smallest model that holds the key (``site.horizon.default`` →
the ``Horizon`` model), not the whole tree. A validator of an enclosing model can
look at the changed value too: a model validator sees every field, and a field
validator sees its own field and, through ``info.data``, the fields declared before
it. Such an enclosing model is validated instead (the highest one on the way), so
every rule that could see the change runs, and the result is the same as validating
the whole tree.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel

from nocturna.core.config.keys import Path


def model_of(annotation: object) -> type[BaseModel] | None:
    """The model class behind ``Model``, ``Model | None`` or ``Annotated[Model, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return model_of(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        models = [m for m in map(model_of, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    return None


def _list_item(annotation: object) -> object | None:
    """``list[X]`` (also optional or annotated) → ``X``; anything else → None."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _list_item(typing.get_args(annotation)[0])
    if origin is list:
        return typing.get_args(annotation)[0]
    if origin is not None and type(None) in typing.get_args(annotation):
        items = [a for a in map(_list_item, typing.get_args(annotation)) if a is not None]
        return items[0] if len(items) == 1 else None
    return None


def _sees_field(model: type[BaseModel], name: str) -> bool:
    """True if a validator of ``model`` can see field ``name`` (see the module doc)."""
    decorators = model.__pydantic_decorators__
    if decorators.model_validators or decorators.root_validators:
        return True
    order = list(model.model_fields)
    position = order.index(name)
    field_validators = [*decorators.field_validators.values(), *decorators.validators.values()]
    for validator in field_validators:
        fields = validator.info.fields
        if "*" in fields or any(f in order and order.index(f) >= position for f in fields):
            return True
    return False


def _shape(path: Path) -> Path:
    """List indices do not change the scope: cache by path with indices as 0."""
    return tuple(0 if isinstance(part, int) else part for part in path)


def validation_scope(root: type[BaseModel], path: Path) -> tuple[Path, type[BaseModel]]:
    """The path of the model to validate for a change at ``path``, and its class."""
    prefix, model = _scope_of_shape(root, _shape(path))
    return path[: len(prefix)], model


@cache
def _scope_of_shape(root: type[BaseModel], path: Path) -> tuple[Path, type[BaseModel]]:
    scope: tuple[Path, type[BaseModel]] = ((), root)
    widest: tuple[Path, type[BaseModel]] | None = None
    annotation: Any = root
    for depth, part in enumerate(path[:-1]):  # the key itself is validated by its holder
        model = model_of(annotation)
        if model is not None:
            if not isinstance(part, str) or part not in model.model_fields:
                break
            if widest is None and _sees_field(model, part):
                widest = (path[:depth], model)
            annotation = model.model_fields[part].annotation
        else:
            item = _list_item(annotation)
            if item is None or not isinstance(part, int):
                break
            annotation = item
        inner = model_of(annotation)
        if inner is not None:
            scope = (path[: depth + 1], inner)
    return widest or scope


def splice(model: Any, scope: Path, part: BaseModel) -> Any:
    """A copy of ``model`` with ``part`` at ``scope`` (containers on the way are copied)."""
    if not scope:
        return part
    head, rest = scope[0], scope[1:]
    if isinstance(head, int):
        items = list(model)
        items[head] = splice(items[head], rest, part)
        return items
    return model.model_copy(update={head: splice(getattr(model, head), rest, part)})
