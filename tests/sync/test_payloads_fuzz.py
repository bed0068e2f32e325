"""Fuzzing ``parse_downlink``: whatever arrives, it returns a model or raises Rejected.

Nothing else may escape (no RecursionError, MemoryError, TypeError, pydantic's ValidationError),
a reason is short, and it never carries a piece of the payload. Markers make that checkable:
generated text has a marker char every 6 chars (a snowman, or "~" in ASCII text), so each of
its 8-char pieces holds one, and Hypothesis cannot happen upon words a reason legitimately
uses (it mines string constants from the code under test).
"""

from __future__ import annotations

import base64
import gc
import json
import string
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from kiosk.contract.codec import FIELD_NAMES, Rejected, parse_downlink
from kiosk.contract.topics import DOWNLINK_TYPES
from tests.sync.test_payloads import example

KINDS = list(DOWNLINK_TYPES)
MARK = "ZZSECRETZZ"
SNOWMAN = "\u2603"
WINDOW = 8

FUZZ = settings(
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def marked(text: str, marker: str = SNOWMAN) -> str:
    return marker + marker.join(text[i : i + 6] for i in range(0, len(text), 6)) + marker


def check(kind: str, raw: bytes, generated: list[str]) -> BaseModel | None:
    """The property; returns the model when the payload was accepted."""
    try:
        model = parse_downlink(kind, raw)
    except Rejected as rejection:
        reason = rejection.reason
        assert isinstance(reason, str) and 0 < len(reason) <= 200, reason
        assert reason.isascii(), reason
        assert MARK not in reason and SNOWMAN not in reason and "~" not in reason, reason
        for text in generated:
            # Periodic huge strings repeat their windows: the first few thousand cover them all.
            for start in range(min(len(text) - WINDOW + 1, 4096)):
                assert text[start : start + WINDOW] not in reason, (reason, text[:80])
        return None
    assert isinstance(model, BaseModel)
    return model


def strings_in(value: Any) -> Iterator[str]:
    """Generated strings in a value: every string and every key that is not one of our fields."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            yield from (key for key in node if key not in FIELD_NAMES)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# --- strategies ---------------------------------------------------------------------------------

B64_ALPHABET = string.ascii_letters + string.digits + "+/="
unicode_text = st.text(max_size=30).map(marked)
ascii_text = st.text(alphabet=B64_ALPHABET + "-_:.TZ $", max_size=30).map(
    lambda text: marked(text, "~")
)
texts = unicode_text | ascii_text
keys = st.sampled_from(sorted(FIELD_NAMES)) | unicode_text
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=5,
)
RAW_SNIPPETS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1e999",
    b"1" + b"0" * 5000,
    b"-0",
    b"1.0",
    b"1e308",
    b'"\\ud800"',
    b'"\\udfff\\ud800"',
    b'"\\u0000"',
    b"[]",
    b"{}",
]
HUGE_SIZES = [65, 101, 501, 1001, 10_001, 70_000, 300_000]
DEPTHS = [31, 33, 100, 999, 1000, 5000, 10_000]


@st.composite
def bad_base64(draw: st.DrawFn) -> str:
    data = draw(st.sampled_from([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b""]))
    text = base64.b64encode(data + draw(st.binary(max_size=48))).decode()
    how = draw(st.sampled_from(["cut", "space", "urlsafe", "char", "pad", "plain"]))
    if how == "cut" and text:
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif how == "space":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([" ", "\n", "\r\n", "\t"])) + text[at:]
    elif how == "urlsafe":
        text = text.replace("+", "-").replace("/", "_") + "-_"
    elif how == "char":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["*", "é", "\x00", "."])) + text[at:]
    elif how == "pad":
        text += draw(st.sampled_from(["=", "==", "===", "A", "A=="]))
    return MARK + text if draw(st.booleans()) else text


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a payload a value can be changed or removed."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> tuple[bytes, list[str]]:
    """A valid payload with one to three things broken; the raw bytes and the generated strings."""
    payload: Any = example(kind)
    generated: list[str] = []
    snippets: list[bytes] = []
    for _ in range(draw(st.integers(1, 3))):
        # The envelope has its own tests and fuzzer; here the budget goes to the fields.
        places = [path for path in paths(payload) if path not in (("v",), ("type",))]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent = payload
        for step in path[:-1]:
            parent = parent[step]
        operation = draw(
            st.sampled_from(["drop", "null", "value", "huge", "deep", "base64", "raw", "add"])
        )
        if operation == "drop":
            del parent[path[-1]]
            continue
        if operation == "null":
            value: Any = None
        elif operation == "value":
            value = draw(json_values)
        elif operation == "huge":
            value = (MARK * (draw(st.sampled_from(HUGE_SIZES)) // len(MARK) + 1))[1:]
        elif operation == "base64":
            value = draw(bad_base64())
        else:  # raw snippets, deep nesting, new fields: spliced into the text after dumping
            if operation == "deep":
                depth = draw(st.sampled_from(DEPTHS))
                opener = draw(st.sampled_from([b"[", b'{"a":', b'{"visits":[']))
                closer = {b"[": b"]", b'{"a":': b"}", b'{"visits":[': b"]}"}[opener]
                snippet = opener * depth + b"1" + closer * depth
            elif operation == "raw":
                snippet = draw(st.sampled_from(RAW_SNIPPETS))
            else:
                snippet = json.dumps({draw(keys): draw(json_values)}).encode()
            value = f"@@RAW{len(snippets)}@@"
            snippets.append(snippet)
        generated.extend(strings_in(value))
        parent[path[-1]] = value
    raw = json.dumps(payload).encode()
    for index, snippet in enumerate(snippets):
        raw = raw.replace(f'"@@RAW{index}@@"'.encode(), snippet)
    return raw, generated


BAD_UTF8 = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]


def damaged(raw: bytes, fraction: float, bad: bytes) -> list[bytes]:
    """The text itself broken three ways: invalid UTF-8, a cut, a duplicate key."""
    at = int(len(raw) * fraction)
    return [raw[:at] + bad + raw[at:], raw[:at], b'{"v":1,' + raw[1:]]


@st.composite
def arbitrary_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Anything at all under our field names and others; the envelope is added per topic."""
    return draw(st.dictionaries(keys, scalars | json_values, max_size=8))


def with_envelope(kind: str, fields: dict[str, Any], v: Any, first: bool) -> bytes:
    envelope = {"v": v, "type": DOWNLINK_TYPES[kind]}
    if kind == "cmd" and "name" not in fields:
        envelope["name"] = "end_visit"
    payload = {**envelope, **fields} if first else {**fields, **envelope}
    return json.dumps(payload).encode()


# --- properties ---------------------------------------------------------------------------------
# Example counts keep the file under a minute on two cores. Each example is checked as several
# payloads: 8 kinds x 1,000 mutated examples x 4 (as is, bad UTF-8, cut, duplicate key), 600
# field sets under each of the 8 envelopes, and 1,000 byte strings and 300 JSON values each on
# all 8 topics: about 49,000 payloads from 9,900 Hypothesis examples.


@pytest.mark.parametrize("kind", KINDS)
@settings(FUZZ, max_examples=1000)
@given(data=st.data(), fraction=st.floats(0, 1), bad=st.sampled_from(BAD_UTF8))
def test_mutated_payloads(kind: str, data: st.DataObject, fraction: float, bad: bytes) -> None:
    raw, generated = data.draw(mutated(kind))
    check(kind, raw, generated)
    for broken in damaged(raw, fraction, bad):
        check(kind, broken, generated)


@settings(FUZZ, max_examples=600)
@given(
    fields=arbitrary_fields(),
    v=st.sampled_from([1, 1, 1, 2, True, "1", 1.0, None]),
    first=st.booleans(),
)
def test_arbitrary_objects(fields: dict[str, Any], v: Any, first: bool) -> None:
    generated = list(strings_in(fields))
    for kind in KINDS:
        check(kind, with_envelope(kind, fields, v, first), generated)


@settings(FUZZ, max_examples=1000)
@given(raw=st.binary(max_size=512) | st.builds(bytes.__add__, st.just(b'{"v":1,'), st.binary()))
def test_arbitrary_bytes(raw: bytes) -> None:
    for kind in KINDS:
        check(kind, raw, [])


@settings(FUZZ, max_examples=300)
@given(value=json_values)
def test_arbitrary_json(value: Any) -> None:
    raw, generated = json.dumps(value).encode(), list(strings_in(value))
    for kind in KINDS:
        check(kind, raw, generated)


@pytest.mark.parametrize("kind", KINDS)
def test_every_example_is_accepted(kind: str) -> None:
    # The fuzzers mutate these; they must be valid to begin with.
    assert check(kind, json.dumps(example(kind)).encode(), []) is not None


# --- memory -------------------------------------------------------------------------------------


def rejected_payloads() -> list[tuple[str, bytes]]:
    """A few hundred distinct payloads that are each rejected, by many different rules."""
    cases: list[tuple[str, bytes]] = []
    for kind in KINDS:
        base = example(kind)
        for index, path in enumerate(paths(base)):
            for bad in (None, MARK * (index + 1), [MARK] * 3, {"x": MARK}, 2**40, -1):
                payload = example(kind)
                parent: Any = payload
                for step in path[:-1]:
                    parent = parent[step]
                parent[path[-1]] = bad
                cases.append((kind, json.dumps(payload).encode()))
        cases.append((kind, b"[" * 10_000 + b"]" * 10_000))
        cases.append((kind, b'{"v":1,"type":"x","y":"\xff"}'))
        cases.append((kind, json.dumps({**base, "pad": MARK * 7000}).encode()))
    accepted = []
    for kind, raw in cases:
        try:
            parse_downlink(kind, raw)
        except Rejected:
            continue
        accepted.append((kind, raw))
    rejected = [case for case in cases if case not in accepted]
    assert len(rejected) > 300
    return rejected


def test_rejections_do_not_accumulate_memory() -> None:
    cases = rejected_payloads()
    for kind, raw in cases:  # warm every cache (regex, zoneinfo, pydantic) before measuring
        with pytest.raises(Rejected):
            parse_downlink(kind, raw)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for count in range(5000):
            kind, raw = cases[count % len(cases)]
            try:
                parse_downlink(kind, raw)
            except Rejected:
                pass
            else:
                pytest.fail(f"accepted {kind}")
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 2 * 1024 * 1024, growth
