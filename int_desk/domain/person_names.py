"""People's names as they arrive from GP systems and spreadsheets, and as a person writes them.

clean("O’Brien\u00a0 ") -> "O'Brien"          typographic variants made plain
match_key("O’BRIEN") == match_key("o'brien")   for matching and search (case, accents)
tidy_case("MCDONALD") -> ("McDonald", False)  SystmOne's capitals, cased as people write them
tidy_case("MACHIN")   -> ("MACHIN", True)     a guess (Machin? MacHin?): the original is kept
split_full_name("Jan van der Berg") -> ("Jan", "van der Berg")
split_full_name("Mary Ann Smith")   -> None   ambiguous: the row asks for a column mapping
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from int_desk.domain.nhs_number import format_nhs

# Letters Unicode does not decompose into a base letter plus an accent.
_BASE_LETTERS = str.maketrans(
    {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss", "æ": "ae",
     "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i"}
)  # fmt: skip
# Excel's autocorrect and word processors turn ' into these; a keyboard types '.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2019\u2018\u02bc\u02b9\u0060\u00b4\u2032", "'"))
_HYPHENS = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2212", "-"))
_SPACES = re.compile(r"[\s\u00a0\u2007\u202f\u200b\ufeff]+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form for sorting and searching names (Zoë = Zoe)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_BASE_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def clean(text: str) -> str:
    """One plain spelling: straight apostrophes and hyphens, single ordinary spaces, NFC."""
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES).translate(_HYPHENS)
    return _SPACES.sub(" ", text).strip()


def match_key(text: str) -> str:
    """What two spellings of one name have in common (O’Brien, O'BRIEN, o'brien)."""
    return fold(clean(text))


def squash(text: str) -> str:
    """Folded with every apostrophe, hyphen and full stop removed (O'Brien -> obrien)."""
    return re.sub(r"['\-.]", "", match_key(text))


# --- casing --------------------------------------------------------------------------------

# Written in lower case inside a name by some families, in capitals by others: a guess.
PARTICLES = frozenset(
    "van von der den de da di du la le del della dos das do ter ten st bin ben al el".split()
)
# Irish name parts whose casing is fixed (Ní Bhriain, Ó Súilleabháin, Mac Giolla).
# Only the accented forms: a bare "O" or "NI" may be a lost apostrophe or initials.
_IRISH = {"ní": "Ní", "nic": "Nic", "uí": "Uí", "ó": "Ó", "mac": "Mac"}
# After Ó / Ní / Uí an eclipsed word is written mBriain, gCoileáin: beyond a safe guess.
_ECLIPSIS = ("mb", "gc", "nd", "ng", "bhf", "bp", "dt")


def _cap(part: str) -> str:
    return part[:1].upper() + part[1:].lower()


def _case_word(word: str, after_irish: bool) -> str | None:
    """One word in capitals cased as written, or None when that would be a guess."""
    low = word.lower()
    if low in PARTICLES:
        return None
    if after_irish and low.startswith(_ECLIPSIS):
        return None
    out = []
    for piece in word.split("-"):
        low = piece.lower()
        if "'" in piece:
            head, _, tail = piece.partition("'")
            if len(head) != 1:  # O'Brien, D'Arcy, N'Diaye; anything longer is unusual
                return None
            out.append(f"{head.upper()}'{_cap(tail)}")
        elif low.startswith("mc") and len(low) > 3:
            out.append("Mc" + _cap(piece[2:]))
        elif low.startswith("mac") and len(low) > 4:
            return None  # MacDonald, Macdonald, Machin, Mackie: a guess either way
        else:
            out.append(_cap(piece))
    return "-".join(out)


def tidy_case(name: str) -> tuple[str, bool]:
    """A name sent in capitals, cased as a person writes it; ``(text, guessed)``.

    Names that are not all capitals are returned as they are. When any word's casing would be
    a guess (particles such as van/de, Mac..., eclipsed Irish words), the original capitals are
    returned with ``guessed=True`` so a person can correct them, rather than a wrong spelling.
    """
    name = clean(name)
    letters = [c for c in name if c.isalpha()]
    if not letters or not all(c.isupper() for c in letters):
        return name, False
    out: list[str] = []
    after_irish = False
    words = name.split(" ")
    for word in words:
        low = word.lower()
        if low in _IRISH and len(words) > 1:
            out.append(_IRISH[low])
            after_irish = True
            continue
        cased = _case_word(word, after_irish)
        if cased is None:
            return name, True
        out.append(cased)
        after_irish = False
    return " ".join(out), False


# --- full names --------------------------------------------------------------------------------


def split_full_name(raw: str) -> tuple[str, str] | None:
    """(given, family) from one name cell, or None when the split would be a guess.

    ``SURNAME, Forename`` (SystmOne, many reports) and ``Forename Surname`` split cleanly; so
    does ``Jan van der Berg``, where lower-case particles start the family name. ``Mary Ann
    Smith`` (a second forename, or a double surname?) does not.
    """
    text = clean(raw)
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip(), family.strip()
    words = text.split(" ")
    if len(words) <= 2:
        return (words[0], words[1]) if len(words) == 2 else ("", text)
    middle = words[1:-1]
    if all(w in PARTICLES for w in middle):  # written lower case: they begin the family name
        return words[0], " ".join(words[1:])
    return None


class PersonDisplay:
    """How a row about a person shows them (NHS style), for the row classes that name one."""

    family_name: str
    given_name: str
    nhs_number: str
    date_of_birth: date

    @property
    def display_name(self) -> str:
        """FAMILY name in capitals, then given name."""
        return f"{self.family_name.upper()}, {self.given_name}"

    @property
    def nhs_display(self) -> str:
        return format_nhs(self.nhs_number)

    def age(self, today: date) -> int:
        dob = self.date_of_birth
        return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))
