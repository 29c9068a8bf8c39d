"""Word lists for the card checks (generator/checks.py), per language: function words, the
words that open a yes/no question, pronouns that need an antecedent, phrases that point at a
text the card does not carry, and the words that join two questions. Plain data, lower case.

A language is listed under its ISO 639-1 code; ``NAMES`` maps what a user may type as the
card language ("German", "Deutsch", "de-AT" ...) to that code."""
from typing import Dict, FrozenSet, Tuple


def _words(text: str) -> FrozenSet[str]:
    return frozenset(text.split())


# Function words: never the point of a card, never the answer of a cloze deletion.
STOP: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """a an the and or but nor of to in on at by for with from into onto over under about
        as than then so if because while though although that this these those there here
        it its it's they them their theirs he him his she her hers we us our you your i me my
        is are was were be been being am do does did done doing has have had having can could
        will would shall should may might must not no yes very too also just only what which
        who whom whose when where why how all any some each every both either neither such
        own same other another more most less least much many few one up down out off again
        further once s t don doesn isn aren wasn weren didn hasn haven hadn wouldn"""
    ),
    "de": _words(
        """der die das den dem des ein eine einer eines einem einen und oder aber doch sondern
        denn weil dass daß ob wenn als wie so zu zum zur im in am an auf aus bei mit nach von
        vom vor über unter um durch für gegen ohne bis seit während es er sie ihr ihre ihrem
        ihren ihrer ihres sein seine seinem seinen seiner seines wir uns unser du dich dir ich
        mich mir man sich ist sind war waren sei wird werden wurde wurden worden hat haben
        hatte hatten kann können konnte muss müssen soll sollen will wollen darf dürfen mag
        nicht kein keine keinen keiner auch nur noch schon sehr was wer wen wem wessen welche
        welcher welches welchen welchem wo wann warum wieso weshalb wodurch womit wofür dieser
        diese dieses diesen diesem jener jene jenes alle allem allen aller alles jeder jede
        jedes jeden jedem beim ins ja nein hier dort da dann denn zwischen"""
    ),
    "fr": _words(
        """le la les l un une des du de d au aux et ou mais donc or ni car que qu qui quoi c s n j m
        dont où quand comment pourquoi quel quelle quels quelles lequel laquelle ce cet cette
        ces ceci cela ça celui celle ceux celles il elle ils elles on nous vous je tu me te se
        lui leur leurs son sa ses mon ma mes ton ta tes notre nos votre vos est sont était
        étaient être été a ont avait avaient avoir eu fait faire peut peuvent pouvait doit
        doivent ne pas plus moins très aussi encore déjà en dans sur sous par pour avec sans
        entre vers chez comme si oui non y tout toute tous toutes même autre autres à"""
    ),
    "es": _words(
        """el la los las lo un una unos unas y e o u pero sino ni que qué quien quién quienes
        cual cuál cuales cuáles cuando cuándo donde dónde como cómo cuanto cuánto cuánta
        cuántos cuántas por para porque de del al a en con sin sobre entre hasta desde hacia
        tras ante bajo según es son era eran fue fueron ser sido siendo está están estaba
        estaban estar ha han había habían haber hay tiene tienen tenía puede pueden debe deben
        se su sus le les me te nos os mi mis tu tus nuestro nuestra él ella ellos ellas ello
        yo tú usted ustedes este esta esto estos estas ese esa eso esos esas aquel aquella no
        sí muy más menos también ya todo toda todos todas otro otra otros otras mismo misma"""
    ),
}

# Words that open a yes/no question (after an opening "¿" in Spanish).
YES_NO_OPENERS: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """is are was were am do does did can could will would shall should may might must has
        have had isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't
        wouldn't shouldn't hasn't haven't hadn't"""
    ),
    "de": _words(
        """ist sind war waren wird werden wurde wurden hat haben hatte hatten kann können
        konnte konnten muss müssen musste soll sollen sollte sollten darf dürfen gibt gab
        gilt galt enthält enthalten besteht bestehen stimmt trifft handelt führt verursacht
        gehört gehören liegt liegen braucht benötigt"""
    ),
    "fr": _words("""est-ce est-il est-elle sont-ils sont-elles peut-on peut-il peut-elle existe-t-il
        y a-t-il a-t-il a-t-elle ont-ils ont-elles faut-il doit-on doit-il"""),
    "es": _words(
        """es son era eran fue fueron está están estaba hay había tiene tienen tenía puede
        pueden podría debe deben existe existen sirve ocurre produce contiene"""
    ),
}
# What a yes/no question's answer starts with, in any of the languages.
YES_NO_ANSWERS: FrozenSet[str] = _words(
    "yes no true false ja nein wahr falsch richtig oui non vrai faux sí si verdadero falso"
)

# Pronouns and demonstratives that need something earlier in the question to refer to.
PRONOUNS: Dict[str, FrozenSet[str]] = {
    "en": _words("it its it's this these those they them their he him his she her that"),
    "de": _words(
        """es er sie ihn ihm ihr ihre ihren ihrem ihrer sein seine seinen seinem seiner dies
        diese dieser dieses diesen diesem deren dessen"""
    ),
    "fr": _words("il elle ils elles cela ceci ça ce cet cette ces celui celle ceux celles son sa ses leur leurs"),
    "es": _words("él ella ellos ellas esto este esta estos estas eso ese esa esos esas su sus"),
}
# Words that are also articles or relative pronouns: a pronoun only when nothing precedes them
# (German "das"/"die" and English "that" start many good questions as articles or relatives).
PRONOUN_AT_START_ONLY: FrozenSet[str] = _words("that das")

# Phrases that lean on a text the card does not carry. Matched on the folded question.
CONTEXT_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("the text", "this text", "the passage", "this passage", "the author", "the authors",
           "the article", "this article", "the chapter", "this chapter", "the section",
           "this section", "the document", "this document", "according to", "mentioned above",
           "described above", "the above", "the excerpt", "the reading", "the study described",
           "in the example"),
    "de": ("der text", "den text", "dem text", "des textes", "im text", "dieser text", "diesem text",
           "der autor", "die autorin", "des autors", "dem autor", "der abschnitt", "im abschnitt",
           "dieser abschnitt", "im artikel", "der artikel", "laut ", "gemäß", "oben genannt",
           "oben beschrieben", "im kapitel", "das kapitel", "im dokument"),
    "fr": ("le texte", "ce texte", "du texte", "dans le texte", "l auteur", "l autrice", "le passage",
           "ce passage", "l article", "cet article", "le chapitre", "ce chapitre", "la section",
           "le document", "selon ", "d après", "ci dessus", "mentionné", "mentionnée", "l extrait"),
    "es": ("el texto", "este texto", "del texto", "en el texto", "el autor", "la autora", "del autor",
           "el pasaje", "el artículo", "este artículo", "el capítulo", "este capítulo", "la sección",
           "el documento", "según ", "mencionado", "mencionada", "arriba", "el fragmento"),
}

# Question words; "<and> <question word>" joins two questions in one front.
QUESTION_WORDS: Dict[str, FrozenSet[str]] = {
    "en": _words("what which who whom whose when where why how"),
    "de": _words("was welche welcher welches welchen wer wen wem wann wo warum wieso weshalb wie wodurch womit wofür"),
    "fr": _words("que quoi quel quelle quels quelles qui quand où pourquoi comment combien"),
    "es": _words("qué cuál cuáles quién quiénes cuándo dónde por cómo cuánto cuánta cuántos cuántas"),
}
AND: Dict[str, FrozenSet[str]] = {
    "en": _words("and"),
    "de": _words("und"),
    "fr": _words("et"),
    "es": _words("y e"),
}
# "or" makes "Is it A or B?" a choice, not a yes/no question.
OR: Dict[str, FrozenSet[str]] = {
    "en": _words("or"),
    "de": _words("oder"),
    "fr": _words("ou"),
    "es": _words("o u"),
}

LANGUAGE_LABELS: Dict[str, str] = {"en": "English", "de": "German", "fr": "French", "es": "Spanish"}

# What a user may type as the card language, folded, mapped to a code (lists above or not).
NAMES: Dict[str, str] = {}
for _code, _names in {
    "en": "en english englisch anglais inglés ingles",
    "de": "de german deutsch allemand alemán aleman",
    "fr": "fr french französisch franzoesisch français francais francés frances",
    "es": "es spanish spanisch espagnol español espanol castellano",
    "it": "it italian italienisch italien italiano",
    "pt": "pt portuguese portugiesisch portugais portugués português",
    "nl": "nl dutch niederländisch néerlandais nederlands",
    "pl": "pl polish polnisch polonais polski",
    "ru": "ru russian russisch russe русский",
    "ja": "ja japanese japanisch japonais 日本語",
    "zh": "zh chinese chinesisch chinois 中文",
}.items():
    for _name in _names.split():
        NAMES[_name] = _code
