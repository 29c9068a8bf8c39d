"""Checks on how a card is built: pure, fast (well under 0.2 ms a card), no model call.

``check_card`` returns named flags, each with a reason a user understands. The checks follow
the rules of good cards (one fact, a question that stands on its own and does not give the
answer away; cloze deletions of key terms). Word lists (generator/wordlists.py) exist for
English, German, French and Spanish; for another language only the checks that need no words
run, and the informational flag ``NO_WORD_LIST`` says so. Informational flags do not make a
card "flagged" (see ``is_flagged``)."""
import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Dict, FrozenSet, List, Optional, Sequence, Set, Tuple

from .card import CLOZE, REVERSED, Card
from .cloze import CLOZE_RE
from .grounding import unsupported_terms
from .wordlists import (
    AND,
    ANY_OF_EXCEPT,
    ANY_OF_VERBS,
    ANY_ONE,
    ANY_SEVERAL,
    ARTICLES,
    CONDITION_OR_CONTRAST_END,
    CONDITION_QUESTIONS,
    CONTEXT_PHRASES,
    DEFINITE,
    DEMONSTRATIVE_DETERMINERS,
    DEMONSTRATIVE_FIXED,
    DEMONSTRATIVES,
    DETECT_ONLY,
    DE_COPULA,
    DE_EXPLETIVE,
    EACH_PHRASES,
    EN_NOT,
    ES_CLITICS,
    ES_CLITICS_AFTER_WHO,
    EXPLAIN_WORDS,
    FR_IMPERSONAL,
    GENERIC,
    GENERIC_NOUNS,
    IMPERATIVES,
    LANGUAGE_LABELS,
    LETTERS,
    MEMBER_ARTICLES,
    MEMBER_LINKS,
    MEMBER_NOUNS,
    MEMBER_ONE,
    MEMBER_VERBS,
    NAMES,
    NAMING_PHRASES,
    NEGATIONS,
    NEGATION_GUARDS,
    NUMBER_WORDS,
    ONE_OF_PHRASES,
    OR,
    ORDINALS,
    PERSONAL,
    PLACEHOLDERS,
    POLITE,
    POSSESSIVES,
    PRONOUNS,
    PRONOUN_AFTER_VERB,
    PRONOUN_AT_START_ONLY,
    QUESTION_WORDS,
    REFERENTS,
    RELATIVES,
    SELECTING,
    SELECTING_LINKS,
    SOURCE_PHRASES,
    STOP,
    TEXT_REFERENCES,
    TITLE_WORDS,
    WHICH_AFTER,
    YES_NO_ANSWERS,
    YES_NO_OPENERS,
)

__all__ = ["Check", "Flag", "Expectation", "check_card", "check_cards", "expectation",
           "detect_language", "is_flagged", "unsupported_terms", "INFORMATIONAL"]


class Check(Enum):
    ANSWER_IN_QUESTION = "answer_in_question"
    YES_NO = "yes_no_question"
    MISSING_CONTEXT = "missing_antecedent"
    SEVERAL_FACTS = "several_facts"
    LONG_ANSWER = "answer_too_long"
    SAME_SIDES = "front_equals_back"
    EMPTY_SIDE = "empty_side"
    CLOZE_FILLER = "cloze_filler_deletion"
    CLOZE_WHOLE = "cloze_hides_everything"
    CLOZE_HINT = "cloze_hint_gives_answer"
    CLOZE_TOO_MANY = "cloze_too_many_deletions"
    WRONG_LANGUAGE = "wrong_language"
    AMBIGUOUS = "ambiguous_question"
    NEGATION = "negative_question"
    UNSUPPORTED = "answer_not_in_text"
    NO_WORD_LIST = "no_word_list"  # informational: only language-free checks ran


INFORMATIONAL: FrozenSet[str] = frozenset({Check.NO_WORD_LIST.value})


@dataclass(frozen=True)
class Flag:
    check: Check
    reason: str

    def pair(self) -> Tuple[str, str]:
        return (self.check.value, self.reason)


@dataclass(frozen=True)
class Expectation:
    """The language the cards should be in: a code (``""`` = not known) and its label."""

    code: str = ""
    label: str = ""


MAX_ANSWER_WORDS = 25
MAX_ANSWER_SENTENCES = 2
MAX_DELETION_WORDS = 8
MAX_SAME_NUMBER = 2  # blanks on one card
MAX_NUMBERS = 4  # cards from one cloze sentence (five deletions of a sentence: split it)
LIST_ITEMS = 3  # an answer listing this many short items holds several facts
LIST_ITEM_WORDS = 4
PARALLEL_ITEM_WORDS = 8  # items of a list that all start alike ("the A in X, the B in Y and …")

_TAG = re.compile(r"<[^<>]*>")
_BREAK_TAG = re.compile(r"<(?:br|/?li|/?p|/?div|/?tr|/?td)\b[^<>]*>", re.I)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_FIRST_TOKEN = re.compile(r"[\w'’-]+", re.UNICODE)
_FR_INVERTED = re.compile(r"\b\w+-(?:t-)?(il|elle|ils|elles|on)\b")
_SENTENCE_END = re.compile(r"[.!?](?:\s+|$)")
_ITEM_SPLIT = re.compile(r"\s*[;,]\s+|\s*;\s*")
_LI = re.compile(r"<li\b", re.I)

def _own_words(lists: Dict[str, FrozenSet[str]]) -> Dict[str, FrozenSet[str]]:
    """Per language, its words that no other language of ``lists`` has (one-letter ASCII words
    left out)."""
    return {code: frozenset(w for w in words if (len(w) > 1 or not w.isascii())
                            and not any(w in other for c, other in lists.items() if c != code))
            for code, words in lists.items()}


# Words of one language only: the stop words no other listed language has.
_DISTINCT: Dict[str, FrozenSet[str]] = _own_words(STOP)


# The function words of every language the wrong-language check can name, and the words of each
# that no other of them has.
_ALL_LISTS: Dict[str, FrozenSet[str]] = {**STOP, **DETECT_ONLY}
_OWN: Dict[str, FrozenSet[str]] = _own_words(_ALL_LISTS)


def _fold(text: str) -> str:
    if text.isascii():  # NFKC leaves ASCII as it is
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold().replace("’", "'")


# The context phrases as they stand among a text's words: (phrase, " word word ").
_PHRASES: Dict[str, Tuple[Tuple[str, str], ...]] = {
    code: tuple((p.strip(), " %s " % " ".join(_WORD.findall(_fold(p)))) for p in phrases)
    for code, phrases in CONTEXT_PHRASES.items()
}


def plain(field_html: str) -> str:
    """A field's visible text, cheaply (fields are sanitized HTML already)."""
    if "<" in field_html:
        field_html = _TAG.sub(" ", _BREAK_TAG.sub(" \n ", field_html))
    if "&" in field_html:
        field_html = html.unescape(field_html)
    return " ".join(field_html.split(" ")).strip()


def words(text: str) -> List[str]:
    return _WORD.findall(_fold(text))


def _scores(tokens: Sequence[str]) -> Tuple[str, int, int]:
    """The listed language whose own function words the tokens use most, its hits and the
    runner-up's hits."""
    scores = sorted(((sum(map(distinct.__contains__, tokens)), code) for code, distinct in _DISTINCT.items()),
                    reverse=True)
    return scores[0][1], scores[0][0], scores[1][0]


def detect_language(tokens: Sequence[str]) -> Tuple[str, int]:
    """(code, hits) of the listed language the tokens are clearly in; ("", 0) when none clearly
    leads (at least two of its own function words, twice as many as any other language's)."""
    code, best, second = _scores(tokens)
    if best >= 2 and best >= 2 * second:
        return code, best
    return "", 0


def expectation(asked: str, source_text: str = "") -> Expectation:
    """The language cards should be in: the one the user asked for, else the source's."""
    asked = asked.strip()
    if asked:
        key = _fold(asked).split("-")[0].split("_")[0].strip()
        code = NAMES.get(key, "")
        return Expectation(code, LANGUAGE_LABELS.get(code, asked))
    code, _ = detect_language(words(source_text[:4000]))
    return Expectation(code, LANGUAGE_LABELS.get(code, ""))


def _letters(text: str) -> int:
    return sum(1 for c in text if c.isalnum())


def _content(tokens: Sequence[str], lang: str) -> List[str]:
    stop = STOP.get(lang)
    if stop is None:
        return [t for t in tokens if len(t) >= 4 or t.isdigit()]
    return [t for t in tokens if t not in stop and (len(t) >= 2 or t.isdigit())]


def _same_word(a: str, b: str) -> bool:
    """One word, or inflected forms of one: they share their first five letters, and all but
    the last three of the shorter ("Chloroplasten" / "chloroplast"; not "Elektronen" /
    "elektrischen", two words of one root)."""
    if a == b:
        return True
    if len(a) < 5 or len(b) < 5 or a[:5] != b[:5] or abs(len(a) - len(b)) > 4:
        return False
    keep = min(len(a), len(b)) - 3
    return keep <= 5 or a[:keep] == b[:keep]


def _covered(needles: Sequence[str], haystack: Sequence[str]) -> int:
    """How many needles are ``_same_word`` as a word of the haystack (words of five letters or
    more are looked up by their first five, so this stays linear)."""
    return sum(_covered_each(needles, haystack))


def _covered_each(needles: Sequence[str], haystack: Sequence[str]) -> List[bool]:
    hay = set(haystack)
    by_start: Dict[str, List[str]] = {}
    for h in hay:
        if len(h) >= 5:
            by_start.setdefault(h[:5], []).append(h)
    if not by_start:
        return [n in hay for n in needles]
    return [n in hay or (len(n) >= 5 and n[:5] in by_start and any(_same_word(n, h) for h in by_start[n[:5]]))
            for n in needles]


def _gives_away(answer: Sequence[str], question: Sequence[str], formula: bool = False) -> bool:
    """Most of the answer's content words already stand in the question (not a number the
    question lists among others: "the median of 2, 3, 7, 9, 40" is 7; nor one worked out from a
    ``formula`` the question gives: the vertex of y = (x − 2)² − 3 is (2, −3))."""
    if not answer or not question:
        return False
    if all(a.isdigit() for a in answer) and (sum(1 for q in question if q.isdigit()) >= LIST_ITEMS + len(answer)
                                             or formula):
        return False
    each = _covered_each(answer, question)
    hits = sum(each)
    if hits < len(answer):  # a word inside a compound of the question: "Sauerstoff" in "sauerstoffreich"
        long_words = [q for q in question if len(q) >= 8]
        if long_words:
            hits += sum(1 for a, hit in zip(answer, each) if not hit and len(a) >= 5
                        and any(a in q for q in long_words))
    return hits == len(answer) if len(answer) <= 2 else hits >= 0.8 * len(answer)


def _fr_uninvert(folded: str) -> str:
    """French inversion: "que produit-il" keeps the pronoun ("que il": it needs an antecedent),
    "pourquoi les feuilles paraissent-elles" drops it (it repeats the noun before it)."""
    m = _FR_INVERTED.search(folded)
    if not m:
        return folded
    if m.group(1) == "il" and m.group(0).split("-")[0] in FR_IMPERSONAL:
        return folded[:m.start()] + folded[m.end():]  # impersonal "il": "que se passe-t-il"
    before = [t for t in words(folded[:m.start()]) if t not in STOP["fr"] and t not in QUESTION_WORDS["fr"]]
    return folded[:m.start()] + ("" if before else m.group(1)) + folded[m.end():]


_ROMAN_WORD = re.compile(r"[ivxlcdm]{1,6}")


def _numbered(after: Sequence[str]) -> bool:
    """The words after "article", "chapter" … start with its number: "l'article premier",
    "Article 5", "chapter IV": a thing named by its number."""
    return bool(after) and (after[0][0].isdigit() or after[0] in ORDINALS or bool(_ROMAN_WORD.fullmatch(after[0])))


def _missing_antecedent(text: str, lang: str) -> str:
    """Why the text leans on something it does not carry ("the text", or a pronoun with no
    content word before it), or ""."""
    folded = _fold(text)
    if lang == "fr":
        folded = _fr_uninvert(folded.replace("est-ce", "est"))
    tokens = _WORD.findall(folded)
    padded = f" {' '.join(tokens)} "
    for phrase, folded_phrase in _PHRASES.get(lang, ()):
        at = padded.find(folded_phrase)
        if at >= 0 and not _numbered(padded[at + len(folded_phrase):].split()[:1]):
            return f"It refers to “{phrase}”, which the card does not carry: name the subject instead."
    source = _vague_source(folded, lang, text)
    if source:
        return f"It refers to “{source}”, which the card does not carry: name the source or the subject."
    pronouns = PRONOUNS.get(lang, frozenset())
    stop = STOP.get(lang, frozenset())
    questions = QUESTION_WORDS.get(lang, frozenset())
    lone = _lone_pronoun(text, tokens, lang)
    if lone:
        return f"“{lone}” refers to something the card does not name: say what it is."
    # An impersonal or cleft pronoun refers to nothing: "il y a", "es gibt", "it was X who …".
    dummy: Set[int] = set()
    for k, t in enumerate(tokens):
        before, after = tokens[k - 1] if k else "", tokens[k + 1:k + 3]
        if lang == "fr" and t == "il" and after and (after[0] in FR_IMPERSONAL or after[0] == "y"
                                                     or after[:2] == ["s", "agit"]):
            dummy.add(k)
        elif lang == "de" and t == "es" and ((after and after[0] in DE_EXPLETIVE) or before in DE_EXPLETIVE):
            dummy.add(k)
        elif lang == "en" and t == "it" and after[:1] in (["is"], ["was"]) \
                and any(w in ("that", "who", "which", "to") for w in tokens[k + 2:]):
            dummy.add(k)
    # A pronoun needs a noun before it; in a question, a single content word before it is most
    # likely the verb ("What causes it?", "Was produziert es?", "Comment s'appelle ce …").
    content: List[int] = []
    for i, t in enumerate(tokens):
        if t in pronouns and i not in dummy and not (t in PRONOUN_AT_START_ONLY and i > 0):
            if not content and _owner_after(text, t, lang):
                continue
            if not content or (len(content) == 1 and (tokens[0] in questions or (len(tokens) > 1 and tokens[1] in questions))
                               and not _owner_before(tokens, i, lang)
                               and not (t in PERSONAL.get(lang, ()) and _after_article(tokens, content[0], lang))):
                return f"“{t}” refers to something the card does not name: say what it is."
            return ""
        if t not in stop and t not in questions and not t.isdigit():  # "In 1628 he …" names nobody
            content.append(i)
            if len(content) > 1:
                return ""
    return ""


def _lone_pronoun(text: str, tokens: List[str], lang: str) -> str:
    """A pronoun that stands for a noun wherever it stands: a demonstrative that ends a question
    ("¿Sobre qué tienen prioridad estos?", "What is that used for?" is not one: "for" ends it), or a
    Spanish object pronoun right after the question word ("¿Quién la sancionó?"; "¿Qué le pasa a
    la célula?" names it after "a")."""
    if not tokens or not text.rstrip().endswith(("?", "？")):
        return ""
    if tokens[-1] in DEMONSTRATIVES.get(lang, ()):
        return tokens[-1]
    if lang == "es" and len(tokens) > 2 and "a" not in tokens[2:]:
        t, before = tokens[1], tokens[0]
        if (t in ES_CLITICS and before in QUESTION_WORDS["es"]) or (t in ES_CLITICS_AFTER_WHO and before in ("quién", "quiénes")):
            return t
        # After a question word and its noun: "¿En qué libro lo popularizó?"
        for k in range(2, min(4, len(tokens) - 1)):
            if tokens[k] in ES_CLITICS and tokens[k - 2] in QUESTION_WORDS["es"] \
                    and tokens[k - 1] not in STOP["es"] and tokens[k + 1] != "que":
                return tokens[k]
    return ""


def _after_article(tokens: List[str], i: int, lang: str) -> bool:
    """The word stands after an article: a noun, not the question's verb ("Pourquoi dit-on de la
    Loire qu'elle …": "elle" is the Loire)."""
    return i >= 1 and tokens[i - 1] in ARTICLES.get(lang, ())


def _owner_after(text: str, pronoun: str, lang: str) -> bool:
    """A possessive in a phrase that opens the text (after its comma, or right after its first
    preposition), whose owner the text names after it ("Según su mecanismo de acción, ¿qué
    proceso impide la penicilina?")."""
    if pronoun not in POSSESSIVES.get(lang, ()):
        return False
    tokens = words(_fold(text))
    if len(tokens) > 2 and tokens[1] == pronoun and tokens[0] in STOP.get(lang, ()) \
            and tokens[0] not in QUESTION_WORDS.get(lang, ()):
        # "Für seine Kreuzungsversuche untersuchte Gregor Mendel …": a phrase that opens the sentence
        return len(_content(tokens[3:], lang)) >= 3
    if "," not in text:
        return False
    head, rest = text.split(",", 1)
    return pronoun in words(_fold(head)) and len(_content(words(_fold(rest)), lang)) >= 3


def _owner_before(tokens: List[str], i: int, lang: str) -> bool:
    """A possessive right after a noun with its article refers to that noun: "Wo hat das
    Bundesverfassungsgericht seinen Sitz?", "¿Dónde tiene el tribunal su sede?"."""
    return tokens[i] in POSSESSIVES.get(lang, ()) and i >= 2 and tokens[i - 2] in ARTICLES.get(lang, ())


TRUE_OR_FALSE = ("true or false", "richtig oder falsch", "wahr oder falsch", "vrai ou faux", "verdadero o falso")
_YES_NO_FIRST = re.compile(r"^\W*[^\W\d_]+\s*[,.;:!]")


def _yes_no(front: str, back_tokens: List[str], lang: str, back: str = "") -> bool:
    if back_tokens and back_tokens[0] in YES_NO_ANSWERS and (len(back_tokens) <= 6 or _YES_NO_FIRST.match(back)):
        return True  # "Yes.", "Sí, el 1 de enero de 2002"
    folded = _fold(front).lstrip("¿¡\"'“«( ")
    first = _FIRST_TOKEN.match(folded)
    if not first:
        return False
    if any(folded.startswith(p) for p in TRUE_OR_FALSE):
        return True  # "True or false: …"
    if any(t in OR.get(lang, ()) for t in words(front)):
        return False  # "Is it A or B?" is a choice
    token = first.group(0)
    if lang == "fr":
        if folded.startswith(("est-ce que", "est ce que", "y a-t-il")):
            return True
        inverted = _FR_INVERTED.search(folded)
        # Inversion without a question word before it: "La cellule a-t-elle un noyau ?"
        if inverted is None:
            return False
        return not any(t in QUESTION_WORDS["fr"] for t in words(folded[:inverted.end()]))
    return token in YES_NO_OPENERS.get(lang, frozenset())


def _several_questions(front: str, tokens: List[str], lang: str) -> bool:
    if _QUOTATION.sub("", front).count("?") >= 2:  # not a title's ("Was ist Aufklärung?")
        return True
    ands, qwords = AND.get(lang, frozenset()), QUESTION_WORDS.get(lang, frozenset())
    stop = STOP.get(lang, frozenset())
    for i, t in enumerate(tokens[:-1]):
        if t in ands:
            # "… and who …", "… and in which year …"
            for u in tokens[i + 1:i + 4]:
                if u in qwords:
                    return True
                if u not in stop:
                    break
    return False


_BRACKETED = re.compile(r"^\s*[(\[{⟨].*[)\]}⟩]\s*\.?\s*$", re.S)
_QUOTATION = re.compile(r'„[^„“”]*[“”]|“[^“”]*”|"[^"]*"|«[^«»]*»|»[^«»]*«')  # a quotation, its marks
_QUOTED = re.compile(r"^\s*(?:%s)\s*\.?\s*$" % _QUOTATION.pattern, re.S)  # a side that is one quotation
_NUMERIC = re.compile(r"^[\d\s.,:/%°+\-−–]+[^\W\d_]{0,3}\.?$", re.UNICODE)


def _items(text: str, lang: str) -> List[str]:
    """The items of a list written on one line ("A, B and C", "A; B; C"); one item when it is
    not a list."""
    parts = [p for p in _ITEM_SPLIT.split(text.strip().rstrip(".")) if p.strip()]
    if parts:
        last = parts[-1].split()
        ands = AND.get(lang, frozenset()) | OR.get(lang, frozenset())
        for i, w in enumerate(_fold(parts[-1]).split()):
            if w in ands and 0 < i < len(last) - 1:
                parts[-1:] = [" ".join(last[:i]), " ".join(last[i + 1:])]
                break
    return parts


def _one_value(text: str) -> bool:
    """A tuple or a value written with commas ("(700, 10, 10)", "3, 4, 5"), maths, or one
    quotation (a saying, a line of a text: its commas are the quotation's): one answer."""
    if _BRACKETED.match(text) or _QUOTED.match(text) or "\\(" in text or "\\[" in text \
            or ("=" in text and text.count(";") < LIST_ITEMS - 1):
        return True
    parts = [p for p in _ITEM_SPLIT.split(text.strip()) if p.strip()]
    return len(parts) > 1 and all(_NUMERIC.match(p.strip()) for p in parts)


def _listed(parts: List[str], lang: str, sentence: bool) -> bool:
    """Parts that are several items of a list: short ones, or up to eight words each when they
    all start alike (all with a function word, or with the same word)."""
    if len(parts) < LIST_ITEMS:
        return False
    sizes = [len(p.split()) for p in parts]
    if all(n <= LIST_ITEM_WORDS for n in sizes) and not sentence:
        return True
    if all(n <= PARALLEL_ITEM_WORDS for n in sizes) and sum(1 for n in sizes if n >= 2) >= 2:
        firsts = [(words(p) or [""])[0] for p in parts]  # "l'égalité": "l"
        stop, numbers = STOP.get(lang, frozenset()), NUMBER_WORDS.get(lang, {})
        return len(set(firsts)) == 1 or all(f in stop for f in firsts) \
            or all(f in numbers or f.isdigit() for f in firsts)  # "two in X, one in Y and one in Z"
    return False


_LABELLED_PART = re.compile(r"(?:^|[;\n])\s*[^\W\d_][^:;\n]{0,40}:\s+\S")


def _list_answer(back_html: str, back: str, lang: str, front_tokens: Sequence[str] = ()) -> int:
    """How many items the answer lists (0 when it is not a list; a title asked for is one)."""
    items = len(_LI.findall(back_html))
    if items >= 2:
        return items
    if ";" in back and ":" in back:
        labelled = len(_LABELLED_PART.findall(back))
        if labelled >= 2:
            return labelled  # "Lotte: Charlotte Buff …; Selbstmord: Karl Wilhelm Jerusalem …"
    if front_tokens and not TITLE_WORDS.isdisjoint(front_tokens):
        return 0  # "Frankenstein; or, The Modern Prometheus"
    lines = [ln for ln in back.split("\n") if ln.strip()]
    if len(lines) >= LIST_ITEMS:
        return len(lines)
    if _one_value(back):
        return 0
    # A sentence (its commas separate clauses, not items) lists only parallel items.
    sentence = back.rstrip().endswith(".") and len(back.split()) >= 8
    parts = _items(back, lang)
    return len(parts) if _listed(parts, lang, sentence) else 0


def _front_list(front: str, tokens: List[str], back: str, lang: str) -> bool:
    """The front names three things or more and the answer has one part per thing ("What do
    the mitochondria, the ribosomes and the nucleus do?"), or it asks about each of them."""
    padded = " %s " % " ".join(tokens)
    if any(" %s " % p in padded for p in EACH_PHRASES.get(lang, ())):
        # "How many pieces does each of the two books hold?" — "12": one value answers it
        return not (_NUMERIC.match(back.strip()) or _one_value(back))
    parts = _items(front.rstrip("?？ "), lang)
    if len(parts) < LIST_ITEMS:
        return False
    joined = AND.get(lang, frozenset()) | OR.get(lang, frozenset())
    if joined.isdisjoint(words(front.rsplit(",", 1)[-1])):
        return False  # clauses between commas ("Selon Pascal, dans les Pensées, à quoi …"), not "A, B and C"
    questions = QUESTION_WORDS.get(lang, frozenset())
    if any(not questions.isdisjoint(words(p)) for p in parts[1:]):
        return False  # the question comes after the comma: "Selon Spinoza, quel rapport … entre A et B"
    stop = STOP.get(lang, frozenset())
    parallel = all((words(p) or [""])[0] in stop for p in parts[1:])  # "the A, the B and the C"
    if not all(len(p.split()) <= (PARALLEL_ITEM_WORDS if parallel else 3) for p in parts[1:-1]):
        return False
    return len(_items(back, lang)) >= 2 or back.count("\n") >= 1


def _ambiguous(tokens: List[str], lang: str) -> Tuple[str, bool]:
    """The words that make a question one with many right answers ("name a", "one use of",
    "an example of") and whether it asks for several of them ("name two"); ("", False) if none."""
    if not tokens or lang not in ANY_OF_VERBS:
        return "", False
    i = 0
    while i < len(tokens) - 1 and tokens[i] in POLITE:
        i += 1
    if tokens[i] in ANY_OF_VERBS[lang]:
        j = i + 1
        if j < len(tokens) and tokens[j] in PRONOUN_AFTER_VERB:
            j += 1
        if j < len(tokens) and (tokens[j] in ANY_ONE[lang] or tokens[j] in ANY_SEVERAL[lang]) \
                and not (j + 1 < len(tokens) and tokens[j + 1] in ANY_OF_EXCEPT):
            return " ".join(tokens[i:j + 2]), tokens[j] in ANY_SEVERAL[lang]
    verbs, nouns, links = MEMBER_VERBS[lang], MEMBER_NOUNS[lang], MEMBER_LINKS[lang]
    articles, one = MEMBER_ARTICLES[lang], MEMBER_ONE.get(lang, frozenset())
    if len(tokens) > 4 and tokens[0] in SELECTING.get(lang, ()) and tokens[1] in verbs and tokens[2] in articles:
        # "Which is a …", "Quel est un vice du …": asks for one member of a set, whatever the noun
        link = next((j for j in range(3, min(6, len(tokens))) if tokens[j] in SELECTING_LINKS[lang]), 0)
        if link:
            return " ".join(tokens[:link + 1]), False
    for i, t in enumerate(tokens):
        if t in articles and ((i > 0 and tokens[i - 1] in verbs) or t in one):
            for j in range(i + 1, min(i + 4, len(tokens) - 1)):
                if (tokens[j] in nouns or (lang == "de" and _compound_of(tokens[j], nouns))) and tokens[j + 1] in links:
                    return " ".join(tokens[i:j + 2]), False
    padded = " %s " % " ".join(tokens)
    questions = QUESTION_WORDS.get(lang, frozenset())
    for phrase in ONE_OF_PHRASES[lang]:
        at = padded.find(" %s " % phrase)
        if at >= 0:
            after = padded[at + len(phrase) + 2:].split()
            if after and after[0] not in questions:  # "What is photosynthesis an example of?"
                return phrase, False
    return "", False


def _compound_of(word: str, nouns: FrozenSet[str]) -> bool:
    """A German compound ending in one of ``nouns``: "Lehrbuchbeispiel" is a "Beispiel"."""
    return len(word) >= 9 and any(word.endswith(n) for n in nouns if len(n) >= 6)


_ATTACHED_NEGATION = re.compile(r"\b(not|non|nicht|no|nie)-\w", re.I)


def _negative(front: str, tokens: List[str], lang: str) -> str:
    """The negation a question picks its answer by ("Which … is NOT …"), or "". Not in a
    "why"/"how" question, a condition ("if … not") or a contrast ("but not")."""
    negations = NEGATIONS.get(lang)
    if lang == "de" and negations:
        # "ist kein Edelgas" is "is not a noble gas"; "hat keinen Zellkern" names a property
        negations = negations | {t for k, t in enumerate(tokens) if t.startswith("kein") and k > 0
                                 and tokens[k - 1] in DE_COPULA}
    if not negations or not tokens or tokens[0] in EXPLAIN_WORDS[lang] or negations.isdisjoint(tokens):
        return ""
    padded = " %s " % " ".join(tokens)
    if any(padded.startswith(" %s " % p) for p in CONDITION_QUESTIONS[lang]):
        return ""  # "Under what conditions do real gases not behave ideally?": the answer is the condition
    # "nicht-euklidisch", "non-metal", "la no violencia": a word's prefix, not the question's.
    attached = {_fold(m.group(1)) for m in _ATTACHED_NEGATION.finditer(front)}
    guards, relatives = NEGATION_GUARDS[lang], RELATIVES[lang]
    if any(" %s " % p in padded for p in NAMING_PHRASES[lang]):
        return ""  # "What is a metal that does not rust called?" defines a thing
    # German puts a comma before a relative clause and uses its pronouns as articles too.
    relative_after_comma = any(words(part)[:1] and words(part)[0] in relatives for part in front.split(",")[1:])
    for k, t in enumerate(tokens):
        if t in guards or (lang != "de" and k > 1 and t in relatives) or t in EXPLAIN_WORDS[lang]:
            return ""
        if t in negations and (relative_after_comma or t in attached
                               or (k > 0 and tokens[k - 1] in ARTICLES[lang] and t != "t")):
            return ""
        if t not in negations:
            continue
        if t == "t" and not (k > 0 and tokens[k - 1] in EN_NOT):
            continue
        if lang == "fr" and t == "pas" and not any(w in ("ne", "n") for w in tokens[:k]):
            continue
        if k + 1 < len(tokens) and tokens[k + 1] in CONDITION_OR_CONTRAST_END:
            return ""
        return "not" if t in ("t", "cannot") else t
    return ""


_GAP = "qqgapqq"  # a word no text has
CLOZE_WINDOW = 6  # words either side of a gap that say what it is


def _ambiguous_cloze(text: str, lang: str) -> str:
    """"{{c1::Neon}} is an example of a noble gas": the words beside a gap that make it one of
    many right answers, or ""."""
    if lang not in ANY_OF_VERBS:
        return ""
    tokens = words(CLOZE_RE.sub(" %s " % _GAP, text))
    for i, t in enumerate(tokens):
        if t == _GAP:
            window = tokens[max(0, i - CLOZE_WINDOW):i + CLOZE_WINDOW + 1]
            phrase, _ = _ambiguous(["x"] + window, lang)  # "x": never an imperative opener
            if phrase:
                return phrase
    return ""


def _names_nothing(tokens: List[str], lang: str) -> bool:
    """A question made only of function words, question words and words that name nothing
    ("What happened next?", "Was geschah danach?", "When did the war end?")."""
    generic = GENERIC.get(lang)
    if not generic or not tokens:
        return False
    stop, questions = STOP[lang], QUESTION_WORDS[lang]
    kinds, definite = GENERIC_NOUNS[lang], DEFINITE[lang]
    # "When did the war end?": a kind with "the" and nothing that says which one
    return all(t in stop or t in questions or t in generic
               or (t in kinds and k > 0 and tokens[k - 1] in definite) for k, t in enumerate(tokens))


_TWO_SENTENCES = re.compile(r"[.;:!?]\s+\S")


def _pointing(front: str, tokens: List[str], lang: str) -> str:
    """"this drug", "cette figure", "ese episodio" on a card of one sentence: a demonstrative
    before a noun points at a text the card does not carry (not "in this way", not "this
    process" after a sentence that describes it): those words, or ""."""
    determiners = DEMONSTRATIVE_DETERMINERS.get(lang)
    if not determiners or determiners.isdisjoint(tokens) or _TWO_SENTENCES.search(front.strip()):
        return ""
    stop, relatives = STOP.get(lang, frozenset()), RELATIVES.get(lang, frozenset())
    for k, t in enumerate(tokens[:-1]):
        after = tokens[k + 1]
        if t not in determiners or after in stop or after.isdigit() or after in DEMONSTRATIVE_FIXED:
            continue
        if lang == "en" and t == "that" and k > 0 and tokens[k - 1] not in ("in", "of", "by", "at", "on", "from"):
            continue  # "that" as a relative or a conjunction: "the gas that forms …"
        if lang == "de" and k > 0 and tokens[k - 1] in relatives:
            continue
        return "%s %s" % (t, after)
    return ""


def _unnamed_referent(front: str, tokens: List[str], lang: str) -> str:
    """"What was unusual about the composer …?", "¿A qué altura está la ciudad?": a person, place,
    work or event called only by its kind with "the", and nothing on the card says which one (no
    name, nothing after it such as "of France"; a year does not say which): those words, or "". German
    capitalises every noun, so there only a name right after the kind counts as one."""
    kinds = REFERENTS.get(lang)
    if not kinds or any(t.isdigit() and len(t) <= 3 for t in tokens):
        return ""  # "article 5 of the treaty": a thing named by its number
    if kinds.isdisjoint(tokens):
        return ""
    raw = _WORD.findall(front)
    if len(raw) != len(tokens):
        return ""
    if lang != "de" and any(w[0].isupper() or (len(w) >= 2 and w.isupper()) for w in raw[1:]):
        return ""  # a name: "the composer Beethoven", "the city of Lyon"
    if lang == "de" and any(a[0].isupper() and b[0].isupper() for a, b in zip(raw[1:], raw[2:])):
        return ""  # an adjective capitalised before its noun is a name's: "nach der Goldenen Bulle"
    definite, which, relatives = DEFINITE[lang], WHICH_AFTER[lang], RELATIVES.get(lang, frozenset())
    for k, t in enumerate(tokens):
        if t in kinds and k > 0 and tokens[k - 1] in definite:
            after = tokens[k + 1] if k + 1 < len(tokens) else ""
            if after in which or after in relatives or (k + 1 < len(raw) and raw[k + 1][0].isupper()):
                continue
            return "%s %s" % (raw[k - 1], raw[k])
    return ""


_SOURCE_END = re.compile(r"[,;:?!¿¡]")


def _names_in(raw: str, named: List[str], lang: str) -> bool:
    """The words after "according to" (``named``, folded) include a name as the card writes it
    ("IPCC", "Kant"; not German, whose nouns all start with a capital), or they start with a
    possessive and the question names its subject after them."""
    raw_words = _WORD.findall(raw)
    folded = [_fold(w) for w in raw_words]
    for w in named:
        if w in folded:
            original = raw_words[folded.index(w)]
            if (len(original) >= 2 and original.isupper()) or (lang != "de" and original[0].isupper() and folded.index(w) > 0):
                return True
    if named[0] in POSSESSIVES.get(lang, ()):
        tail = folded[folded.index(named[-1]) + 1:] if named[-1] in folded else []
        return len(_content(tail, lang)) >= 3
    return False


def _vague_source(folded: str, lang: str, raw: str = "") -> str:
    """"According to …" before the text, its author or a pronoun (not before a named subject:
    "according to the Brønsted–Lowry definition"): the phrase, or ""."""
    padded = " %s " % folded.replace("'", " ").replace("-", " ")
    for phrase in SOURCE_PHRASES.get(lang, ()):
        at = padded.find(" %s " % phrase)
        if at < 0:
            continue
        rest = padded[at + len(phrase) + 2:]
        end = _SOURCE_END.search(rest)
        named = _WORD.findall(rest[:end.start()] if end else rest)[:5]
        content = [w for w in named if w not in STOP[lang] or w in TEXT_REFERENCES[lang]]
        if raw and named and _names_in(raw, named, lang):
            continue  # "selon le sixième rapport du GIEC", "según su mecanismo, ¿… la penicilina?"
        if not content or any(w in TEXT_REFERENCES[lang] and not _numbered(named[k + 1:k + 2])
                              for k, w in enumerate(named) if w in content[:3]):
            return "%s %s" % (phrase, " ".join(named[:3])) if named else phrase
    return ""


_HINT_MASK = re.compile(r"[_*…]|\.\.|\?\?|--|—")


def _two_phrases(answer: str, tokens: List[str], lang: str) -> bool:
    """A deletion of two phrases joined by "and", each of two content words or more ("property
    rights are clearly defined and transaction costs are zero"); not a pair of terms ("supply
    and demand") nor a title ("The Old Man and the Sea")."""
    ands = AND.get(lang, frozenset())
    cut = [k for k, t in enumerate(tokens) if t in ands]
    if len(cut) >= LIST_ITEMS - 1 and all(b - a >= 2 for a, b in zip([-1] + cut, cut + [len(tokens)])):
        return True  # three parts or more: "legs 3 and 4 and hypotenuse 5"
    if len(cut) != 1:
        return False
    left, right = _content(tokens[:cut[0]], lang), _content(tokens[cut[0] + 1:], lang)
    if len(left) < 2 or len(right) < 2:
        return False
    long_words = [w for w in _WORD.findall(answer) if len(w) >= 4]
    return lang == "de" or not all(w[0].isupper() for w in long_words)


def _name_in_question(back: str, front: str, lang: str) -> bool:
    """The answer is a name whose last word the question already says ("Which economist gave
    his name to the Laffer curve?" — "Arthur Laffer")."""
    if lang == "de" or not 1 <= back.count(" ") <= 5 or back[:1].islower():
        return False  # (German: every noun is capitalised, "das Reye-Syndrom" is no name)
    question_raw = _WORD.findall(front)[1:]  # as written, past its first word
    raw = _WORD.findall(back)
    if not 2 <= len(raw) <= 4 or not all(w[0].isupper() or len(w) <= 3 for w in raw):
        return False
    last = raw[-1]
    return len(last) >= 3 and not last.isupper() and last in question_raw


def _hint_leaks(answer: str, hint: str, lang: str) -> bool:
    """The hint shows the answer's first or last letters ("Mar…", "14__", "…berra"), its initials
    ("M. C.", "M. de C.") or the answer with letters masked ("M_r_e C_r_e")."""
    a_words = words(_plain_bare(answer))
    a = "".join(a_words)
    h = _plain_bare(hint).strip()
    h_tokens = words(h)
    shown = "".join(h_tokens)
    if not a or not shown:
        return False
    mask = _HINT_MASK.search(h)
    masked = bool(mask)
    if a.startswith(shown) and (masked or len(shown) < len(a)):
        # The answer's first word(s) whole: the kind of thing ("maladie" for "maladie des
        # membranes hyalines"), unless they are a name's ("Marie" for "Marie Curie").
        whole = [len("".join(a_words[:k])) for k in range(1, len(a_words))]
        if masked or len(shown) not in whole or answer.strip()[:1].isupper():
            return True
    if mask and mask.start() and h[mask.start() - 1].isalnum():
        start = "".join(words(h[:mask.start()]).__getitem__(slice(-1, None)))
        if start and a.startswith(start) and len(start) < len(a):
            return True  # "Tri…klappe", "T___Error": the answer's first letters, the rest masked
    if masked and len(shown) < len(a) and a.endswith(shown):
        return True
    if len(a_words) >= 2 and shown == "".join(w[0] for w in a_words):
        return True
    if len(a_words) >= 2 and len(h_tokens) == len(a_words) and h_tokens != a_words \
            and all(a_w.startswith(h_w) for h_w, a_w in zip(h_tokens, a_words)):
        return True  # "M. de C." for "Miguel de Cervantes", "Marie C." for "Marie Curie"
    first, last = a_words[0], h_tokens[-1]
    if len(h_tokens) > 1 and len(last) <= 4 and len(last) < len(first) and first.startswith(last) \
            and last not in STOP.get(lang, frozenset()):
        return True  # "starts with M", "beginnt mit Bau"
    if masked:
        h_chars = [c for c in h if not c.isspace()]
        a_chars = [c for c in _plain_bare(answer) if not c.isspace()]
        if abs(len(h_chars) - len(a_chars)) <= 1:
            revealed = [(c, a_chars[i]) for i, c in enumerate(h_chars[:len(a_chars)]) if c.isalnum()]
            if revealed and all(c == x for c, x in revealed):
                return True
    return False


def _plain_bare(text: str) -> str:
    """Folded, without accents: hints and answers compared letter by letter."""
    folded = _fold(text)
    if folded.isascii():
        return folded
    return "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))


def _blank(side: str) -> bool:
    """Nothing a reader could learn: no letter or digit, or a placeholder ("N/A", "TBD")."""
    return not _WORD.search(side) or (len(side) < 16 and _fold(side.strip()) in PLACEHOLDERS)


RESTATED_SHARE = 0.6  # of a stated front's content words that the back repeats


def _restated(front: str, tokens: List[str], fc: List[str], bc: List[str], lang: str) -> bool:
    """The front states a fact (no question, no "Name …"/"Explain …") and the back says it again
    ("H₂SO₄ ist eine zweiprotonige Säure." / "Schwefelsäure ist eine zweiprotonige Säure."): a
    term to define ("Mitosis") has one content word and is not one."""
    if len(fc) < 2 or "?" in front or "？" in front or front.rstrip().endswith(":"):
        return False
    first = tokens[0]
    if first in QUESTION_WORDS.get(lang, ()) or first in EXPLAIN_WORDS.get(lang, ()) \
            or first in ANY_OF_VERBS.get(lang, ()) or first in IMPERATIVES.get(lang, ()) or first in POLITE:
        return False
    return sum(_covered_each(fc, bc)) >= RESTATED_SHARE * len(fc)


def _basic_checks(card: Card, lang: str, flags: List[Flag]) -> None:
    front, back = plain(card.front), plain(card.back)
    if _blank(front) or _blank(back):
        flags.append(Flag(Check.EMPTY_SIDE, "One side of the card is empty (or only a placeholder)."))
        return
    ft, bt = words(front), words(back)
    fc, bc = _content(ft, lang), _content(bt, lang)
    if ft == bt:
        flags.append(Flag(Check.SAME_SIDES, "Front and back say the same thing."))
        return
    leak, echo = _gives_away(bc, fc, "=" in front) or _name_in_question(back, front, lang), _gives_away(fc, bc)
    # The back repeats the front, give or take one word ("Photosynthesis" / "The process of
    # photosynthesis", "What is osmosis?" / "Osmosis").
    if (leak and (echo or len(set(fc) - set(bc)) <= 1)) or (echo and len(set(bc) - set(fc)) <= 1) \
            or _restated(front, ft, fc, bc, lang):
        flags.append(Flag(Check.SAME_SIDES, "The back says what the front says: give the fact it asks for."))
    if leak:
        flags.append(Flag(Check.ANSWER_IN_QUESTION, "The question already contains the answer."))
    elif card.kind == REVERSED and echo:
        flags.append(Flag(Check.ANSWER_IN_QUESTION,
                          "The back repeats the front, so the reverse card gives the answer away."))
    if _yes_no(front, bt, lang, back):
        flags.append(Flag(Check.YES_NO, "A yes/no question: ask for the fact itself instead."))
    phrase, several = _ambiguous(ft, lang) if card.kind != REVERSED else ("", False)
    if phrase:
        flags.append(Flag(Check.AMBIGUOUS, f"“{phrase} …” has many right answers: ask for the one "
                                           "the text gives (its main use, the first cause, …)."))
    negation = _negative(front, ft, lang) if card.kind != REVERSED else ""
    if negation:
        flags.append(Flag(Check.NEGATION, f"A question by what is “{negation}”: ask what the thing "
                                          "is or does instead."))
    why = _missing_antecedent(front, lang)
    if not why and card.kind != REVERSED and _names_nothing(ft, lang):
        why = "The question names nothing (“what happened next?”): say who or what it is about."
    referent = (_unnamed_referent(front, ft, lang) or _pointing(front, ft, lang)) \
        if not why and card.kind != REVERSED else ""
    if referent:
        why = f"“{referent}” does not say which one: name it (“the composer Beethoven”)."
    if why:
        flags.append(Flag(Check.MISSING_CONTEXT, why))
    items = _list_answer(card.back, back, lang, ft)
    if _several_questions(front, ft, lang):
        flags.append(Flag(Check.SEVERAL_FACTS, "The front asks two questions: make one card for each."))
    elif items:
        flags.append(Flag(Check.SEVERAL_FACTS,
                          f"The answer lists {items} items: make one card (or one cloze) per item."))
    elif several:
        flags.append(Flag(Check.SEVERAL_FACTS, "The front asks for several things: make one card for each."))
    elif card.kind != REVERSED and _front_list(front, ft, back, lang):
        flags.append(Flag(Check.SEVERAL_FACTS,
                          "The front asks about several things at once: make one card for each."))
    sentences = len(_SENTENCE_END.findall(back.strip() + " "))
    if len(bt) > MAX_ANSWER_WORDS or sentences > MAX_ANSWER_SENTENCES:
        flags.append(Flag(Check.LONG_ANSWER,
                          f"The answer is too long to recall ({len(bt)} words): keep it to one short fact."))


def _cloze_checks(card: Card, lang: str, flags: List[Flag]) -> None:
    text = plain(card.text)
    deletions = list(CLOZE_RE.finditer(text))
    if not deletions:
        flags.append(Flag(Check.EMPTY_SIDE, "The cloze text hides nothing."))
        return
    shown = CLOZE_RE.sub(lambda m: m.group(2), text)
    stop = STOP.get(lang)
    numbers: Dict[str, int] = {}
    for m in deletions:
        numbers[m.group(1)] = numbers.get(m.group(1), 0) + 1
    filler = hint_gives = hint_leaks = long_one = given = False
    listed = 0
    for m in deletions:
        answer, hint = m.group(2), m.group(3) or ""
        at = words(answer)
        if not at or (stop is not None and all(t in stop for t in at)):
            filler = True
        if len(at) > MAX_DELETION_WORDS:
            long_one = True
        if not _one_value(answer):
            # A deletion is a term: three parts of up to eight words each are a list, two
            # phrases joined by "and" two facts.
            parts = _items(answer, lang)
            if len(parts) >= LIST_ITEMS and all(len(p.split()) <= PARALLEL_ITEM_WORDS for p in parts):
                listed = max(listed, len(parts))
            elif _two_phrases(answer, at, lang):
                listed = max(listed, 2)
        if hint.strip():
            ht = words(hint)
            ac = _content(at, lang) or at
            if " ".join(at) and (" ".join(at) in " ".join(ht) or _gives_away(ac, _content(ht, lang) or ht)):
                hint_gives = True
            elif _hint_leaks(answer, hint, lang):
                hint_leaks = True
        # What this card shows: its own deletions hidden, the other numbers' answers visible.
        visible = CLOZE_RE.sub(lambda d: " " if d.group(1) == m.group(1) else d.group(2), text)
        if _gives_away(_content(at, lang), _content(words(visible), lang)):
            given = True
    if filler:
        flags.append(Flag(Check.CLOZE_FILLER,
                          "A deletion hides a filler word or punctuation: hide the key term instead."))
    hidden_all = CLOZE_RE.sub(" ", text)
    if not _content(words(hidden_all), lang) or _letters(hidden_all) < 0.3 * _letters(shown):
        flags.append(Flag(Check.CLOZE_WHOLE, "The deletions hide (nearly) the whole text: nothing is left to cue the answer."))
    if hint_gives:
        flags.append(Flag(Check.CLOZE_HINT, "The hint contains the answer."))
    elif hint_leaks:
        flags.append(Flag(Check.CLOZE_HINT, "The hint shows the answer's first letters or initials: "
                                            "give a category (“year”, “organelle”) or no hint."))
    vague = _ambiguous_cloze(text, lang)
    if vague:
        flags.append(Flag(Check.AMBIGUOUS, f"“{vague}” makes the gap one of many right answers: hide "
                                           "what only one answer fits."))
    if listed:
        flags.append(Flag(Check.SEVERAL_FACTS, f"One deletion hides a list of {listed} items: hide each "
                                               "item in its own deletion (c1, c2, …)."))
    most = max(numbers.values())
    if most > MAX_SAME_NUMBER:
        flags.append(Flag(Check.CLOZE_TOO_MANY, f"One card hides {most} gaps at once: a puzzle, not a fact."))
    elif len(numbers) > MAX_NUMBERS or len(deletions) > MAX_NUMBERS:
        flags.append(Flag(Check.CLOZE_TOO_MANY, f"{len(deletions)} deletions in one sentence: split it "
                                                "into cards of one or two facts."))
    if given:
        flags.append(Flag(Check.ANSWER_IN_QUESTION, "The hidden answer can be read elsewhere in the text."))
    if long_one:
        flags.append(Flag(Check.LONG_ANSWER, "A deletion is too long to recall: hide a term, not a clause."))
    why = _missing_antecedent(shown, lang)
    if why:
        flags.append(Flag(Check.MISSING_CONTEXT, why))


def _other_language(tokens: Sequence[str], text: str, expected: str) -> str:
    """A language the card is in when its function words are too few for ``detect_language``:
    none of the expected language's own words, at least two function words of another language,
    one of them (or a letter) that language's own, and more of its words than of the expected
    one's ("¿Cuál es la capital?" in an English set, "Qual é a capital?" in a Spanish one)."""
    if expected not in _ALL_LISTS or len(tokens) < 3 \
            or any(t in _DISTINCT.get(expected, _OWN[expected]) for t in tokens):
        return ""
    hits_expected = sum(1 for t in tokens if t in _ALL_LISTS[expected])
    best, code = 2 * hits_expected, ""
    for other, stop in _ALL_LISTS.items():
        if other == expected:
            continue
        if stop.isdisjoint(tokens):
            continue
        hits = sum(1 for t in tokens if t in stop)
        own_word = not _OWN[other].isdisjoint(tokens)
        own_letter = any(c in text for c in LETTERS.get(other, ""))
        # An own word and an own letter of the other language say more than shared function words.
        sure = own_word and own_letter and len(tokens) >= 4
        if hits >= (1 if sure and not hits_expected else 2) and (own_word or own_letter) \
                and hits > (hits_expected if sure else best) and hits > (code and best or 0):
            best, code = hits, other
    return code


def _answers(card: Card) -> List[str]:
    """What a learner must recall: the back, or each cloze deletion."""
    if card.kind == CLOZE:
        return [m.group(2) for m in CLOZE_RE.finditer(plain(card.text))]
    return [plain(card.back)]


def check_card(card: Card, expected: Optional[Expectation] = None, support: str = "") -> List[Flag]:
    """The flags of one card, in a stable order; empty when nothing is wrong. ``support`` is the
    text the card was written from (its chunk): with it, the answer's names, numbers and terms
    are looked up there (a card that shows a figure is not: the figure is its evidence)."""
    expected = expected or Expectation()
    fields = (card.text, card.extra) if card.kind == CLOZE else (card.front, card.back)
    joined = plain(" ".join(fields))
    tokens = words(joined)
    code, best, second = _scores(tokens)
    found = code if best >= 2 and best >= 2 * second else ""
    # The word lists of the language the card is clearly in, else of the one asked for, else
    # of the one it leans to.
    lang = found or (expected.code if expected.code in STOP else "") or (code if best > second else "")
    flags: List[Flag] = []
    if card.kind == CLOZE:
        _cloze_checks(card, lang, flags)
    else:
        _basic_checks(card, lang, flags)
    if support.strip() and not card.figure:
        missing: List[str] = []
        question = plain(card.front) if card.kind != CLOZE else ""
        for answer in _answers(card):
            missing.extend(t for t in unsupported_terms(answer, support, lang, question) if t not in missing)
        if missing:
            shown = ", ".join("“%s”" % t for t in missing[:3])
            flags.append(Flag(Check.UNSUPPORTED, f"{shown} {'is' if len(missing) == 1 else 'are'} not in the "
                                                 "text the card was written from: check the answer against it."))
    if not found and expected.code:
        found = _other_language(tokens, joined, expected.code)
        if found:
            best = 3
    if found and expected.code and found != expected.code and (expected.code in STOP or best >= 3):
        asked = expected.label or expected.code
        flags.append(Flag(Check.WRONG_LANGUAGE,
                          f"The card is in {LANGUAGE_LABELS.get(found, found)}, not {asked} as asked."))
    if not lang:
        label = expected.label or "this card's language"
        flags.append(Flag(Check.NO_WORD_LIST,
                          f"No word list for {label}: only the checks that need no words ran."))
    return flags


def check_cards(cards: Sequence[Card], expected: Optional[Expectation] = None, support: str = "") -> None:
    """Set every card's ``flags`` (the pairs (check, reason) the card carries). ``support``: the
    text the cards were written from (see ``check_card``)."""
    for card in cards:
        # A card found nowhere in its text is already marked "Not in source": its answer is not
        # looked up again (one reason, not two).
        card.flags = list(_pairs(card.kind, card.front, card.back, card.text, card.extra, bool(card.figure),
                                 expected or Expectation(), support if card.grounded else ""))


@functools.lru_cache(maxsize=256)  # the cards of a few chunks in flight
def _pairs(kind: str, front: str, back: str, text: str, extra: str, figure: bool,
           expected: Expectation, support: str) -> Tuple[Tuple[str, str], ...]:
    """The flags of a card with these fields (what ``check_card`` reads of it), remembered: a
    card checked as it streams in is checked again with its chunk's list, at no cost then."""
    card = Card(kind=kind, front=front, back=back, text=text, extra=extra, figure="figure" if figure else "")
    return tuple(f.pair() for f in check_card(card, expected, support))


def is_flagged(card: Card) -> bool:
    """True when a card has a flag that is not merely informational."""
    return any(check not in INFORMATIONAL for check, _ in card.flags)
