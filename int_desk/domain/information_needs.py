"""A person's information and communication needs, as the Accessible Information Standard
(NHS England, DCB1605) records them: the format information must be in, and the support needed
to communicate. Stored on the person as comma-separated codes (``Patient.information_needs``)
beside the free-text ``communication_needs``.

What INT Desk can meet itself: large print (the large-print carer copy of a care plan) and an
electronic document a screen reader can read (every PDF is tagged PDF/UA). The others need
someone to arrange them, and the app says so when it prints for that person.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from enum import StrEnum
from functools import cache

from int_desk.domain.errors import ValidationError


class InformationNeed(StrEnum):
    LARGE_PRINT = "large_print"
    EASY_READ = "easy_read"
    BRAILLE = "braille"
    AUDIO = "audio"
    ELECTRONIC = "electronic"
    BSL_INTERPRETER = "bsl_interpreter"
    SPOKEN_INTERPRETER = "spoken_interpreter"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    InformationNeed.LARGE_PRINT: "Large print",
    InformationNeed.EASY_READ: "Easy read",
    InformationNeed.BRAILLE: "Braille",
    InformationNeed.AUDIO: "Audio recording",
    InformationNeed.ELECTRONIC: "Electronic document (screen reader)",
    InformationNeed.BSL_INTERPRETER: "British Sign Language interpreter",
    InformationNeed.SPOKEN_INTERPRETER: "Spoken language interpreter",
}

# Needs a printed or saved PDF from INT Desk meets as it is.
MET_BY_PDF = frozenset({InformationNeed.LARGE_PRINT, InformationNeed.ELECTRONIC})


def parse(stored: str | None) -> tuple[InformationNeed, ...]:
    """The needs in a stored value, in the standard's order; unknown codes (from a newer app
    version) are ignored rather than failing to show the record."""
    codes = {c.strip() for c in (stored or "").split(",")}
    return tuple(n for n in InformationNeed if n.value in codes)


def serialise(needs: Iterable[InformationNeed | str]) -> str:
    """Codes for storage; ValidationError for anything that is not a recorded need."""
    chosen = set()
    for need in needs:
        try:
            chosen.add(InformationNeed(need))
        except ValueError:
            raise ValidationError(
                "That is not one of the information needs the app records.", "information_needs"
            ) from None
    return ",".join(n.value for n in InformationNeed if n in chosen)


def labels(needs: Iterable[InformationNeed]) -> str:
    return ", ".join(n.label for n in needs)


def wants_large_print(needs: Iterable[InformationNeed]) -> bool:
    return InformationNeed.LARGE_PRINT in set(needs)


def unmet_by_pdf(needs: Iterable[InformationNeed]) -> tuple[InformationNeed, ...]:
    """Recorded needs a PDF does not meet (easy read, braille, audio, an interpreter)."""
    return tuple(n for n in needs if n not in MET_BY_PDF)


@cache
def stored_values() -> frozenset[str]:
    """Every value ``serialise`` can store: the endpoint accepts these and nothing else."""
    needs = list(InformationNeed)
    return frozenset(
        serialise(chosen)
        for n in range(len(needs) + 1)
        for chosen in itertools.combinations(needs, n)
    )
