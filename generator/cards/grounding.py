"""Is a card grounded in its text? ``is_grounded``: a quote (the old answer form) occurs in the
text; ``unsupported_terms``: the answer's names, numbers and terms that the sentence(s) it rests
on, or the whole text it was written from, do not have (the one check of an answer against its
text: the citations' grounding and the card check "answer not in the text" both use it). Cards
that are not grounded are marked "Not in source"."""
import functools
import re
import unicodedata
from decimal import Decimal
from typing import Dict, FrozenSet, Iterator, List, Set, Tuple, Union

from .spelled import any_number
from .spelled import pieces as spelled_piece
from .spelled import runs as spelled_runs
from .wordlists import DE_PARTICLES

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


# --- does a topic's title stand in its text? ------------------------------------------------------
# A title names a subject rather than stating a fact, so its test is looser than an answer's
# (``unsupported_terms`` below, the one check of an answer against its text).

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


def missing_terms(numbers: List[str], words: List[str], padded_support: str) -> str:
    """What of a title's terms (``answer_terms``) a support (normalised and padded with a space at
    each end: many supports are tried for one title) does not have; "" when it has them."""
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


# --- is the answer in the text? ------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
# A number as written: "1492", "300,000", "3.14", "10 000" (a narrow or no-break space groups).
_NUMERAL = re.compile(r"\d+(?:[.,'\u00a0\u202f\u2009]\d+)*")
_MATHS = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$", re.S)
_OPENERS = frozenset(".!?:;•\n(\"“«¿¡")  # after these a capital starts a sentence, not a name
MIN_SOFT = 4  # letters of the shortest common word that is looked up (shorter ones carry no fact)
_UNIT_AFTER = re.compile(r"(\d+(?:[.,]\d+)*)\s?([^\W\d_])", re.UNICODE)  # a number and the letter after it
_NUMBER_BEFORE = re.compile(r"(\d+(?:[.,]\d+)*)\s?$")
PER_CENT = {"ciento": ("por",), "cent": ("pour", "per")}  # "%" written out in two words
UNIT_LETTERS = 5  # a unit's symbol is at most this long ("Gbit", "MHz", "kWh")


def _bare(text: str) -> str:
    """Folded, accents and umlauts off (``normalise`` keeps them): "Ósmosis" = "osmosis",
    "Bäume" = "baume"."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return text.translate(_combining_marks())


@functools.lru_cache(maxsize=1)
def _combining_marks() -> Dict[int, None]:
    """Every combining mark (those ``unicodedata.combining`` names), to drop with one
    ``str.translate``: a text's marks go in one pass, not one call a character."""
    return {c: None for c in range(0x300, 0x20000) if unicodedata.combining(chr(c))}


_bare_word = functools.lru_cache(maxsize=4096)(_bare)  # an answer's words recur across cards


_SUPERSCRIPT = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_SUPERSCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")


def _powers(text: str) -> str:
    """"10²³" as "10^23" (NFKC would make it "1023", another number)."""
    if text.isascii():
        return text
    return _SUPERSCRIPT.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPT_DIGITS), text)


def _digits(number: str) -> str:
    return "".join(c for c in number if c.isdigit()).lstrip("0") or "0"


# "10 000" grouped with a plain space; "6,559 57" (French groups the decimals too)
_SPACED = re.compile(r"\d{1,3}(?: \d{3})+(?![\d.,]\d)|\d+[.,]\d{3}(?: \d{1,3})+(?!\d)")
# A date in digits: "23.05.1949", "27/09/1821" (day first, or month first as in American
# English: both readings count), "1949-05-23".
_DATE = re.compile(r"(?=\d)(?:(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})|(\d{4})-(\d{1,2})-(\d{1,2}))(?![\d/-]|[.,]\d)")
_ROMAN = re.compile(r"\b([IVXLCDM]{2,8}|[IVXLCDM](?=e\b|er\b|ème\b|º))")  # "XIV", "XVIIIe", "Ve"
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# Words that multiply the number before them: "3 million", "2,5 Millionen", "dos mil".
SCALES: Dict[str, int] = {
    "hundred": 100, "hundert": 100, "cent": 100, "cents": 100, "cien": 100, "cientos": 100,
    "thousand": 1000, "tausend": 1000, "mille": 1000, "mil": 1000,
    "million": 10 ** 6, "millions": 10 ** 6, "millionen": 10 ** 6, "mio": 10 ** 6, "millon": 10 ** 6,
    "millones": 10 ** 6, "billion": 10 ** 9, "billions": 10 ** 9, "milliarde": 10 ** 9, "milliarden": 10 ** 9,
    "milliard": 10 ** 9, "milliards": 10 ** 9, "mrd": 10 ** 9,
}


def _canonical(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _values(number: str) -> Set[Decimal]:
    """What a number as written may stand for: "300,000" = 300000, "3,5" = 3.5, "1.500" = 1500 or
    1.5 (the reading depends on the language, so both count)."""
    groups = re.split(r"[^\d]", number)
    seps = [c for c in number if not c.isdigit()]
    out: Set[Decimal] = {Decimal("".join(groups))}
    if not seps:
        return out
    kinds = set(seps)
    if len(kinds) == 1:
        if len(seps) == 1 and seps[0] in ",.":
            out.add(Decimal(groups[0] + "." + groups[1]))
        if not all(len(g) == 3 for g in groups[1:]):
            out.discard(Decimal("".join(groups)))
    elif len(kinds) == 2:
        last = max(number.rfind(","), number.rfind("."))
        out = {Decimal(re.sub(r"[^\d]", "", number[:last]) + "." + re.sub(r"[^\d]", "", number[last + 1:]))}
    return out


def _roman(numeral: str) -> int:
    total, prev = 0, 0
    for c in reversed(numeral):
        v = _ROMAN_VALUES[c]
        total += -v if v < prev else v
        prev = max(prev, v)
    return total


def _number_keys(number: str, scale: int = 1) -> Set[str]:
    """The keys a number is indexed and looked up by: its digits and its values (times a scale
    word after it)."""
    keys = {_digits(number)}
    for value in _values(number):
        keys.add(_canonical(value))
        if scale > 1:
            keys.add(_canonical(value * scale))
    return keys


def _scale_after(text: str, end: int) -> int:
    m = _TOKEN.match(text, end + 1) if end < len(text) and text[end] == " " else None
    return SCALES.get(_bare(m.group(0)), 1) if m else 1


_YEAR = re.compile(r"(?<![\d.,])(1\d{3}|20\d{2})(?![\d.,]\d)")
_SENTENCE = re.compile(r"[^.!?\n]+")


def _dates(text: str) -> Iterator["re.Match[str]"]:
    """The dates in digits of a text, not the end of a longer number ("1.23.05.1949")."""
    for m in _DATE.finditer(text):
        if not m.start() or text[m.start() - 1] not in "0123456789.,/-":
            yield m


def _date_parts(m: "re.Match[str]") -> Tuple[str, List[int], str]:
    """A date's day, the numbers its month may be (by the two readings), its year."""
    if m.group(5):
        return str(int(m.group(7))), [int(m.group(6))], m.group(5)
    first, second = int(m.group(1)), int(m.group(3))
    return str(first), [n for n in (second, first) if 1 <= n <= 12], m.group(4)


def _date_keys(bare: str, words: FrozenSet[str]) -> Set[str]:
    """The months of a text's dates, as "month5": in digits ("23.05.1949") or in words ("23. Mai")."""
    from .wordlists import MONTHS

    out = {"month%d" % n for m in _dates(bare) for n in _date_parts(m)[1]}
    out.update("month%d" % MONTHS[w] for w in words.intersection(MONTHS) if _in_a_date(bare, w))
    return out


def _in_a_date(text: str, month: str) -> bool:
    """The month's name stands beside a number in ``text`` ("23. Mai", "May 1949"): a date's, not
    the word "may" or the planet Mars."""
    m = re.escape(month)
    return re.search(r"\d\.?\s+(?:(?:de|of|du)\s+)?%s\b|\b%s\s+(?:(?:de|del)\s+)?\d" % (m, m), text, re.I) is not None


def _from_years(bare: str) -> Set[str]:
    """What a card may work out from the years of a text: their centuries (1347: the 14th) and,
    within a sentence, the time between two of them ("from 1337 to 1453": 116 years)."""
    out: Set[str] = set()
    for sentence in _SENTENCE.findall(bare):
        years = sorted({int(y) for y in _YEAR.findall(sentence)})
        out.update(str(y // 100 + 1) for y in years)
        out.update("decade%d" % (y % 100 // 10 * 10) for y in years)  # "the forties" for 1945
        out.update(str(b - a) for i, a in enumerate(years) for b in years[i + 1:i + 6])
    return out


@functools.lru_cache(maxsize=1)
def _number_words() -> Dict[str, int]:
    """Every listed language's number words (bare), with their values."""
    from .wordlists import NUMBER_WORDS

    out: Dict[str, int] = {}
    for words in NUMBER_WORDS.values():
        for w, n in words.items():
            out.setdefault(_bare(w), n)
    return out


class Support:
    """A text, indexed for ``unsupported_terms``: its words (bare), the first five letters of its
    longer words, its numbers (digits, values, numbers written as words or in Roman numerals) and
    its words joined by spaces (for a word inside a compound: "Membran" in "Zellmembran")."""

    def __init__(self, text: str) -> None:
        text = _powers(text)
        bare = _bare(text)
        tokens = _TOKEN.findall(bare)
        self.words = frozenset(tokens + (["%"] if "%" in text else []))
        self.joined = " " + " ".join(tokens) + " "
        self.prefixes: Dict[str, Set[int]] = {}
        for t in self.words:
            if len(t) >= 5:
                self.prefixes.setdefault(t[:5], set()).add(len(t))
        self.stems4 = frozenset(t[:4] for t in self.words if len(t) >= 5)  # names' derived forms
        # The first letter of the word after each number: a unit written out ("10 gigabits")
        # backs its symbol in an answer ("10 Gbit/s", "3 km" for "3 kilómetros").
        self.unit_after: Dict[str, Set[str]] = {}
        for m in _UNIT_AFTER.finditer(bare):
            self.unit_after.setdefault(_digits(m.group(1)), set()).add(m.group(2))
        numbers: Set[str] = set()
        for pattern in (_NUMERAL, _SPACED):
            for m in pattern.finditer(bare):
                numbers.update(_number_keys(m.group(0), _scale_after(bare, m.end())))
                numbers.update(_digits(run) for run in re.findall(r"\d+", m.group(0)))
        scaled = not self.words.isdisjoint(SCALES)  # "drei Millionen": only then is each place looked at
        for w in self.words.intersection(_number_words()):
            n = _number_words()[w]
            numbers.add(str(n))
            for m in re.finditer(r"\b%s\b" % re.escape(w), bare) if scaled else ():
                numbers.add(str(n * _scale_after(bare, m.end())))
        # Numbers written in words: "one hundred and twenty", "vierunddreißig" (one word alone
        # was looked up above, in its language's list).
        if any_number(self.words):
            numbers.update(str(v) for _, _, v, _n in spelled_runs(tokens))
        plain_text = unicodedata.normalize("NFKC", text)
        numbers.update(str(_roman(m.group(1))) for m in _ROMAN.finditer(plain_text))
        numbers.update(_from_years(bare))
        numbers.update(_date_keys(bare, self.words))
        self.numbers = frozenset(numbers)

    def has_word(self, word: str) -> bool:
        """The (bare) word, or an inflected form of it, stands in the text."""
        if word in self.words:
            return True
        n = len(word)
        if n >= 5 and any(abs(n - k) <= 4 for k in self.prefixes.get(word[:5], ())):
            return True  # inflection: "synthesise" / "synthesis", "Chloroplasten" / "chloroplast"
        if n >= 4 and f" {word}" in self.joined:
            return True  # "cell" / "cells", "membran" / "membranes"
        if n >= 6 and word in self.joined:
            return True  # inside a compound: "membran" / "zellmembran"
        return n >= 7 and f" {word[:n - 3]}" in self.joined  # "aminosäuren" / "aminosäure"


def _separable(word: str, index: "Support") -> bool:
    """German separable verbs: "herstellen" is "stellen … her" in the text."""
    for particle in DE_PARTICLES:
        if word.startswith(particle) and len(word) - len(particle) >= 4 and index.has_word(word[len(particle):]):
            return True
    return False


@functools.lru_cache(maxsize=16)  # the texts of the chunks in flight
def support_index(text: str) -> Support:
    return Support(text)


def unsupported_terms(answer: str, support: Union[str, Support], lang: str = "", context: str = "") -> List[str]:
    """The terms of ``answer`` that ``support`` (the text a card was written from, or the
    sentences it cites; a ``Support`` when one text is tried for many answers) does not back, as
    written in the answer; empty when it is backed.

    Numbers (digits or number words), names (a capitalised word inside a sentence, or a run of
    them: "Marie Curie") and abbreviations ("DNA", "RuBisCO") must each be in the text; an
    inflected form counts ("Chloroplasten" for "chloroplast"), a different number never does.
    The answer's other words (not function words; ``lang`` picks the list) may be paraphrased:
    they make the answer unsupported only when most of them are not in the text. Maths
    (\\(…\\)) is not compared. ``context`` (the card's question) backs the other words too: an
    answer may repeat its question's wording. Answers and texts are plain text."""
    index = support_index(support) if isinstance(support, str) else support
    if not _DIGIT.search(answer) and all(t in index.words for t in _TOKEN.findall(_bare(answer))):
        return []  # every word of it stands in the text as it is (most answers)
    answer = _MATHS.sub(" ", answer)
    if not answer.isascii():
        answer = unicodedata.normalize("NFKC", _powers(answer))  # as the index reads its text
    terms = _Terms()
    _numerals(answer, index, terms)
    _words(answer, index, lang, terms)
    missing_soft = [(at, raw, word) for at, raw, found, word in terms.soft if not found]
    if missing_soft and context:
        asked = frozenset(_TOKEN.findall(_bare(context)))
        prefixes = {a[:5] for a in asked if len(a) >= 5}
        missing_soft = [(at, raw, word) for at, raw, word in missing_soft
                        if word not in asked and not (len(word) >= 5 and word[:5] in prefixes)]
    # The names and numbers it shares with the text back it too: "ATP herstellen" for "stellen
    # ATP her", "the 14th century" for "in 1347".
    hard = terms.hard
    if missing_soft and len(missing_soft) * 2 > len(terms.soft) + terms.backed:
        hard.extend((at, raw) for at, raw, _ in missing_soft)
    return list(dict.fromkeys(raw for _, raw in sorted(hard)))


class _Terms:
    """What ``unsupported_terms`` has found so far in one answer."""

    def __init__(self) -> None:
        self.hard: List[Tuple[int, str]] = []  # (where in the answer, a term that must be there)
        self.soft: List[Tuple[int, str, bool, str]] = []  # (where, word as written, found, bare)
        self.backed = 0  # names and numbers found in the text
        self.scaled: Set[int] = set()  # where a scale word follows a number ("3 million")


def _numerals(answer: str, index: "Support", terms: _Terms) -> None:
    """The answer's numbers written in digits, each looked up by its digits, then its value."""
    spaced = [m for m in _SPACED.finditer(answer) if _number_keys(m.group(0)) & index.numbers] \
        if " " in answer else []
    terms.backed += len(spaced)  # "8 849": found as one number
    for m in _dates(answer):
        day, months, year = _date_parts(m)
        if day in index.numbers and _digits(year) in index.numbers \
                and any("month%d" % n in index.numbers for n in months):
            terms.backed += 1  # the day, the month and the year all in the text
        else:
            terms.hard.append((m.start(), m.group(0)))
        spaced.append(m)  # looked up as one date, not as three numbers
    for m in _NUMERAL.finditer(answer):
        if m.start() and answer[m.start() - 1].isalpha():
            continue  # part of a formula or a code: "CO2" is looked up whole with the words
        if m.start() >= 2 and answer[m.start() - 1] == "^" and answer[m.start() - 2].isalpha():
            continue  # a unit's power: the "²" of "kg/m²"
        if any(s.start() <= m.start() < s.end() for s in spaced):
            continue  # "10 000" found as one number
        scale = _scale_after(answer, m.end())
        if scale > 1:
            terms.scaled.add(m.end() + 1)
        if scale == 1 and _digits(m.group(0)) in index.numbers:
            terms.backed += 1
        elif not _number_keys(m.group(0), scale) & index.numbers:
            terms.hard.append((m.start(), m.group(0)))
        else:
            terms.backed += 1


def _words(answer: str, index: "Support", lang: str, terms: _Terms) -> None:
    """The answer's words: number words and names must be in the text, other words are soft."""
    from .wordlists import MONTHS, NUMBER_WORDS, STOP, TIME_WORDS, UNIT_SYMBOLS

    stop = STOP.get(lang)
    number_words = NUMBER_WORDS.get(lang, {})
    tokens = list(_TOKEN.finditer(answer))
    capital = [t.group(0)[0].isupper() for t in tokens]
    spelled: Set[int] = set()  # the words of numbers written in words, looked up by value
    bare = [_bare_word(t.group(0)) for t in tokens]
    for first, end, value, count in spelled_runs(bare) if any(spelled_piece(b) for b in bare) else ():
        if count < 2 and (bare[first] in number_words or value >= 100):
            continue  # looked up below: a word of the language's list, a scale ("2,5 Millionen")
        spelled.update(range(first, end))
        if str(value) in index.numbers:
            terms.backed += 1
        else:
            terms.hard.append((tokens[first].start(), answer[tokens[first].start():tokens[end - 1].end()]))
    for i, m in enumerate(tokens):
        if i in spelled:
            continue
        raw = m.group(0)
        if not raw.isalpha():
            if not raw[0].isdigit() and not raw.isdigit() and _bare_word(raw) not in index.words:
                terms.hard.append((m.start(), raw))  # "CO2", "H2O": looked up whole
            continue
        folded = raw.casefold()
        if m.start() in terms.scaled:
            continue  # the "million" of "3 million"
        decade = _decade(folded, answer[:m.start()], number_words) \
            if folded[:4] in _DECADE_STARTS or folded in number_words else 0
        if decade:
            if "decade%d" % decade in index.numbers:
                terms.backed += 1
            else:
                terms.hard.append((m.start(), raw))
            continue
        if folded in PER_CENT and i > 0 and tokens[i - 1].group(0).casefold() in PER_CENT[folded]:
            if "%" not in index.words and not index.has_word(folded):
                terms.hard.append((m.start(), raw))  # "por ciento", "pour cent": the text's "%"
            continue
        if folded in number_words and (stop is None or folded not in stop or number_words[folded] >= 2):
            n = number_words[folded]
            scale = _scale_after(answer, m.end())
            if scale > 1:
                terms.scaled.add(m.end() + 1)
            if (n >= 2 or scale > 1) and not {str(n), str(n * scale)} & index.numbers:
                terms.hard.append((m.start(), raw))
            continue
        if (stop is not None and folded in stop) or folded in TIME_WORDS:
            continue
        if _ROMAN.fullmatch(raw) and str(_roman(raw)) in index.numbers:
            continue  # "XVIII" for "18e"
        if len(raw) < MIN_SOFT and not (raw.isupper() and len(raw) >= 2):
            continue
        word = _bare_word(raw)
        found = index.has_word(word) or (lang == "de" and _separable(word, index)) or _spelled_out(answer, m)
        if not found and word in UNIT_SYMBOLS:
            found = UNIT_SYMBOLS[word] in index.words  # "metres" for "m"
        if not found and len(word) <= UNIT_LETTERS:
            number = _NUMBER_BEFORE.search(answer[max(0, m.start() - 24):m.start()])
            found = number is not None and word[0] in index.unit_after.get(_digits(number.group(1)), ())
        if not found and word in MONTHS and _in_a_date(answer, raw):
            found = "month%d" % MONTHS[word] in index.numbers  # "May" for the "05" of "23.05.1949"
        if capital[i] and not found and len(word) >= 5 and word[:4] in index.stems4:
            found = True  # a name's derived form: "British" for "Britain", "Chinese" for "China"
        if _is_name(answer, tokens, capital, i, lang):
            if found:
                terms.backed += 1
            else:
                terms.hard.append((m.start(), raw))
        else:
            terms.soft.append((m.start(), raw, found, word))


def _spelled_out(answer: str, m: "re.Match[str]") -> bool:
    """An abbreviation the answer spells out just before it, in brackets after the words it
    stands for ("the atrioventricular (AV) node"): its letters, in order, are in those words,
    the first one starting a word; the words are looked up, not the abbreviation."""
    raw = m.group(0)
    if not (raw.isupper() and 2 <= len(raw) <= 6) or answer[m.start() - 1:m.start()] != "(":
        return False
    before = _TOKEN.findall(answer[max(0, m.start() - 80):m.start() - 1])[-len(raw) - 1:]
    letters = "".join(before).casefold()
    starts = {w[0].casefold() for w in before}
    if raw[0].casefold() not in starts:
        return False
    at = letters.find(raw[0].casefold())
    for c in raw[1:].casefold():
        at = letters.find(c, at + 1)
        if at < 0:
            return False
    return True


def _decade(folded: str, before: str, number_words: Dict[str, int]) -> int:
    """The decade a word names ("forties", "Vierzigerjahre", "cuarenta" after "años"), or 0."""
    from .wordlists import DECADE_BEFORE, DECADES

    if folded[:4] in _DECADE_STARTS:
        bare = _bare_word(folded)
        return next((n for name, n in DECADES.items() if bare.startswith(name)), 0)
    n = number_words.get(folded, 0)
    if n < 20 or n > 90 or n % 10:
        return 0
    previous = _TOKEN.findall(_bare(before[-12:]))[-1:]
    return n if previous and previous[0] in DECADE_BEFORE else 0


def _decade_starts() -> FrozenSet[str]:
    from .wordlists import DECADES

    return frozenset(name[:4] for name in DECADES) | {"fünf"}


_DECADE_STARTS = _decade_starts()


def _is_name(answer: str, tokens: List["re.Match[str]"], capital: List[bool], i: int, lang: str) -> bool:
    """An abbreviation, or a word capitalised inside a sentence or beside another capitalised
    word. German capitalises every noun, so there only an abbreviation or a run counts."""
    raw = tokens[i].group(0)
    if raw.isupper() or sum(1 for c in raw if c.isupper()) >= 2:
        return True
    if not capital[i]:
        return False
    start = tokens[i].start()
    before = answer[:start].rstrip()
    starts = not before or before[-1] in _OPENERS
    return (not starts and lang != "de") or (
        i > 0 and capital[i - 1] and not answer[tokens[i - 1].end():start].strip(" -–")) or (
        i + 1 < len(tokens) and capital[i + 1] and not answer[tokens[i].end():tokens[i + 1].start()].strip(" -–"))
