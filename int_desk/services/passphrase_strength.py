"""Passphrase strength feedback for the first-run and change-passphrase forms (Qt-free).

A rough estimate, not a promise: length counts most (a passphrase of four unrelated words beats
a short jumble), with penalties for repeats, sequences and very common choices. The hard rule
stays in ``store.keys.check_passphrase_strength`` (minimum length).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from int_desk.store.keys import MIN_PASSPHRASE_LENGTH

LABELS = ("Too short", "Weak", "Fair", "Good", "Strong")

_COMMON = (
    "password",
    "passw0rd",
    "123456",
    "qwerty",
    "letmein",
    "welcome",
    "iloveyou",
    "admin",
    "nhs",
    "monkey",
    "dragon",
    "abc123",
)
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm")


@dataclass(frozen=True)
class Strength:
    score: int  # 0 (unusable) .. 4 (strong)
    label: str
    advice: str
    bits: float

    @property
    def acceptable(self) -> bool:
        return self.score >= 1


def _pool(text: str) -> int:
    pool = 0
    if any(c.islower() for c in text):
        pool += 26
    if any(c.isupper() for c in text):
        pool += 26
    if any(c.isdigit() for c in text):
        pool += 10
    if any(c == " " for c in text):
        pool += 1
    if any(not c.isalnum() and c != " " for c in text):
        pool += 33
    return max(pool, 1)


def _penalised_length(text: str) -> float:
    """Length with runs of one character and keyboard/alphabet sequences counted once."""
    lowered = text.lower()
    length = 0.0
    previous = ""
    for i, ch in enumerate(lowered):
        if ch == previous:
            length += 0.25
        elif i >= 2 and any(lowered[i - 2 : i + 1] in seq for seq in _SEQUENCES):
            length += 0.25
        else:
            length += 1
        previous = ch
    return length


def estimate(passphrase: str) -> Strength:
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        left = MIN_PASSPHRASE_LENGTH - len(passphrase)
        return Strength(
            0,
            LABELS[0],
            f"Use at least {MIN_PASSPHRASE_LENGTH} characters ({left} more). "
            "Several unrelated words are easy to remember and hard to guess.",
            0.0,
        )
    bits = _penalised_length(passphrase) * math.log2(_pool(passphrase))
    lowered = passphrase.lower()
    if any(word in lowered for word in _COMMON):
        bits -= 20
    distinct = len(set(lowered))
    if distinct <= 3:
        bits = min(bits, 20)
    if bits < 40:
        score, advice = 1, "Easy to guess. Add another unrelated word or two."
    elif bits < 60:
        score, advice = 2, "Fair. Another word would make it much harder to guess."
    elif bits < 80:
        score, advice = 3, "Hard to guess. One more word would make it stronger still."
    else:
        score, advice = 4, "Very hard to guess."
    return Strength(score, LABELS[score], advice, round(bits, 1))
