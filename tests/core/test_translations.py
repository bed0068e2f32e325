"""The translation catalogs: complete, compiled from the current .po, covering every marked text."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from kiosk.core.i18n import Language
from kiosk.paths import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = ROOT / "kiosk"
POT = LOCALE_DIR / "kiosk.pot"
LANGUAGES = ("es",)


def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.po"


def mo_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.mo"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def entries(catalog: Catalog) -> dict[object, object]:
    """msgid -> translation, the header left out."""
    return {message.id: message.string for message in catalog if message.id}


def template_ids() -> set[str]:
    return {message.id for message in read_catalog(POT) if message.id}


def source_files() -> list[Path]:
    files = sorted(SOURCE_DIR.rglob("*.py"))
    assert files, f"no Python files under {SOURCE_DIR}"
    return files


def test_the_template_is_not_empty() -> None:
    assert "Next visit at this kiosk" in template_ids()


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_template_message_has_a_translation(code: str) -> None:
    catalog = read_catalog(po_path(code))
    missing = []
    for msgid in sorted(template_ids()):
        message = catalog.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
    assert missing == [], f"{po_path(code)} lacks translations for {missing}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_po_holds_no_message_the_template_dropped(code: str) -> None:
    stale = set(entries(read_catalog(po_path(code)))) - template_ids()
    assert stale == set(), f"{po_path(code)} still translates {sorted(stale)}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_committed_mo_matches_the_po(code: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, read_catalog(po_path(code)))
    compiled.seek(0)
    with mo_path(code).open("rb") as committed:
        assert entries(read_mo(committed)) == entries(read_mo(compiled)), (
            f"{mo_path(code)} is out of date: compile {po_path(code)} again"
        )


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_kiosk_shows_the_translations(code: str) -> None:
    language = Language(code)
    for msgid, translation in entries(read_catalog(po_path(code))).items():
        assert language.text(msgid) == translation


def extracted_messages() -> dict[str, list[str]]:
    """Every string marked with ``_(...)`` (or another gettext keyword) under kiosk/."""
    found: dict[str, list[str]] = {}
    for path in source_files():
        with path.open("rb") as handle:
            for line, message, _comments, _context in extract("python", handle):
                msgid = message if isinstance(message, str) else message[0]
                found.setdefault(msgid, []).append(f"{path.relative_to(ROOT)}:{line}")
    for path in sorted(SOURCE_DIR.rglob("*.kv")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""\b_\(\s*(["'])(.*?)\1\s*\)""", text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(2), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_the_extraction_finds_the_marked_texts() -> None:
    assert "Tap your badge or touch to sign in" in extracted_messages()


def test_every_marked_text_is_in_the_template() -> None:
    template = template_ids()
    missing = {
        msgid: places for msgid, places in extracted_messages().items() if msgid not in template
    }
    assert missing == {}, f"marked but not in {POT.name} (extract again): {missing}"


def test_every_marked_text_is_a_plain_literal() -> None:
    """``_(name)`` or ``_(f"...")`` cannot be extracted: its text would never be translated."""
    bad = []
    for path in source_files():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "_"
            ):
                literal = (
                    len(node.args) == 1
                    and not node.keywords
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                )
                if not literal:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []
