"""Is a card's supporting quote really in its chunk? Cards whose quote is not are marked."""
import re
import unicodedata

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
