"""Numbers written in words, in English, German, French and Spanish, read as their value: "one
hundred and twenty", "vierunddreißig", "mille neuf cent quatre-vingt-six", "ciento sesenta y
nueve". The grounding check (``grounding.py``) looks a number up by its value, so an answer may
write in words what the text writes in digits, and the other way round. Words are bare (folded,
accents off, as ``grounding._bare`` makes them): "dreissig", "funf", "veintiun"."""
import unicodedata
from typing import Dict, FrozenSet, List, Optional, Sequence, Tuple

from .wordlists import NUMBER_WORDS


def _bare_piece(word: str) -> str:
    folded = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))


# The pieces numbers are made of, bare: every listed language's number words
# (``wordlists.NUMBER_WORDS``), and the pieces only numbers of several words are made of.
# German and Spanish join them into one word ("vierunddreissig", "veintisiete"); the others
# stand apart or are joined by a hyphen.
_MORE_PIECES = """
thirteen:13 fourteen:14 fifteen:15 sixteen:16 seventeen:17 eighteen:18 nineteen:19
millions:1000000 billion:1000000000
ein:1 eine:1 sechzehn:16 siebzehn:17 millionen:1000000 milliarde:1000000000 milliarden:1000000000
une:1 treize:13 quatorze:14 quinze:15 seize:16 vingts:20 cents:100
una:1 trece:13 catorce:14 quince:15 dieci:10 veinti:20 doscientos:200 doscientas:200
trescientos:300 trescientas:300 cuatrocientos:400 cuatrocientas:400 quinientos:500 quinientas:500
seiscientos:600 seiscientas:600 setecientos:700 setecientas:700 ochocientos:800 ochocientas:800
novecientos:900 novecientas:900 millones:1000000
"""
PIECES: Dict[str, int] = {_bare_piece(w): n for words in NUMBER_WORDS.values() for w, n in words.items()}
PIECES.update((w, int(n)) for w, n in (p.split(":") for p in _MORE_PIECES.split()))
# Words that join the pieces of one number: "one hundred AND twenty", "vingt ET un",
# "treinta Y dos", "vierUNDdreissig".
JOINERS = frozenset(("and", "et", "y", "und"))
_LONGEST = max(len(w) for w in PIECES)
# Pieces too often something else to be a number alone (an article, another language's word:
# "once", "elf", "neuf" is new, "Sept." a month): read only inside a number of several words.
NOT_ALONE = frozenset(("un", "une", "una", "uno", "ein", "eine", "one", "mil", "cent", "null", "sept",
                       "once", "elf", "neuf", "tres"))


_ALONE_PIECES = frozenset(PIECES) - NOT_ALONE
_KNOWN: Dict[str, Optional[Tuple[int, ...]]] = {w: (v,) for w, v in PIECES.items()}  # and words seen
_KNOWN_MAX = 50_000


def pieces(word: str) -> Optional[Tuple[int, ...]]:
    """The values of the pieces a bare word is made of ("vierunddreissig": 4, 30), or None when
    it is not a number word."""
    try:
        return _KNOWN[word]
    except KeyError:
        pass
    found = _split(word) if len(word) >= 6 else None
    if len(_KNOWN) < _KNOWN_MAX:
        _KNOWN[word] = found
    return found


def _split(word: str) -> Optional[Tuple[int, ...]]:
    """A word made of two pieces or more, or None."""
    best: Dict[int, Tuple[int, ...]] = {0: ()}
    for start in range(len(word)):
        if start not in best:
            continue
        for end in range(start + 2, min(len(word), start + _LONGEST) + 1):
            part = word[start:end]
            if part in PIECES or (part == "und" and start > 0):
                value = () if part == "und" else (PIECES[part],)
                if end not in best:
                    best[end] = best[start] + value
    found = best.get(len(word))
    return found if found and len(found) >= 2 else None


def value(parts: Sequence[int]) -> int:
    """The number the pieces make, read left to right: "mil novecientos ochenta y uno" (1000,
    900, 80, 1) is 1981, "quatre-vingt-six" (4, 20, 6) is 86."""
    total = current = 0
    previous = -1
    for v in parts:
        if v == 100:
            current = (current or 1) * 100  # "neuf cent", "zweihundert", "neunzehnhundert"
        elif v >= 1000:
            total += (current or 1) * v
            current = 0
        elif v == 20 and previous == 4 and current % 100 == 4:
            current += 76  # "quatre-vingt": four twenties
        else:
            current += v
        previous = v
    return total + current


def _joins(last: int, nxt: int) -> bool:
    """Whether a piece goes on the number before it: a multiplier ("neuf cent", "two thousand"),
    a smaller piece after hundreds or thousands, a unit after tens ("twenty five", "dix huit"),
    "soixante-dix", "quatre-vingt"; not two units ("five six")."""
    if last >= 100 and nxt < last:
        return True  # "mil novecientos", "hundred twenty"
    if nxt >= 100:
        return nxt > last
    if last >= 20 and last % 10 == 0:
        return nxt < 10 or (last in (60, 80) and nxt < 20)
    return (last == 4 and nxt == 20) or (last == 10 and nxt < 10)


def any_number(words: FrozenSet[str]) -> bool:
    """Whether a text of these (bare) words may hold a number in words at all: a piece that is
    not only an article ("un", "one"), or a long word made of pieces ("vierunddreissig")."""
    if not words.isdisjoint(_ALONE_PIECES):
        return True
    return any(len(w) >= 6 and pieces(w) is not None for w in words)


def runs(words: Sequence[str]) -> List[Tuple[int, int, int, int]]:
    """The numbers written in words among ``words`` (bare, in order, each the next word of the
    text): (first index, last index + 1, value, how many pieces). A joiner belongs to a number
    only between two of its pieces; "one"/"un"/"ein" alone is an article, not a number, and is
    left out."""
    out: List[Tuple[int, int, int, int]] = []
    i = 0
    while i < len(words):
        first = pieces(words[i])
        if first is None:
            i += 1
            continue
        parts = list(first)
        j = i + 1
        while j < len(words):
            nxt = pieces(words[j])
            tail = 80 if parts[-2:] == [4, 20] else parts[-1]  # "quatre-vingt"
            if nxt is not None and _joins(tail, nxt[0]):
                parts.extend(nxt)
                j += 1
            elif words[j] in JOINERS and j + 1 < len(words) and parts[-1] >= 20 and parts[-1] % 10 == 0 \
                    and (pieces(words[j + 1]) or (0,))[0] < min(parts[-1], 100) \
                    and (pieces(words[j + 1]) or (0,))[0] > 0:
                j += 1  # "one hundred and twenty", "vingt et un"; not "five and six"
            else:
                break
        if len(parts) >= 2 or words[i] not in NOT_ALONE:
            out.append((i, j, value(parts), len(parts)))
        i = j
    return out
