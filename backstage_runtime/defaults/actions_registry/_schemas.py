"""An action's input or output schema, given as a pydantic model class or a JSON Schema object,
turned into the JSON Schema the registry lists and a validator it runs.

pydantic is imported only when a model class is given and jsonschema only when a JSON Schema
is, so a backend whose plugins register no actions pays for neither at start.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...api.services._json import JsonObject, JsonValue

__all__ = ["ActionSchema", "SchemaViolation", "compile_schema"]

#: What Node lists for a missing schema: ``zodToJsonSchema(z.object({}))``.
_EMPTY_OBJECT_SCHEMA: JsonObject = {
    "type": "object",
    "properties": {},
    "additionalProperties": False,
    "$schema": "http://json-schema.org/draft-07/schema#",
}


class SchemaViolation(ValueError):
    """A value does not match a schema; ``where`` names the offending field (``""`` for the
    value itself) and the message says what is wrong with it.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


@dataclass(frozen=True)
class ActionSchema:
    """A compiled schema: ``json_schema`` to list, ``parse`` to validate a JSON value (it returns
    what the action receives: a model instance for a model, else the value) and ``dump`` to turn
    a validated value back into JSON.
    """

    json_schema: JsonObject
    parse: Callable[[Any], Any]
    dump: Callable[[Any], JsonValue]


def _plain(value: Any) -> Any:
    """A pydantic model instance as its JSON data (an action may return one whatever its output
    schema); anything else unchanged.
    """
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return dump(mode="json")
    return value


def _is_model_class(schema: object) -> bool:
    # Duck-typed so that pydantic is not imported to find out.
    return isinstance(schema, type) and all(
        callable(getattr(schema, name, None))
        for name in ("model_json_schema", "model_validate", "model_dump")
    )


def _model_schema(model: type[Any]) -> ActionSchema:
    import pydantic

    def where(loc: tuple[int | str, ...]) -> str:
        return ".".join(str(part) for part in loc)

    def parse(value: Any) -> Any:
        if isinstance(value, model):
            return value
        try:
            return model.model_validate(value)
        except pydantic.ValidationError as error:
            first = error.errors()[0]
            raise SchemaViolation(where(tuple(first.get("loc", ()))), first["msg"]) from None

    def dump(value: Any) -> JsonValue:
        result: JsonValue = value.model_dump(mode="json")
        return result

    return ActionSchema(json_schema=model.model_json_schema(), parse=parse, dump=dump)


def _json_schema(schema: Mapping[str, Any], label: str) -> ActionSchema:
    import jsonschema

    document = dict(schema)
    cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(document)
    except jsonschema.SchemaError as error:
        raise ValueError(f"Invalid JSON Schema for {label}: {error.message}") from None
    validator = cls(document)

    def parse(value: Any) -> Any:
        value = _plain(value)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is not None:
            path = ".".join(str(part) for part in error.absolute_path)
            raise SchemaViolation(path, error.message)
        return value

    def dump(value: Any) -> JsonValue:
        result: JsonValue = value
        return result

    return ActionSchema(json_schema=document, parse=parse, dump=dump)


def compile_schema(schema: type[Any] | Mapping[str, Any] | None, *, label: str) -> ActionSchema:
    """The :class:`ActionSchema` of a pydantic model class, a JSON Schema mapping or ``None``
    (an object with no properties, as Node lists a missing schema; any object is accepted).

    ``label`` names the schema in errors (``input schema of action 'catalog:get'``). Raises
    :class:`ValueError` for a schema that is neither, or a JSON Schema that is itself invalid.
    """
    if schema is None:
        return ActionSchema(
            json_schema=dict(_EMPTY_OBJECT_SCHEMA), parse=_plain, dump=lambda value: value
        )
    if _is_model_class(schema):
        assert isinstance(schema, type)
        return _model_schema(schema)
    if isinstance(schema, Mapping):
        return _json_schema(schema, label)
    raise ValueError(
        f"The {label} must be a pydantic model class or a JSON Schema object, got {schema!r}"
    )
