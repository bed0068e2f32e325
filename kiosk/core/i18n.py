"""Words and times in the reader's language: gettext catalogs under assets/locale, CLDR formats.

Each kiosk holds its own ``Language``; nothing is installed globally, so two kiosks in one
process can speak different languages. A count's words go through ``ngettext`` (at once) or
``Plural`` (where they are shown), so that each language picks its own form for the number.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time, get_date_format

from kiosk.paths import LOCALE_DIR

DOMAIN = "kiosk"
# Each language is named in itself: a reader who does not know the current one still finds theirs.
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def _(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Plural:
    """A count's message in both English forms, translated where it is shown.

    ``count`` names the value whose number picks the form. `make translations` extracts
    ``Plural(...)`` calls as it does ``ngettext(...)``'s.
    """

    singular: str
    plural: str
    count: str = "count"


class Language:
    """One language's catalog and formats."""

    def __init__(self, code: str, locale_dir: Path = LOCALE_DIR) -> None:
        self.code = code
        self._catalog = gettext.translation(
            DOMAIN, localedir=locale_dir, languages=[code], fallback=code == "en"
        )

    def text(self, message: str) -> str:
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of a count's message for ``n``, by the catalog's Plural-Forms (English's
        rule where there is no catalog)."""
        return self._catalog.ngettext(singular, plural, n)

    def time(self, moment: datetime, zone: ZoneInfo | None = None) -> str:
        """ "1:30 PM" or "13:30": the time of day of ``moment`` (in ``zone``, when given).

        Every time of day on a screen is written here, so that one visit reads the same on the
        idle notice, the visit screen and check-in. The rule: the minute the moment falls in,
        seconds cut, never rounded. A visit at 5:41:40 is booked for 5:41, begins while the
        header's clock says 5:41 (a clock shows the minute that has begun), and is "5:41 PM"
        everywhere; rounded, it would read 5:42 while the clock still says 5:41.
        """
        if zone is not None:
            moment = moment.astimezone(zone)
        minute = moment.replace(second=0, microsecond=0)
        # A no-break space keeps "PM" on the line of its time.
        return format_time(minute, format="short", locale=self.code).replace("\u202f", "\u00a0")

    def date(self, moment: datetime) -> str:
        """ "Monday, November 23": the full date without the year, which a header can spare."""
        pattern = get_date_format("full", locale=self.code).pattern
        without_year = re.sub(r"[,\s]*(?:'de'\s*)?y+\s*$", "", pattern)
        return format_date(moment, format=without_year, locale=self.code)

    def short_datetime(self, moment: datetime) -> str:
        """ "Nov 23, 1:30 PM": a message's date in a list."""
        day = format_skeleton("MMMd", moment, locale=self.code)
        return f"{day}, {self.time(moment)}"

    def countdown(self, seconds: float) -> str:
        """ "14:05": minutes and seconds left, the same in every language."""
        whole = max(0, int(seconds + 0.999))
        return f"{whole // 60}:{whole % 60:02d}"


def words_with_values(
    language: Language, zone: ZoneInfo, words: str | Plural, values: Mapping[str, Any]
) -> str:
    """A message translated, in the form its count asks for; its times local ("2:00 PM") and
    ``day`` a date."""

    def local(key: str, value: Any) -> Any:
        if not isinstance(value, datetime):
            return value
        return language.date(value.astimezone(zone)) if key == "day" else language.time(value, zone)

    if isinstance(words, Plural):
        text = language.ngettext(words.singular, words.plural, values[words.count])
    else:
        text = language.text(words)
    return text.format(**{k: local(k, v) for k, v in values.items()})
