"""Is a card grounded in its text? ``is_grounded``: a quote (the old answer form) occurs in the
text; ``unsupported``: the answer's names, numbers and terms stand in the sentence(s) it rests
on. Cards that are neither are marked "Not in source"."""
import re
import unicodedata
from typing import List, Tuple

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Case-, accent-width- and punctuation-insensitive form, words separated by one space."""
    # NFKC leaves ASCII as it is, and casefold() of ASCII is lower()
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    return _NON_WORD.sub(" ", text).strip()


def is_grounded(quote: str, normalised_source: str) -> bool:
    """True when the quote (at least three words of it) occurs in the source.

    Models often trim or lightly rephrase the ends of a quote, so a quote also counts when its
    longest run of words that does occur covers most of it."""
    words = normalise(quote).split()
    if len(words) < 3:
        return bool(words) and " ".join(words) in normalised_source and len(normalised_source) < 400
    padded = f" {normalised_source} "
    if f" {' '.join(words)} " in padded:
        return True
    need = max(3, int(len(words) * 0.7 + 0.5))
    for size in range(len(words) - 1, need - 1, -1):
        for start in range(0, len(words) - size + 1):
            if f" {' '.join(words[start:start + size])} " in padded:
                return True
    return False


# --- is the answer in the supporting text? -----------------------------------------------------
# The one check of "names, numbers and terms of the answer are in the sentence it rests on".
# (Until the card checks have their own unsupported-answer check, this is it; both ask the same.)

_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")  # a number of its own, not the 2 of "CO2"
_TERM_SHARE = 0.6  # of the answer's other content words, at least this share must be there


def stem(word: str) -> str:
    """A word's start, long enough to tell words apart and short enough to allow inflection
    ("membranes"/"membrane", "converts"/"convert", "Zellen"/"Zelle")."""
    return word if len(word) <= 5 else word[: max(5, len(word) - 3)]


def answer_terms(answer: str) -> Tuple[List[str], List[str]]:
    """The answer's numbers and its other content words (normalised, 4+ letters, common
    function words left out)."""
    norm = normalise(answer)
    numbers = [n.replace(",", ".") for n in _NUMBER.findall(answer)]
    stop = _stop_words()
    # short names count too: "ATP", "DNA", "CO2" (written in capitals in the answer)
    short = {normalise(t) for t in _ACRONYM.findall(answer)}
    words = [w for w in norm.split() if not w.isdigit() and (len(w) >= 4 and w not in stop or w in short)]
    return numbers, words


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]{1,5}\b")
_STOP: List[frozenset] = []


def _stop_words() -> frozenset:
    if not _STOP:
        from .wordlists import STOP

        _STOP.append(frozenset().union(*STOP.values()))
    return _STOP[0]


def unsupported(answer: str, support: str) -> str:
    """"" when the answer's numbers all stand in ``support`` (a sentence or a few) and most of its
    content words do (inflected or not); else what is missing, for a reason to show. An answer
    with no number and no content word has nothing to check and is supported."""
    numbers, words = answer_terms(answer)
    return missing_terms(numbers, words, " " + normalise(support) + " ")


def missing_terms(numbers: List[str], words: List[str], padded_support: str) -> str:
    """``unsupported`` for terms found already (``answer_terms``) and a support normalised and
    padded with a space at each end (many supports are tried for one answer)."""
    if not numbers and not words:
        return ""
    missing = [n for n in numbers if f" {normalise(n)} " not in padded_support]
    if missing:
        return "the number %s is not in it" % missing[0]
    if words:
        found = [w for w in words if " " + stem(w) in padded_support]
        if len(found) < _TERM_SHARE * len(words):
            absent = [w for w in words if w not in found]
            return "“%s” is not in it" % " ".join(absent[:3])
    return ""
