"""Claude Code tool schemas (JSON Schema 2020-12) → what a Gemini `FunctionDeclaration` takes.

Owns: `declaration_parameters`, the choice between Gemini's two schema dialects and the cleaning
the OpenAPI-subset dialect needs (protocol.md §5.3, §7 item 5):

- `parameters` (Gemini's `Schema`, an OpenAPI 3.0 subset) is used when the cleaned schema means
  the same thing as the original: unknown keywords are dropped, `$ref`s inlined, `allOf` merged,
  `oneOf` → `anyOf`, `[X, null]` → X + `nullable`, `const` → `enum`, unsupported string formats
  dropped, integer exclusive bounds made inclusive. Dropping a *constraint* (a format, `pattern`
  keywords Gemini lacks, `additionalProperties: false`, `propertyNames`) keeps the meaning close
  enough; losing *shape* does not.
- `parametersJsonSchema` (real JSON Schema, `$schema` stripped, `$ref`s inlined when they are not
  recursive) is used when the subset cannot say it: a free-form object (`additionalProperties: {}`,
  an object without properties below the top), a value of any type, tuple arrays, recursive
  `$ref`s, or a property name Gemini's `parameters` rejects (§5.2: letter or `_` first,
  `[a-zA-Z0-9_]`, at most 64).
- A tool without arguments (`{"type": "object", "properties": {}}`) sends neither: Gemini rejects
  an OBJECT without properties in `parameters` (§5.3).

Must not import: anything beyond the standard library, `ccroute.errors` and `ccroute.translate`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ccroute.translate.openai_request import strip_schema

MAX_REF_DEPTH = 16
"""Nested `$ref` expansions followed along one path before the schema counts as recursive."""

STRING_FORMATS = frozenset({"enum", "date-time"})
"""String `format`s the Gemini API has accepted all along; others (`uri`, `email`) are dropped."""

NUMBER_FORMATS = {
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}

PARAMETER_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,63}")
"""Property names Gemini's `parameters` dialect accepts (§5.2)."""

_KEPT = frozenset(
    {
        "description",
        "title",
        "nullable",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "default",
        "minimum",
        "maximum",
    }
)
_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
_REF_PREFIXES = ("#/$defs/", "#/definitions/")


class _Recursive(Exception):
    """A `$ref` leads back into itself (or too deep): the schema cannot be inlined."""


def declaration_parameters(schema: object) -> dict[str, Any]:
    """The schema fields of one `FunctionDeclaration` for a tool's `input_schema`.

    Returns `{}` (a tool without arguments), `{"parameters": <Gemini Schema>}` or
    `{"parametersJsonSchema": <JSON Schema>}`; see the module docstring for the choice.
    """
    if not isinstance(schema, dict):
        return {}
    try:
        inlined: dict[str, Any] = _inline(schema, schema, ())
    except _Recursive:
        return {"parametersJsonSchema": strip_schema(schema)}
    json_schema = strip_schema(inlined)
    cleaned, faithful = _clean(json_schema, top=True)
    if not faithful:
        return {"parametersJsonSchema": json_schema}
    if cleaned.get("type") == "object" and not cleaned.get("properties"):
        return {}
    return {"parameters": cleaned}


# --- $ref ----------------------------------------------------------------------------------


def _inline(node: Any, root: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    """`node` with every local `$ref` replaced by its target; `$defs`/`definitions` dropped."""
    if isinstance(node, list):
        return [_inline(item, root, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if ref in seen or len(seen) >= MAX_REF_DEPTH:
            raise _Recursive(ref)
        target = _resolve(ref, root)
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _inline(merged, root, (*seen, ref))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$defs", "definitions") and node is root:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _inline(sub, root, seen) for name, sub in value.items()}
        else:
            out[key] = _inline(value, root, seen)
    return out


def _resolve(ref: str, root: Mapping[str, Any]) -> dict[str, Any]:
    for prefix in _REF_PREFIXES:
        if ref.startswith(prefix):
            table = root.get(prefix[2:-1])
            target = table.get(ref[len(prefix) :]) if isinstance(table, dict) else None
            if isinstance(target, dict):
                return target
    raise _Recursive(ref)  # not a local definition: leave the schema to parametersJsonSchema


# --- cleaning to Gemini's Schema -------------------------------------------------------------


def _clean(node: Any, *, top: bool = False) -> tuple[dict[str, Any], bool]:
    """(Gemini `Schema` for JSON Schema `node`, whether it keeps the node's shape)."""
    if not isinstance(node, dict):
        return {}, False  # `true`/`false` schemas: any value / no value
    node = _merge_all_of(node)
    faithful = True
    out: dict[str, Any] = {key: node[key] for key in _KEPT if key in node}
    alternatives = node.get("anyOf", node.get("oneOf"))
    kinds, nullable = _types(node)
    if nullable:
        out["nullable"] = True
    if isinstance(alternatives, list):
        options = []
        for option in alternatives:
            if isinstance(option, dict) and option.get("type") == "null":
                out["nullable"] = True
            else:
                options.append(option)
        if len(options) == 1 and not kinds:
            inner, inner_faithful = _clean(options[0])
            return {**inner, **out}, inner_faithful
        cleaned_options = [_clean(option) for option in options]
        out["anyOf"] = [schema for schema, _ in cleaned_options]
        return _ordered(out), all(ok for _, ok in cleaned_options)
    if "properties" in node and not kinds:
        kinds = ["object"]
    if not kinds and ("enum" in node or "const" in node):
        kinds = ["string"]
    if len(kinds) > 1:
        shared = {"description", "title", "default", "example", "nullable"}
        branch = {key: value for key, value in node.items() if key not in shared}
        out = {key: value for key, value in out.items() if key in shared}
        cleaned_branches = [_clean({**branch, "type": kind}) for kind in kinds]
        out["anyOf"] = [schema for schema, _ in cleaned_branches]
        return _ordered(out), all(ok for _, ok in cleaned_branches)
    if not kinds:
        return _ordered(out), False  # a value of any type: Gemini's Schema needs a type
    kind = kinds[0]
    out["type"] = kind
    _enum(node, kind, out)
    match kind:
        case "object":
            faithful = _object(node, out, top=top)
        case "array":
            faithful = _array(node, out)
        case "string":
            if node.get("format") in STRING_FORMATS:
                out["format"] = node["format"]
        case "number" | "integer":
            if node.get("format") in NUMBER_FORMATS[kind]:
                out["format"] = node["format"]
            _exclusive_bounds(node, kind, out)
    return _ordered(out), faithful


def _merge_all_of(node: dict[str, Any]) -> dict[str, Any]:
    parts = node.get("allOf")
    if not isinstance(parts, list):
        return node
    merged = {k: v for k, v in node.items() if k != "allOf"}
    for part in parts:
        if not isinstance(part, dict):
            continue
        for key, value in _merge_all_of(part).items():
            if key == "properties" and isinstance(value, dict):
                properties = dict(merged.get("properties", {}))
                for name, sub in value.items():
                    properties.setdefault(name, sub)
                merged["properties"] = properties
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _types(node: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The node's non-null types (lower case, known ones only) and whether null is allowed."""
    raw = node.get("type")
    values = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []
    lowered = [str(value).lower() for value in values]
    kinds = [kind for kind in dict.fromkeys(lowered) if kind in _TYPES]
    return kinds, "null" in lowered or node.get("nullable") is True


def _enum(node: Mapping[str, Any], kind: str, out: dict[str, Any]) -> None:
    values = node.get("enum")
    if "const" in node:
        values = [node["const"]]
    if not isinstance(values, list):
        return
    if kind == "string" and all(isinstance(value, str) for value in values):
        out["enum"] = values  # Gemini's enum holds strings only (§5.3); others are dropped


def _object(node: Mapping[str, Any], out: dict[str, Any], *, top: bool) -> bool:
    properties = node.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    faithful = True
    cleaned: dict[str, Any] = {}
    for name, sub in properties.items():
        schema, ok = _clean(sub)
        cleaned[name] = schema
        faithful = faithful and ok and PARAMETER_NAME.fullmatch(name) is not None
    extra = node.get("additionalProperties")
    if extra not in (None, False) or "patternProperties" in node:
        faithful = False  # keys beyond the listed properties: the subset cannot say it
    if not cleaned:
        # No properties: at the top a tool without arguments; below it a free-form object.
        return faithful and top
    out["properties"] = cleaned
    required = node.get("required")
    if isinstance(required, list):
        kept = [name for name in required if name in cleaned]
        if kept:
            out["required"] = kept
    return faithful


def _array(node: Mapping[str, Any], out: dict[str, Any]) -> bool:
    items = node.get("items")
    if not isinstance(items, dict) or "prefixItems" in node:
        return False  # tuple arrays or items of any type
    out["items"], faithful = _clean(items)
    return faithful


def _exclusive_bounds(node: Mapping[str, Any], kind: str, out: dict[str, Any]) -> None:
    """Integer `exclusiveMinimum`/`exclusiveMaximum` → the equivalent inclusive bound."""
    if kind != "integer":
        return
    low, high = _int(node.get("exclusiveMinimum")), _int(node.get("exclusiveMaximum"))
    minimum, maximum = _int(out.get("minimum")), _int(out.get("maximum"))
    if low is not None and (minimum is None or minimum <= low):
        out["minimum"] = low + 1
    if high is not None and (maximum is None or maximum >= high):
        out["maximum"] = high - 1


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_ORDER = ("type", "format", "title", "description", "nullable", "enum")


def _ordered(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with its keys in a stable, readable order (golden files diff well)."""
    head = {key: schema[key] for key in _ORDER if key in schema}
    return {**head, **{key: value for key, value in sorted(schema.items()) if key not in head}}
