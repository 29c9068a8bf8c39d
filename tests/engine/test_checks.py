"""The card checks (generator/cards/checks.py): every check with a card that has the defect
and one that does not, in each listed language; the labelled set's recall and false flags."""
from typing import List

import pytest

from generator.cards.card import Card
from generator.cards.checks import Check, check_card, check_cards, detect_language, expectation, is_flagged, words
from labelled_sets import evaluate, labelled



def basic(front: str, back: str, asked: str = "English", kind: str = "basic") -> List[str]:
    return [f.check.value for f in check_card(Card(kind=kind, front=front, back=back), expectation(asked))]


def cloze(text: str, asked: str = "English") -> List[str]:
    return [f.check.value for f in check_card(Card(kind="cloze", text=text), expectation(asked))]


@pytest.mark.parametrize("front, back, asked, check", [
    ("Which cycle, named after Melvin Calvin, fixes CO2?", "The Calvin cycle", "English", Check.ANSWER_IN_QUESTION),
    ("Welches Enzym, die RuBisCO, bindet CO2?", "RuBisCO", "German", Check.ANSWER_IN_QUESTION),
    ("Is the sky blue?", "Yes", "English", Check.YES_NO),
    ("Does glucose contain carbon?", "It does.", "English", Check.YES_NO),
    ("Ist der Himmel blau?", "Ja", "German", Check.YES_NO),
    ("Est-ce que le ciel est bleu ?", "Oui", "French", Check.YES_NO),
    ("La cellule a-t-elle un noyau ?", "Oui", "French", Check.YES_NO),
    ("¿Es azul el cielo?", "Sí", "Spanish", Check.YES_NO),
    ("What does it produce?", "ATP", "English", Check.MISSING_CONTEXT),
    ("What does the text say about ATP?", "It stores energy", "English", Check.MISSING_CONTEXT),
    ("What is the main claim of the author?", "Trade grew", "English", Check.MISSING_CONTEXT),
    ("According to Smith, why did trade grow?", "Lower tariffs", "English", Check.MISSING_CONTEXT),
    ("Was produziert es?", "ATP", "German", Check.MISSING_CONTEXT),
    ("Was steht im Text über ATP?", "Es speichert Energie", "German", Check.MISSING_CONTEXT),
    ("Que produit-il ?", "De l'ATP", "French", Check.MISSING_CONTEXT),
    ("D'après l'auteur, pourquoi le commerce a-t-il augmenté ?", "Les tarifs ont baissé", "French", Check.MISSING_CONTEXT),
    ("¿Cuál es su función?", "Producir energía", "Spanish", Check.MISSING_CONTEXT),
    ("What are the stages of mitosis?", "Prophase, metaphase, anaphase and telophase", "English", Check.SEVERAL_FACTS),
    ("What is ATP and where is ATP made?", "An energy carrier; in mitochondria", "English", Check.SEVERAL_FACTS),
    ("Name the noble gases.", "<ul><li>Helium</li><li>Neon</li></ul>", "English", Check.SEVERAL_FACTS),
    ("Wann endete der Krieg und wer gewann?", "1945; die Alliierten", "German", Check.SEVERAL_FACTS),
    ("What did Darwin observe on the Galápagos Islands?", " ".join(["finches"] * 30), "English", Check.LONG_ANSWER),
    ("Photosynthesis", "photosynthesis.", "English", Check.SAME_SIDES),
    ("What is ATP?", "", "English", Check.EMPTY_SIDE),
    ("What is the capital of France?", "Paris", "German", Check.WRONG_LANGUAGE),
    ("Was ist die Hauptstadt von Frankreich?", "Paris", "English", Check.WRONG_LANGUAGE),
])
def test_basic_check_flags_the_defect(front: str, back: str, asked: str, check: Check) -> None:
    assert check.value in basic(front, back, asked)


def test_reversed_card_whose_back_repeats_the_front() -> None:
    assert Check.ANSWER_IN_QUESTION.value in basic("Osmosis", "Osmosis is the diffusion of water", kind="reversed")
    assert basic("Osmosis", "The diffusion of water across a membrane", kind="reversed") == []


@pytest.mark.parametrize("text, asked, check", [
    ("{{c1::The}} mitochondrion produces ATP.", "English", Check.CLOZE_FILLER),
    ("Mitochondria produce ATP{{c1::.}}", "English", Check.CLOZE_FILLER),
    ("Die Mitochondrien {{c1::sind}} Kraftwerke.", "German", Check.CLOZE_FILLER),
    ("{{c1::Mitochondria produce ATP through respiration}}.", "English", Check.CLOZE_WHOLE),
    ("{{c1::Osmosis::osmosis}} moves water.", "English", Check.CLOZE_HINT),
    ("The {{c1::Calvin cycle::the cycle named after Calvin}} fixes CO2.", "English", Check.CLOZE_HINT),
    ("{{c1::C}}, {{c1::H}}, {{c1::O}} and {{c1::N}} make up living matter.", "English", Check.CLOZE_TOO_MANY),
    ("{{c1::a}} {{c2::b}} {{c3::c}} {{c4::d}} {{c5::e}} {{c6::f}} are letters of the alphabet.", "English", Check.CLOZE_TOO_MANY),
    ("{{c1::Photosynthesis}} makes sugar; photosynthesis needs light.", "English", Check.ANSWER_IN_QUESTION),
    ("It stores genetic information in the {{c1::nucleus}}.", "English", Check.MISSING_CONTEXT),
    ("The cell stores genes in {{c1::a nucleus that holds the chromosomes and copies them before every division}}.",
     "English", Check.LONG_ANSWER),
    ("Cell without deletion.", "English", Check.EMPTY_SIDE),
    ("La mitochondrie produit de l'{{c1::ATP}} dans la cellule grâce à la respiration.", "English", Check.WRONG_LANGUAGE),
])
def test_cloze_check_flags_the_defect(text: str, asked: str, check: Check) -> None:
    assert check.value in cloze(text, asked)


@pytest.mark.parametrize("text", [
    "The powerhouse of the cell is the {{c1::mitochondrion}}.",
    "{{c1::Watson}} and {{c2::Crick}} described the double helix in {{c3::1953}}.",
    "The SI unit of force is the {{c1::newton::unit}}.",
    "Der Satz des Pythagoras lautet {{c1::\\(a^2 + b^2 = c^2\\)}}.",
])
def test_good_cloze_is_not_flagged(text: str) -> None:
    asked = "German" if "Satz" in text else "English"
    assert cloze(text, asked) == []


def test_language_without_word_list_runs_the_language_free_checks_and_says_so() -> None:
    flags = check_card(Card(kind="basic", front="Qual è la capitale d'Italia?", back="Qual è la capitale d'Italia?"),
                       expectation("Italian"))
    checks = [f.check.value for f in flags]
    assert Check.SAME_SIDES.value in checks  # language-free
    info = [f for f in flags if f.check is Check.NO_WORD_LIST]
    assert info and "Italian" in info[0].reason
    good = Card(kind="basic", front="Qual è la capitale d'Italia?", back="Roma")
    check_cards([good], expectation("Italian"))
    assert good.flags and not is_flagged(good)  # informational only: the card stays checked


def test_language_detection_and_expectation() -> None:
    assert detect_language(words("Die Zelle ist die kleinste Einheit des Lebens und wird von einer Membran umgeben."))[0] == "de"
    assert detect_language(words("La cellule est l'unité de base du vivant et elle est entourée d'une membrane."))[0] == "fr"
    assert detect_language(words("La célula es la unidad básica de la vida y está rodeada por una membrana."))[0] == "es"
    assert detect_language(words("The cell is the basic unit of life and it is surrounded by a membrane."))[0] == "en"
    assert detect_language(words("ATP"))[0] == ""
    assert expectation("Deutsch").code == "de" and expectation("es-MX").code == "es"
    assert expectation("", "The cell is the basic unit of life and it is surrounded by a membrane.").code == "en"


def test_reasons_are_sentences_a_user_understands() -> None:
    flags = check_card(Card(kind="basic", front="Is it true that the text says it is green?", back="Yes"),
                       expectation("English"))
    assert flags
    for flag in flags:
        assert flag.reason[0].isupper() and flag.reason.endswith((".", "!")) and 15 < len(flag.reason) < 160


def test_labelled_set_recall_and_false_flags() -> None:
    rows = labelled()
    assert len(rows) >= 100
    assert {r["lang"] for r in rows} >= {"en", "de", "fr", "es"}
    assert {r["kind"] for r in rows} >= {"basic", "reversed", "cloze"}
    every = {c.value for c in Check} - {Check.NO_WORD_LIST.value, Check.SAME_SIDES.value, Check.EMPTY_SIDE.value}
    assert every <= {e for r in rows for e in r["expect"]}  # every check has labelled examples
    result = evaluate(rows)
    assert result["recall"] >= 0.85, result["misses"]
    assert result["false_rate"] <= 0.05, result["misses"]
