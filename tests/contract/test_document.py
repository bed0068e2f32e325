"""docs/protocol.md against the contract's code: every JSON example on the page is parsed with
the model of the topic it is shown on, every payload kind has one, and each is written as the
code writes it, so that the page and the code cannot drift apart."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.contract.builders import WILL_PAYLOAD
from kiosk.contract.codec import dump, parse_downlink, parse_enrollment, parse_uplink
from kiosk.contract.downlink import COMMANDS
from kiosk.contract.topics import DOWNLINK_TYPES, ENROLLMENT_TYPES, UPLINK_TYPES

PAGE = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
FENCE = re.compile(r"^```json\n(.*?)^```$", re.MULTILINE | re.DOTALL)
# The topic an example travels on, in backticks on the line before its fence.
TOPIC = re.compile(
    r"`(ROOT|kiosk/v1/\{facility_id\}/all|kiosk/v1/provision/\{request_id\})"
    r"/(down|up)/([a-z-]+)`"
)
PARSERS = {"downlink": parse_downlink, "uplink": parse_uplink, "enrollment": parse_enrollment}


@dataclass(frozen=True)
class Example:
    line: int  # of the fence, for failure messages
    direction: str  # downlink, uplink or enrollment
    kind: str  # the topic's kind: "config", "cmd", "csr", ...
    text: str

    def parse(self):
        return PARSERS[self.direction](self.kind, self.text.encode())


def _direction(root: str, way: str, kind: str, line: int) -> str:
    where = f"docs/protocol.md:{line}"
    if root.startswith("kiosk/v1/provision"):
        assert (way, kind) in (("up", "csr"), ("down", "result")), f"{where}: {kind}"
        return "enrollment"
    if way == "up":
        assert root == "ROOT", f"{where}: the uplink is under ROOT"
        return "uplink"
    facility_wide = root.endswith("/all")
    assert facility_wide == (kind == "notice"), f"{where}: {kind} is not on {root}"
    return "downlink"


def examples() -> list[Example]:
    page = PAGE.read_text(encoding="utf-8")
    found = []
    for fence in FENCE.finditer(page):
        line = page.count("\n", 0, fence.start()) + 1
        before = page[: fence.start()].rstrip("\n").rsplit("\n", 1)[-1]
        topics = TOPIC.findall(before)
        assert topics, f"docs/protocol.md:{line}: a JSON example without its topic before it"
        root, way, kind = topics[-1]
        direction = _direction(root, way, kind, line)
        found.append(Example(line, direction, kind, fence.group(1)))
    return found


EXAMPLES = examples()


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[f"line{e.line}-{e.direction}-{e.kind}" for e in EXAMPLES]
)
def test_every_example_parses_with_the_model_of_its_topic(example: Example) -> None:
    model = example.parse()  # Rejected, with the field and the rule, if the page is wrong
    # Written as the code writes it: nothing the model would drop, times to the millisecond.
    assert dump(model) == json.loads(example.text)


def test_every_payload_has_an_example() -> None:
    shown = {(example.direction, example.kind) for example in EXAMPLES}
    wanted = {("downlink", kind) for kind in DOWNLINK_TYPES}
    wanted |= {("uplink", kind) for kind in UPLINK_TYPES}
    wanted |= {("enrollment", kind) for kind in ENROLLMENT_TYPES}
    assert sorted(wanted - shown) == []


def test_every_command_and_both_enrollment_outcomes_have_an_example() -> None:
    commands = {e.parse().name for e in EXAMPLES if e.kind == "cmd"}
    assert commands == set(COMMANDS)
    outcomes = {e.parse().ok for e in EXAMPLES if e.kind == "result"}
    assert outcomes == {True, False}


def test_the_will_on_the_page_is_the_one_the_kiosk_sets() -> None:
    assert f"`{WILL_PAYLOAD.decode()}`" in PAGE.read_text(encoding="utf-8")


def test_the_page_needs_nothing_outside_the_repository() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert "../" not in page.replace(".../", "")  # no relative path climbs out of the repo
    for target in re.findall(r"\]\(([^)]*)\)", page):  # every Markdown link stays inside
        assert not target.startswith(("/", "http:", "https:", "file:")), target
