"""Strict decoding, validation and compact encoding of every payload of the contract.

``parse_downlink``, ``parse_uplink`` and ``parse_enrollment`` turn the bytes of one MQTT message
into a frozen model or raise ``Rejected``: the payload changes nothing, and the reason names the
field and the rule and never quotes the payload, so it can go into a ``payload_rejected`` event
as it is. ``build`` makes a model from Python values (ValueError when the contract does not
allow them), ``dump`` gives its JSON-ready dict and ``encode`` the bytes as published.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from kiosk.contract import limits
from kiosk.contract.downlink import COMMANDS, DOWNLINK_MODELS
from kiosk.contract.enrollment import ENROLLMENT_MODELS
from kiosk.contract.fields import Payload
from kiosk.contract.topics import DOWNLINK_TYPES, ENROLLMENT_TYPES, UPLINK_TYPES
from kiosk.contract.uplink import UPLINK_MODELS

P = TypeVar("P", bound=Payload)


class Rejected(Exception):
    """A payload refused; ``reason`` names the field and rule, never a value."""

    def __init__(self, reason: str) -> None:
        self.reason = _clip(reason)
        super().__init__(self.reason)


def _clip(text: str) -> str:
    most = limits.REJECTION_REASON_MAX
    return text if len(text) <= most else text[: most - 3] + "..."


# --- encoding -----------------------------------------------------------------------------------


def dump(payload: Payload) -> dict[str, Any]:
    """The payload as JSON-ready data: the fields it was given (absent ones stay absent), times
    as ``YYYY-MM-DDTHH:MM:SS.mmmZ``, ``from_`` as ``from``."""
    return payload.model_dump(mode="json", by_alias=True, exclude_unset=True)


def encode(payload: Mapping[str, Any] | Payload) -> bytes:
    """Compact UTF-8 JSON, non-ASCII written as is, as published."""
    if isinstance(payload, Payload):
        payload = dump(payload)
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def payload_type(model: type[Payload]) -> str:
    """The ``type`` a model's payloads carry."""
    return get_args(model.model_fields["type"].annotation)[0]


def build(model: type[P], /, **fields: Any) -> P:
    """A payload, or a part of one (a visit, a resident), from Python values; times may be aware
    datetimes. A payload's ``v`` and ``type`` are added.

    Raises ValueError naming the field and the rule for a value the contract does not allow.
    """
    what = model.__name__
    if "type" in model.model_fields:
        what = payload_type(model)
        fields = {"v": 1, "type": what, **fields}
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        raise ValueError(f"{what}: {reason(error)}") from None


def build_downlink(kind: str, /, **fields: Any) -> Payload:
    """A payload for the downlink topic ``kind``; a command's model is chosen by its name."""
    if kind not in DOWNLINK_TYPES:
        raise ValueError(f"no downlink topic {kind!r}")
    try:
        return validate_downlink(kind, {"v": 1, "type": DOWNLINK_TYPES[kind], **fields})
    except Rejected as rejection:
        raise ValueError(f"{DOWNLINK_TYPES[kind]}: {rejection.reason}") from None


# --- decoding -----------------------------------------------------------------------------------


class _JsonRule(ValueError):
    """A JSON text that parses but breaks a rule of ours; the message is the reason."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are read differently by different parsers (first or last wins): refused.
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _JsonRule("duplicate key in an object")
    return result


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999 parses to inf
        raise _JsonRule("number out of range")
    return number


def _constant(name: str) -> Any:
    raise _JsonRule("NaN or Infinity is not JSON")


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iterative, so a deep payload cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def decode(raw: bytes, *, max_bytes: int, max_elements: int) -> dict[str, Any]:
    """One JSON object, checked in this order: size, element count, UTF-8, JSON (no NaN, no
    overflowing number, no duplicate key), nesting, an object at the top."""
    if len(raw) > max_bytes:
        raise Rejected(f"larger than {max_bytes} bytes")
    if raw.count(b",") + raw.count(b"[") + raw.count(b"{") > max_elements:
        raise Rejected(f"more than {max_elements} JSON elements")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("not UTF-8") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_object, parse_float=_finite, parse_constant=_constant
        )
    except _JsonRule as error:
        raise Rejected(f"not JSON: {error}") from None
    except RecursionError:
        raise Rejected(f"nested deeper than {limits.MAX_DEPTH} levels") from None
    except MemoryError:
        raise Rejected("too large to parse") from None
    except ValueError:  # JSONDecodeError, and integers longer than Python's digit limit
        raise Rejected("not JSON") from None
    if not isinstance(value, dict):
        raise Rejected("not a JSON object")
    if _depth_exceeds(value, limits.MAX_DEPTH):
        raise Rejected(f"nested deeper than {limits.MAX_DEPTH} levels")
    return value


# --- reasons ------------------------------------------------------------------------------------


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _models_in(argument)


def _field_names(roots: list[type[BaseModel]]) -> frozenset[str]:
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()
    while roots:
        model = roots.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(field.alias or name)
            roots.extend(_models_in(field.annotation))
    return frozenset(names)


# Only these may appear in a reason's path: a path element that came from the payload (a key of
# an unknown object) is dropped rather than quoted.
FIELD_NAMES = _field_names(
    [
        *DOWNLINK_MODELS.values(),
        *COMMANDS.values(),
        *UPLINK_MODELS.values(),
        *ENROLLMENT_MODELS.values(),
    ]
)

_RULES = MappingProxyType(
    {
        "missing": "required",
        "string_type": "expected a string",
        "string_unicode": "contains a lone UTF-16 surrogate",
        "int_type": "expected an integer",
        "float_type": "expected a number",
        "finite_number": "not a finite number",
        "bool_type": "expected true or false",
        "list_type": "expected a list",
        "dict_type": "expected an object",
        "model_type": "expected an object",
        "model_attributes_type": "expected an object",
        "string_too_short": "shorter than {min_length} chars",
        "string_too_long": "longer than {max_length} chars",
        "too_short": "fewer than {min_length} items",
        "too_long": "more than {max_length} items",
        "greater_than_equal": "less than {ge}",
        "less_than_equal": "greater than {le}",
        "literal_error": "expected {expected}",
    }
)
_LIMIT_KEYS = ("min_length", "max_length", "ge", "le", "expected")


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in FIELD_NAMES:
            text += f".{part}" if text else part
    return text


def _join(path: str, sub: str) -> str:
    if not sub:
        return path
    return f"{path}{sub}" if sub.startswith("[") or not path else f"{path}.{sub}"


def reason(error: ValidationError) -> str:
    """The first error as "path: rule", from our schema's words only (never the input)."""
    first = error.errors(include_url=False, include_input=False)[0]
    kind, ctx = first["type"], first.get("ctx") or {}
    path = _path(first["loc"])
    if kind == "kiosk_rule":
        path, rule = _join(path, str(ctx.get("sub", ""))), str(ctx.get("rule", "invalid"))
    elif kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        rule = "empty"
    else:
        # Only limits of our schema are filled in; "actual_length" and the like are left out.
        found = {key: ctx[key] for key in _LIMIT_KEYS if key in ctx}
        try:
            rule = _RULES[kind].format_map(found)
        except (KeyError, IndexError, ValueError):
            rule = f"invalid ({kind})"
    return f"{path}: {rule}" if path else rule


# --- validation ---------------------------------------------------------------------------------


def _envelope(value: Mapping[str, Any], expected: str) -> None:
    version = value.get("v")
    if type(version) is not int or version != 1:
        raise Rejected("v: expected 1")
    if value.get("type") != expected:
        raise Rejected(f"type: expected {expected!r}")


def _validated(model: type[P], value: Mapping[str, Any]) -> P:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise Rejected(reason(error)) from None


def validate_downlink(kind: str, value: Mapping[str, Any]) -> Payload:
    """The model for a decoded payload on the downlink topic ``kind`` (a key of DOWNLINK_TYPES).

    Raises Rejected for any payload the contract does not allow, ValueError for an unknown kind.
    """
    if kind not in DOWNLINK_TYPES:
        raise ValueError(f"no downlink topic {kind!r}")
    _envelope(value, DOWNLINK_TYPES[kind])
    model = DOWNLINK_MODELS[kind]
    if kind == "cmd":
        name = value.get("name")
        if name is None:
            raise Rejected("name: required")
        if not isinstance(name, str):
            raise Rejected("name: expected a string")
        if name not in COMMANDS:
            raise Rejected("name: unknown command")
        model = COMMANDS[name]
    return _validated(model, value)


def parse_downlink(kind: str, raw: bytes) -> Payload:
    """The model for one payload on the downlink topic ``kind``, from its bytes."""
    if kind not in DOWNLINK_TYPES:
        raise ValueError(f"no downlink topic {kind!r}")
    value = decode(raw, max_bytes=limits.MAX_BYTES[kind], max_elements=limits.MAX_ELEMENTS[kind])
    return validate_downlink(kind, value)


def validate_uplink(kind: str, value: Mapping[str, Any]) -> Payload:
    """The model for a decoded payload on the uplink topic ``kind`` (a key of UPLINK_TYPES)."""
    if kind not in UPLINK_TYPES:
        raise ValueError(f"no uplink topic {kind!r}")
    _envelope(value, UPLINK_TYPES[kind])
    return _validated(UPLINK_MODELS[kind], value)


def parse_uplink(kind: str, raw: bytes) -> Payload:
    """The model for one payload on the uplink topic ``kind``, from its bytes."""
    if kind not in UPLINK_TYPES:
        raise ValueError(f"no uplink topic {kind!r}")
    value = decode(
        raw,
        max_bytes=limits.UPLINK_MAX_BYTES[kind],
        max_elements=limits.UPLINK_MAX_ELEMENTS,
    )
    return validate_uplink(kind, value)


def validate_enrollment(kind: str, value: Mapping[str, Any]) -> Payload:
    """The model for a decoded enrollment payload: ``csr`` (enroll) or ``result`` (enrolled)."""
    if kind not in ENROLLMENT_TYPES:
        raise ValueError(f"no enrollment topic {kind!r}")
    _envelope(value, ENROLLMENT_TYPES[kind])
    return _validated(ENROLLMENT_MODELS[kind], value)


def parse_enrollment(kind: str, raw: bytes) -> Payload:
    """The model for one enrollment payload, from its bytes."""
    if kind not in ENROLLMENT_TYPES:
        raise ValueError(f"no enrollment topic {kind!r}")
    value = decode(
        raw,
        max_bytes=limits.ENROLLMENT_MAX_BYTES,
        max_elements=limits.ENROLLMENT_MAX_ELEMENTS,
    )
    return validate_enrollment(kind, value)
