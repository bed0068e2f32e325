"""The translation catalogs: complete, compiled from the current .po, covering every marked text."""

from __future__ import annotations

import ast
import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.frontend import parse_keywords
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from kiosk.core.i18n import Language
from kiosk.paths import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = ROOT / "kiosk"
POT = LOCALE_DIR / "kiosk.pot"
MAKEFILE = ROOT / "Makefile"
I18N = SOURCE_DIR / "core" / "i18n.py"
LANGUAGES = ("es",)
# Each language's plural rule, as gettext reads it from the catalog's header.
PLURAL_FORMS = {"es": "nplurals=2; plural=(n != 1);"}
# The values that count something: a text with one of them is a plural entry (ngettext).
COUNT_FIELDS = ("{count}", "{tries}", "{minutes}", "{seconds}", "{total}")


def po_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.po"


def mo_path(code: str) -> Path:
    return LOCALE_DIR / code / "LC_MESSAGES" / "kiosk.mo"


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def entries(catalog: Catalog) -> dict[object, object]:
    """msgid -> translation, the header left out; a count's forms as tuples (a .mo's are lists)."""

    def plain(value: object) -> object:
        return tuple(value) if isinstance(value, list) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def template_ids() -> set[str | tuple[str, str]]:
    """Plain texts as strings; a count's text as its (singular, plural)."""
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
    for msgid in sorted(template_ids(), key=str):
        message = catalog.get(msgid)
        if message is None or message.fuzzy or message.id != msgid:
            missing.append(msgid)
        elif isinstance(msgid, tuple):
            # Every form the language has, each one translated.
            forms = message.string
            if len(forms) != catalog.num_plurals or not all(forms):
                missing.append(msgid)
        elif not message.string:
            missing.append(msgid)
    assert missing == [], f"{po_path(code)} lacks translations for {missing}"


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_catalog_says_how_its_language_counts(code: str) -> None:
    """Without a Plural-Forms header gettext falls back to English's rule, right for Spanish
    only by luck: the header must be in the .po and compiled into the .mo."""
    assert read_catalog(po_path(code)).plural_forms == PLURAL_FORMS[code]
    with mo_path(code).open("rb") as handle:
        assert gettext.GNUTranslations(handle).info()["plural-forms"] == PLURAL_FORMS[code]


def test_the_template_has_plural_entries() -> None:
    assert ("{count} credit refunded.", "{count} credits refunded.") in template_ids()


def test_no_text_counts_with_an_s_in_brackets() -> None:
    """ "1 minute(s) left": a count's forms are gettext's to choose."""
    bad = [msgid for msgid in template_ids() if "(s)" in str(msgid)]
    assert bad == []


def test_every_count_has_its_plural_forms() -> None:
    """A text with a count in it is an ngettext entry, so each language picks its form."""
    bad = [
        msgid
        for msgid in template_ids()
        if isinstance(msgid, str) and any(field in msgid for field in COUNT_FIELDS)
    ]
    assert bad == [], f"counts without plural forms (use ngettext or Plural): {bad}"


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "0 credits refunded."),
        (1, "1 credit refunded."),
        (2, "2 credits refunded."),
    ],
)
def test_english_picks_its_form_without_a_catalog(count: int, words: str) -> None:
    language = Language("en")
    text = language.ngettext("{count} credit refunded.", "{count} credits refunded.", count)
    assert text.format(count=count) == words


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "Se devolvieron 0 créditos."),
        (1, "Se devolvió 1 crédito."),
        (2, "Se devolvieron 2 créditos."),
        (21, "Se devolvieron 21 créditos."),
    ],
)
def test_spanish_picks_its_form_from_the_catalog(count: int, words: str) -> None:
    language = Language("es")
    text = language.ngettext("{count} credit refunded.", "{count} credits refunded.", count)
    assert text.format(count=count) == words


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
    catalog = read_catalog(po_path(code))
    form_for = gettext.c2py(catalog.plural_expr)
    for msgid, translation in entries(catalog).items():
        if isinstance(msgid, tuple):
            for count in (0, 1, 2, 5, 21, 100):
                shown = language.ngettext(msgid[0], msgid[1], count)
                assert shown == translation[form_for(count)], (msgid, count)
        else:
            assert language.text(msgid) == translation


def extraction_keywords() -> dict[str, object]:
    """The keywords `make translations` extracts with: babel's own and the Makefile's ``-k``."""
    command = next(
        line for line in MAKEFILE.read_text(encoding="utf-8").splitlines()
        if "pybabel extract" in line
    )  # fmt: skip
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(re.findall(r"-k\s+(\S+)", command)))
    return keywords


def extracted_messages() -> dict[str | tuple[str, str], list[str]]:
    """Every text marked with ``_(...)``, ``ngettext(...)`` or ``Plural(...)`` under kiosk/, as
    `make translations` finds them; a count's text as (singular, plural)."""
    keywords = extraction_keywords()
    found: dict[str | tuple[str, str], list[str]] = {}
    for path in source_files():
        with path.open("rb") as handle:
            for line, message, _comments, _context in extract("python", handle, keywords):
                found.setdefault(message, []).append(f"{path.relative_to(ROOT)}:{line}")
    for path in sorted(SOURCE_DIR.rglob("*.kv")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"""\b_\(\s*(["'])(.*?)\1\s*\)""", text):
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(match.group(2), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_the_extraction_finds_the_marked_texts() -> None:
    found = extracted_messages()
    assert "Tap your badge or touch to sign in" in found
    # language.ngettext(...), translated at once; Plural(...), translated where it is shown.
    assert ("{count} credit refunded.", "{count} credits refunded.") in found
    assert (
        "Wrong PIN. {tries} try left before a {minutes}-minute pause.",
        "Wrong PIN. {tries} tries left before a {minutes}-minute pause.",
    ) in found


def test_every_marked_text_is_in_the_template() -> None:
    template = template_ids()
    missing = {
        msgid: places for msgid, places in extracted_messages().items() if msgid not in template
    }
    assert missing == {}, f"marked but not in {POT.name} (extract again): {missing}"


def _called(node: ast.Call) -> str:
    """``_``, ``ngettext`` (``language.ngettext`` too) or ``Plural``; "" for other calls."""
    func = node.func
    if isinstance(func, ast.Attribute):
        name = func.attr
    else:
        name = func.id if isinstance(func, ast.Name) else ""
    return name if name in ("_", "ngettext", "Plural") else ""


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_every_marked_text_is_a_plain_literal() -> None:
    """``_(name)`` or ``_(f"...")`` cannot be extracted: its text would never be translated.
    Nor can a count's forms that are not written out in the call."""
    bad = []
    for path in source_files():
        if path == I18N:
            continue  # where marked texts are translated, handed on from their marks
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not (called := _called(node)):
                continue
            if called == "_":
                literal = len(node.args) == 1 and not node.keywords and _is_text(node.args[0])
            else:
                literal = len(node.args) >= 2 and all(_is_text(arg) for arg in node.args[:2])
            if not literal:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == []
