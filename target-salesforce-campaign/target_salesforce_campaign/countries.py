"""Country names and codes -> ISO 3166-1 alpha-2 codes, as State and Country Picklists expect (pycountry)."""

from __future__ import annotations

import functools
import gettext
import unicodedata

import pycountry

# Eventmaker accounts are mostly French-speaking; names in these languages are recognised too.
LANGUAGES = ("fr", "de", "es", "it", "nl", "pt")
# Usual names that ISO 3166's English and its translations do not spell this way.
ALIASES = {"usa": "US", "uk": "GB", "great britain": "GB", "england": "GB", "russia": "RU", "south korea": "KR"}


def normalize(text: str) -> str:
    """Case-, accent-, punctuation- and space-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.split())


@functools.cache
def _index() -> dict[str, str]:
    """Every known spelling -> alpha-2 code."""
    index: dict[str, str] = {}
    translations = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in LANGUAGES]
    for country in pycountry.countries:
        names = {country.alpha_2, country.alpha_3, country.name}
        names |= {getattr(country, attr) for attr in ("official_name", "common_name") if hasattr(country, attr)}
        names |= {t.gettext(n) for t in translations for n in list(names) if len(n) > 3}
        for name in names:
            index.setdefault(normalize(name), country.alpha_2)
    for alias, code in ALIASES.items():
        index.setdefault(alias, code)
    return index


def country_code(value: object) -> str | None:
    """ISO alpha-2 code of a country name (English or a listed language) or code; None when unknown."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _index().get(normalize(value))
