"""MCP tool input schemas made small and flat for a local model, and a validator for them.

Servers publish full JSON Schema ($ref, anyOf with null, allOf, titles, formats). A small
model follows the plain shape that gemloom's own tools have far better: type, description,
enum, items, required. The validator is a pydantic model built from that plain shape, so
arguments are coerced the way built-in tools' arguments are.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

MAX_DEPTH = 4  # nested objects deeper than this become plain "object"
_TYPES: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool}
_JSON_NAMES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object",
               list: "array"}  # fmt: skip


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` (`#/$defs/X` or `#/definitions/X`) one step."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return node
    target = defs.get(ref.rsplit("/", 1)[-1], {})
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _branches(node: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            return [b for b in node[key] if isinstance(b, dict) and b.get("type") != "null"]
    return []


def _merged(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The node with refs followed, allOf merged and null-unions collapsed to one branch."""
    for _ in range(MAX_DEPTH):
        node = _resolve(node, defs)
        if isinstance(node.get("allOf"), list):
            parts = [_resolve(p, defs) for p in node["allOf"] if isinstance(p, dict)]
            node = {k: v for k, v in node.items() if k != "allOf"}
            for part in parts:
                node = {**part, **node}
            continue
        branches = _branches(node)
        if branches:
            rest = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
            node = {**_resolve(branches[0], defs), **rest}
            continue
        break
    return node


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and isinstance(node.get("enum"), list) and node["enum"]:
        kind = _JSON_NAMES.get(type(node["enum"][0]))
    if kind is None:
        kind = "object" if "properties" in node else "array" if "items" in node else "string"
    return str(kind)


def _description(node: dict[str, Any]) -> str:
    text = str(node.get("description") or node.get("title") or "")
    if "default" in node and node["default"] is not None:
        text = f"{text} (default: {json.dumps(node['default'])})".strip()
    return text


def simplify(node: Any, defs: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """One property's schema in the plain shape: type, description, enum, items, properties."""
    node = _merged(node if isinstance(node, dict) else {}, defs)
    kind = _type(node)
    plain: dict[str, Any] = {"type": kind}
    if description := _description(node):
        plain["description"] = description
    if "const" in node:
        plain["enum"] = [node["const"]]
    elif isinstance(node.get("enum"), list) and node["enum"]:
        plain["enum"] = [v for v in node["enum"] if v is not None]
    if kind == "array":
        plain["items"] = simplify(node.get("items", {}), defs, depth + 1)
    if kind == "object" and depth < MAX_DEPTH and isinstance(node.get("properties"), dict):
        plain.update(_object(node, defs, depth + 1))
    return plain


def _object(node: dict[str, Any], defs: dict[str, Any], depth: int) -> dict[str, Any]:
    properties = {
        str(name): simplify(prop, defs, depth) for name, prop in node["properties"].items()
    }
    required = [r for r in node.get("required") or [] if r in properties]
    return {"properties": properties, "required": required}


def flatten(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A tool's whole input schema as `{"type": "object", "properties", "required"}`."""
    schema = schema or {}
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    top = _merged(schema, defs)
    if not isinstance(top.get("properties"), dict):
        return {"type": "object", "properties": {}, "required": []}
    return {"type": "object", **_object(top, defs, 0)}


def _python(plain: dict[str, Any]) -> Any:
    enum = plain.get("enum") or []
    if enum and all(isinstance(v, str | int | float | bool) for v in enum):
        literal: Any = Literal  # a Literal made at run time, which type checkers cannot follow
        return literal[tuple(enum)]
    kind = plain["type"]
    if kind == "array":
        return list.__class_getitem__(_python(plain["items"]))  # made at run time, as above
    if kind == "object":
        return dict[str, Any]
    return _TYPES.get(kind, Any)


def params_model(name: str, flat: dict[str, Any]) -> type[BaseModel]:
    """A pydantic model of the flat schema: required fields required, the rest optional.

    Fields are named `f0, f1, ...` with the property names as aliases, since a server's
    property may be called anything (`from`, `user-id`, `json`).
    """
    required = set(flat["required"])
    fields: dict[str, Any] = {}
    for i, (prop, plain) in enumerate(flat["properties"].items()):
        annotation = _python(plain)
        default = ... if prop in required else None
        annotation = annotation if prop in required else annotation | None
        fields[f"f{i}"] = (annotation, Field(default, alias=prop))
    config = ConfigDict(extra="ignore", serialize_by_alias=True, validate_by_alias=True)
    return create_model(f"{name}_args", __config__=config, **fields)
