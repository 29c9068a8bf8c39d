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
        diese dieser dieses diesen diesem deren dessen jener jene jenes dabei dadurch dafür
        daraus darin darauf davon dazu damals dort"""
    ),
    "fr": _words("il elle ils elles cela ceci ça ce cet cette ces celui celle ceux celles son sa ses leur leurs là"),
    "es": _words("""él ella ellos ellas esto este esta estos estas eso ese esa esos esas su sus aquel
        aquella aquellos aquellas dicho dicha dichos dichas allí ahí"""),
}
# Possessives: right after a noun they refer to it ("Wo hat das Gericht seinen Sitz?").
POSSESSIVES: Dict[str, FrozenSet[str]] = {
    "en": _words("its their his her"),
    "de": _words("sein seine seinen seinem seiner seines ihr ihre ihren ihrem ihrer ihres"),
    "fr": _words("son sa ses leur leurs"),
    "es": _words("su sus"),
}
# Fronts that ask by an order rather than a question: "Define …", "Berechne …".
IMPERATIVES: Dict[str, FrozenSet[str]] = {
    "en": _words("define calculate compute compare translate complete convert solve summarise summarize outline"),
    "de": _words("definiere definieren berechne berechnen vergleiche vergleichen übersetze ergänze löse fasse"),
    "fr": _words("définissez définis définir calculez calcule comparez compare traduisez complétez résolvez"),
    "es": _words("define defina calcula calcule compara compare traduce traduzca completa complete resuelve"),
}
# Demonstratives that stand for a noun when they end a question ("What do these do?" does not
# end with one; "¿Sobre qué tienen prioridad estos?" does).
DEMONSTRATIVES: Dict[str, FrozenSet[str]] = {
    "en": _words("this these those"),
    "de": _words("dies diese dieser dieses diesen diesem jene jener jenes"),
    "fr": _words("cela ceci ça celui celle ceux celles"),
    "es": _words("esto este esta estos estas eso ese esa esos esas aquello aquel aquella aquellos aquellas"),
}
# Personal pronouns: after a noun with its article they stand for it ("Pourquoi dit-on de la
# Loire qu'elle …"); a demonstrative there still points off the card ("la boucle avec cette
# exception").
PERSONAL: Dict[str, FrozenSet[str]] = {
    "en": _words("it he she they its his her their them him"),
    "de": _words("es er sie ihn ihm ihr ihre sein seine"),
    "fr": _words("il elle ils elles son sa ses leur leurs"),
    "es": _words("él ella ellos ellas su sus"),
}
# People, places, works and events a text tends to call by their kind once it has named them
# ("the composer", "la ciudad", "l'œuvre"): with "the" and nothing on the card that says which,
# the card leans on the text. The words after one that say which ("the king of France").
REFERENTS: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """composer author writer poet painter artist sculptor architect philosopher scientist
        inventor explorer physician drug medication device king queen emperor empress president pope sultan monarch ruler
        city town village country island river lake mountain building church cathedral palace
        monument museum book novel poem opera symphony war battle siege treaty expedition ship
        dynasty empire kingdom uprising episode"""),
    "de": _words(
        """komponist komponistin autor autorin schriftsteller dichter maler künstler bildhauer
        architekt philosoph wissenschaftler erfinder entdecker arzt ärztin medikament
        arzneimittel gerät könig königin kaiser kaiserin
        präsident papst sultan herrscher stadt dorf land hauptstadt insel fluss see berg gebäude
        kirche dom palast denkmal museum werk buch roman gedicht gemälde oper sinfonie
        symphonie krieg schlacht belagerung vertrag
        expedition schiff dynastie reich königreich aufstand"""),
    "fr": _words(
        """compositeur compositrice auteur écrivain poète peintre artiste sculpteur architecte
        philosophe scientifique inventeur explorateur médecin médicament appareil épisode roi reine empereur impératrice
        président pape sultan monarque souverain ville village pays île fleuve rivière lac
        montagne bâtiment église cathédrale palais monument musée œuvre oeuvre livre roman poème
        opéra symphonie guerre bataille siège traité expédition navire dynastie empire royaume
        soulèvement"""),
    "es": _words(
        """compositor compositora autor autora escritor poeta pintor artista escultor arquitecto
        filósofo científico inventor explorador médico medicamento fármaco dispositivo aparato
        episodio rey reina emperador emperatriz presidente
        papa sultán monarca soberano ciudad pueblo país isla río lago montaña edificio iglesia
        catedral palacio monumento museo obra libro novela poema ópera sinfonía guerra batalla
        asedio tratado expedición barco dinastía imperio reino levantamiento"""),
}
REFERENTS["de"] = REFERENTS["de"] | {w + end for w in REFERENTS["de"] for end in ("s", "es", "en", "n")}  # "des Medikaments"
WHICH_AFTER: Dict[str, FrozenSet[str]] = {
    "en": _words("of called named"),
    "de": _words("von des der namens genannt"),
    "fr": _words("de du des d nommé nommée appelé appelée"),
    "es": _words("de del llamado llamada"),
}
# Demonstratives before a noun ("this drug", "ce médicament", "ese episodio"): on a card of one
# sentence they point at a text the card does not carry.
DEMONSTRATIVE_DETERMINERS: Dict[str, FrozenSet[str]] = {
    "en": _words("this these that those"),
    "de": _words("dieser diese dieses diesem diesen jener jene jenes jenem jenen"),
    "fr": _words("ce cet cette ces"),
    "es": _words("este esta estos estas ese esa esos esas aquel aquella aquellos aquellas"),
}
# Nouns after a demonstrative that do not point anywhere ("in this way", "de esta manera").
DEMONSTRATIVE_FIXED: FrozenSet[str] = _words(
    """way case time moment point reason weise art fall grund zeit moment manière façon fois cas
    raison moment manera forma vez caso razón momento modo""")
# Questions asking for a title: its commas and semicolons are the title's.
TITLE_WORDS: FrozenSet[str] = _words("title titel titre título")
# Question words that pick one of a set ("Which is a …"), and the words that name the set after
# the noun ("a vice OF consent").
SELECTING: Dict[str, FrozenSet[str]] = {
    "en": _words("which what"),
    "de": _words("welches welcher welche"),
    "fr": _words("quel quelle quels quelles"),
    "es": _words("cuál cuáles"),
}
SELECTING_LINKS: Dict[str, FrozenSet[str]] = {
    "en": _words("of"), "de": _words("von vom"), "fr": _words("de du des d"), "es": _words("de del"),
}
# Words that are also articles or relative pronouns: a pronoun only when nothing precedes them
# (German "das"/"die" and English "that" start many good questions as articles or relatives).
PRONOUN_AT_START_ONLY: FrozenSet[str] = _words("that das")

# Phrases that lean on a text the card does not carry. Matched on the folded question.
CONTEXT_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("the text", "this text", "the passage", "this passage", "the author", "the authors",
           "the article", "this article", "the chapter", "this chapter", "the section",
           "this section", "the document", "this document", "mentioned above",
           "described above", "the above", "the excerpt", "the reading", "the study described",
           "in the example", "the following year", "the next year", "the year after", "years later",
           "year later", "months later"),
    "de": ("der text", "den text", "dem text", "des textes", "im text", "dieser text", "diesem text",
           "der autor", "die autorin", "des autors", "dem autor", "der abschnitt", "im abschnitt",
           "dieser abschnitt", "im artikel", "der artikel", "oben genannt",
           "oben beschrieben", "im kapitel", "das kapitel", "im dokument", "im folgenden jahr",
           "im nächsten jahr", "im jahr darauf", "jahre später", "ein jahr später"),
    "fr": ("le texte", "ce texte", "du texte", "dans le texte", "l auteur", "l autrice", "le passage",
           "ce passage", "l article", "cet article", "le chapitre", "ce chapitre", "la section",
           "le document", "ci dessus", "mentionné", "mentionnée", "l extrait", "l année suivante",
           "l année d après", "ans plus tard", "an plus tard"),
    "es": ("el texto", "este texto", "del texto", "en el texto", "el autor", "la autora", "del autor",
           "el pasaje", "el artículo", "este artículo", "el capítulo", "este capítulo", "la sección",
           "el documento", "mencionado", "mencionada", "arriba", "el fragmento", "el año siguiente",
           "al año siguiente", "años después", "año después", "años más tarde", "año más tarde"),
}

# Words after "article", "chapter", "section" that make it one named by its number ("Article 1 of
# the Declaration", "l'article premier", "el artículo 1.3"), not the text the card was made from.
ORDINALS: FrozenSet[str] = _words(
    """first second third fourth fifth sixth seventh eighth ninth tenth erste erster ersten erstes zweite
    zweiter zweiten dritte dritter dritten premier première deuxième second seconde troisième
    quatrième cinquième primero primera primer segundo segunda tercero tercera tercer cuarto cuarta
    quinto quinta""")

# Question words; "<and> <question word>" joins two questions in one front.
QUESTION_WORDS: Dict[str, FrozenSet[str]] = {
    "en": _words("what which who whom whose when where why how"),
    "de": _words("""was welche welcher welches welchen welchem wer wen wem wessen wann wo woher wohin warum
        wieso weshalb weswegen wie wodurch womit wofür woraus worin worauf wovon wozu"""),
    "fr": _words("que qu quoi quel quelle quels quelles qui quand où pourquoi comment combien"),
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

LANGUAGE_LABELS: Dict[str, str] = {"en": "English", "de": "German", "fr": "French", "es": "Spanish",
                                   "it": "Italian", "pt": "Portuguese", "nl": "Dutch"}

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

# --- questions with many right answers ("Name a …", "What is one use of …") -------------------
# Imperatives that ask for any member of a set, followed by an indefinite word.
ANY_OF_VERBS: Dict[str, FrozenSet[str]] = {
    "en": _words("name give list mention state identify provide cite suggest"),
    "de": _words("nenne nennen nennt gib geben gebt zähle zählen zählt"),
    "fr": _words("citez cite citer nommez nomme nommer donnez donne donner mentionnez indiquez proposez"),
    "es": _words("nombra nombre nombrar menciona mencione cita cite da dé indica indique enumera"),
}
# The indefinite words after such a verb: one of many ("a", "any") ...
ANY_ONE: Dict[str, FrozenSet[str]] = {
    "en": _words("a an one any something anything"),
    "de": _words("ein eine einen einem einer eines irgendein irgendeine irgendeinen etwas"),
    "fr": _words("un une quelque"),
    "es": _words("un una uno algún alguna algo"),
}
# ... or several of many ("two", "some"): also several facts in one card.
ANY_SEVERAL: Dict[str, FrozenSet[str]] = {
    "en": _words("two three four five some several"),
    "de": _words("zwei drei vier fünf einige mehrere"),
    "fr": _words("deux trois quatre cinq quelques plusieurs des"),
    "es": _words("dos tres cuatro cinco algunos algunas varios varias unos unas"),
}
# What such a verb may ask for with an indefinite word and still have one answer.
ANY_OF_EXCEPT: FrozenSet[str] = _words(
    "definition description explanation summary definition erklärung beschreibung zusammenfassung "
    "définition explication description résumé definición explicación descripción resumen")
# Nouns that name one member of a set: "What is a feature of …", "one use of …".
MEMBER_NOUNS: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """example use feature property advantage disadvantage benefit drawback reason cause
        effect consequence application characteristic type kind form symptom source risk factor
        component member trait sign method way problem limitation function role purpose
        instance aspect difference similarity result outcome goal"""),
    "de": _words(
        """beispiel anwendung verwendung verwendungszweck eigenschaft merkmal vorteil nachteil
        grund ursache folge wirkung funktion art form symptom quelle bestandteil mitglied aufgabe
        faktor methode möglichkeit risiko problem einsatzgebiet kennzeichen unterschied ziel
        auswirkung anwendungsbereich"""),
    "fr": _words(
        """exemple utilisation usage application caractéristique propriété avantage inconvénient
        raison cause conséquence effet fonction type forme sorte symptôme source rôle facteur
        composant membre méthode moyen risque problème différence objectif but"""),
    "es": _words(
        """ejemplo uso aplicación característica propiedad ventaja desventaja razón causa
        consecuencia efecto función tipo forma síntoma fuente papel factor componente miembro
        método manera riesgo problema diferencia objetivo"""),
}
# The indefinite word before such a noun, after "is": "What is a feature of …".
MEMBER_ARTICLES: Dict[str, FrozenSet[str]] = {
    "en": _words("a an one"),
    "de": _words("ein eine einer eines einen"),
    "fr": _words("un une"),
    "es": _words("un una uno"),
}
# "one" alone (not "a"): "What is one use of …" wherever it stands.
MEMBER_ONE: Dict[str, FrozenSet[str]] = {"en": _words("one")}
# What joins the noun to its set: "a feature OF …".
MEMBER_LINKS: Dict[str, FrozenSet[str]] = {
    "en": _words("of for"),
    "de": _words("von vom für der des eines einer"),
    "fr": _words("de du des d pour"),
    "es": _words("de del para"),
}
# The verb before the indefinite word in "What IS a feature of …".
MEMBER_VERBS: Dict[str, FrozenSet[str]] = {
    "en": _words("is are was were s be"),
    "de": _words("ist sind war waren wäre"),
    "fr": _words("est sont était étaient serait"),
    "es": _words("es son era eran fue sería"),
}
# Phrases that pick one of many wherever they stand ("one of the", "an example of"), folded.
ONE_OF_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("one of the", "one of its", "one of their", "one of his", "one of her", "an example of",
           "one example of", "some of the", "any of the", "name of a",
           "name of an", "name of one", "is something", "is anything"),
    "de": ("einer der", "eine der", "eines der", "einen der", "einem der", "ein beispiel für",
           "ein beispiel von", "einige der", "namen eines", "namen einer",
           "namen eine"),
    "fr": ("l un des", "l une des", "un des", "une des", "un exemple de", "un exemple d",
           "quelques uns", "certains des", "nom d un", "nom d une", "quelque chose"),
    "es": ("uno de los", "una de las", "uno de sus", "una de sus", "un ejemplo de",
           "alguno de", "alguna de", "algunos de", "algunas de", "nombre de un", "nombre de una"),
}

# --- negative questions ("Which … is NOT …") -------------------------------------------------
# Words that negate the question's verb (not "no"/"kein"/"aucun" before a noun: "Which cells have
# no nucleus?" names a property, in every language alike).
NEGATIONS: Dict[str, FrozenSet[str]] = {
    "en": _words("not never except cannot t"),  # "t" of "isn't", "doesn't"
    "de": _words("nicht nie niemals außer ausser weder"),
    "fr": _words("pas jamais sauf excepté hormis"),
    "es": _words("no nunca excepto salvo"),
}
# Question words that ask for an explanation: "Why does oil not mix with water?" is a good card.
EXPLAIN_WORDS: Dict[str, FrozenSet[str]] = {
    "en": _words("why how explain describe"),
    "de": _words("warum wieso weshalb weswegen wozu wie erkläre erklären erklärt beschreibe beschreiben"),
    "fr": _words("pourquoi comment expliquez explique expliquer décrivez décris"),
    "es": _words("por porqué cómo explica explique describe describa"),
}
# Questions that ask for a condition or a time: a negation there says what fails, and the answer
# is the condition ("Under what conditions do real gases not behave ideally?").
CONDITION_QUESTIONS: Dict[str, Tuple[str, ...]] = {
    "en": ("under what conditions", "under which conditions", "in what conditions", "under what circumstances",
           "in what circumstances", "in which cases", "in what cases", "at what temperature", "when"),
    "de": ("unter welchen bedingungen", "unter welchen umständen", "in welchen fällen", "bei welcher temperatur",
           "wann"),
    "fr": ("dans quelles conditions", "sous quelles conditions", "dans quels cas", "dans quelles circonstances",
           "à quelle température", "quand"),
    "es": ("en qué condiciones", "bajo qué condiciones", "en qué circunstancias", "en qué casos",
           "a qué temperatura", "cuándo"),
}
# Words before a negation that make it a condition or a contrast, not the question's point:
# "What happens if ATP is not available?", "… found in plants but not in animals?".
NEGATION_GUARDS: Dict[str, FrozenSet[str]] = {
    "en": _words("if when unless whether but only without because although though since"),
    "de": _words("wenn falls ob aber sondern nur ohne weil obwohl obgleich da"),
    "fr": _words("si quand lorsque mais seulement sans parce puisque bien quoique"),
    "es": _words("si cuando pero sino solo sólo sin porque aunque pues ya"),
}

# --- questions that name nothing ("What happened next?") ---------------------------------------
# Words that carry no subject: a question of only these (and function words) leans on a context.
GENERIC: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """happen happened happens occur occurred occurs next then after afterwards afterward
        later before earlier previously following follow followed follows come came result
        results consequence outcome effect cause reason purpose problem solution conclusion
        answer example idea point step event process thing things main first second last final
        take took place go went do did done say said mean means meant end ended ends begin
        began begun start started win won lose lost sign signed die died live lived rule ruled
        found founded build built write wrote written discover discovered invent invented lead
        led become became"""),
    "de": _words(
        """geschah geschieht geschehen passierte passiert dann danach anschließend nächstes
        nächste nächsten vorher später folgte folgt daraufhin tat taten getan ereignete
        ergebnis folge ursache grund zweck problem lösung schluss beispiel idee punkt schritt
        ereignis vorgang ding erste zweite letzte statt fand findet kam kommt bedeutet heißt
        endete endet begann beginnt gewann gewinnt verlor unterzeichnet unterschrieb starb
        lebte regierte gründete gegründet baute gebaut schrieb geschrieben entdeckte entdeckt
        erfand erfunden führte"""),
    "fr": _words(
        """passé passe passa arriva arrivé arrive ensuite puis après suivant suivante suite
        avant tard fit firent fait résultat conséquence cause raison but problème solution
        conclusion exemple idée point étape événement processus chose premier première
        dernier dernière produit produisit lieu veut dire signifie t termina terminé finit fini
        commença commencé débuta gagna gagné perdit perdu signé signa mourut mort vécut régna
        fonda fondé construisit construit écrivit écrit découvrit découvert inventa inventé
        dirigea devint"""),
    "es": _words(
        """pasó pasa ocurrió ocurre sucedió sucede después luego entonces siguiente antes
        tarde hizo hicieron hecho resultado consecuencia causa razón propósito problema
        solución conclusión ejemplo idea punto paso evento proceso cosa primero primera
        último última lugar significa quiere decir terminó termina comenzó empezó ganó perdió
        firmó firmado murió vivió reinó fundó fundado construyó escribió escrito descubrió
        descubierto inventó dirigió"""),
}
# "According to …": fine before a named subject ("according to the Brønsted–Lowry definition"),
# not before the text, its author or a pronoun.
SOURCE_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("according to", "as stated by", "in the view of"),
    "de": ("laut", "gemäß", "nach ansicht", "zufolge"),
    "fr": ("selon", "d après"),
    "es": ("según", "de acuerdo con", "conforme a"),
}
TEXT_REFERENCES: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """text passage author authors writer article chapter section document excerpt study
        studies source sources researchers research book paper lecture speaker teacher reading
        above story narrator report survey experiment it this that these those they them him
        her he she"""),
    "de": _words(
        """text textes autor autorin autors autoren verfasser verfasserin artikel artikels
        abschnitt abschnitts kapitel dokument dokuments studie quelle forscher forscherin buch
        vortrag auszug bericht ihm ihr ihnen ihm diesem dieser diesen dies ihm"""),
    "fr": _words(
        """texte auteur auteurs autrice article chapitre section document extrait étude source
        chercheurs chercheur livre passage récit rapport lui elle eux elles cela ceci"""),
    "es": _words(
        """texto autor autora autores artículo capítulo sección documento fragmento estudio
        fuente investigadores libro pasaje relato informe él ella ellos ellas esto eso"""),
}

# --- several facts -----------------------------------------------------------------------------
# "What does each of …", "… respectively": one question per item.
EACH_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("each of", "each one of", "respectively", "each do", "each does"),
    "de": ("jeweils", "jede der", "jeder der", "jedes der", "jedem der", "jeden der"),
    "fr": ("chacun des", "chacune des", "chacun de", "chacune de", "respectivement"),
    "es": ("cada uno de", "cada una de", "respectivamente"),
}

# --- numbers written as words (the unsupported-answer check compares them with digits) ---------
NUMBER_WORDS: Dict[str, Dict[str, int]] = {}
for _code, _numbers, _more in (
    ("en", "zero one two three four five six seven eight nine ten eleven twelve",
     "twenty:20 thirty:30 forty:40 fifty:50 sixty:60 seventy:70 eighty:80 ninety:90 hundred:100 thousand:1000 "
     "million:1000000"),
    ("de", "null eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf",
     "zwanzig:20 dreißig:30 vierzig:40 fünfzig:50 sechzig:60 siebzig:70 achtzig:80 neunzig:90 hundert:100 "
     "tausend:1000 million:1000000"),
    ("fr", "zéro un deux trois quatre cinq six sept huit neuf dix onze douze",
     "vingt:20 trente:30 quarante:40 cinquante:50 soixante:60 septante:70 octante:80 huitante:80 nonante:90 "
     "cent:100 mille:1000 million:1000000"),
    ("es", "cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce",
     "veinte:20 treinta:30 cuarenta:40 cincuenta:50 sesenta:60 setenta:70 ochenta:80 noventa:90 cien:100 "
     "ciento:100 mil:1000 millón:1000000"),
):
    NUMBER_WORDS[_code] = {w: n for n, w in enumerate(_numbers.split())}
    NUMBER_WORDS[_code].update((w, int(n)) for w, n in (p.split(":") for p in _more.split()))

# Months by name (folded, accents off), for dates written in digits in the text or the answer.
MONTHS: Dict[str, int] = {}
for _names in ("january february march april may june july august september october november december",
               "januar februar marz april mai juni juli august september oktober november dezember",
               "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
               "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"):
    MONTHS.update((w, n) for n, w in enumerate(_names.split(), 1))
MONTHS.update({"jaenner": 1, "janner": 1, "setiembre": 9})

# A decade by name ("the forties", "die Vierzigerjahre"), folded; French and Spanish say "les
# années quarante", "los años cuarenta": a tens number word after these.
DECADES: Dict[str, int] = {}
for _names in ("twenties thirties forties fifties sixties seventies eighties nineties",
               "zwanziger dreissiger vierziger funfziger sechziger siebziger achtziger neunziger"):
    DECADES.update((w, n) for n, w in zip(range(20, 100, 10), _names.split()))
DECADE_BEFORE: FrozenSet[str] = _words("annees anos")
# Words that place a time without stating a fact of their own ("in the middle of the fifties of
# the 20th century"): the answer's numbers carry it, so these are not looked up.
TIME_WORDS: FrozenSet[str] = _words(
    """year years century centuries decade decades early late mid middle beginning end jahr jahre jahren
    jahrhundert jahrhunderts jahrzehnt jahrzehnte anfang mitte ende an ans année années siècle siècles
    décennie décennies début milieu fin año años siglo siglos década décadas principios mediados finales
    comienzos""")
# Units by name (folded) and the symbol a text writes them with.
UNIT_SYMBOLS: Dict[str, str] = {}
for _symbol, _names in (
        ("m", "metre metres meter meters metro metros metre metres"), ("km", "kilometre kilometres kilometer "
        "kilometers kilometro kilometros"), ("cm", "centimetre centimetres centimeter centimeters centimetro "
        "centimetros zentimeter"), ("mm", "millimetre millimetres millimeter millimeters milimetro milimetros"),
        ("s", "second seconds sekunde sekunden seconde secondes segundo segundos"),
        ("g", "gram grams gramm gramme grammes gramo gramos"), ("kg", "kilogram kilograms kilogramm "
        "kilogramme kilogrammes kilogramo kilogramos kilo kilos"), ("l", "litre litres liter liters litro litros"),
        ("h", "hour hours stunde stunden heure heures hora horas"), ("%", "percent per cent prozent pourcent "
        "porcentaje"), ("hz", "hertz"), ("w", "watt watts vatio vatios"), ("v", "volt volts voltio voltios"),
        ("k", "kelvin"), ("j", "joule joules julio julios"), ("n", "newton newtons")):
    UNIT_SYMBOLS.update((w, _symbol) for w in _names.split())

# Letters that mark a language where its function words are too few to tell (short cards).
LETTERS: Dict[str, str] = {"de": "ßäöü", "fr": "çœèêàùâîôûëï", "es": "ñ¿¡áíóú"}

# Questions that ask for a name: a negation there defines the thing ("What is a substance that
# does not conduct called?"), it does not pick one of many.
NAMING_PHRASES: Dict[str, Tuple[str, ...]] = {
    "en": ("what is the name", "what is the term", "what term", "what is called", "what are called",
           "what is it called", "how is", "what do we call", "what do you call"),
    "de": ("wie heißt", "wie heissen", "wie heißen", "wie nennt man", "wie bezeichnet man", "wie wird",
           "welcher begriff", "welchen begriff"),
    "fr": ("comment s appelle", "comment appelle t on", "comment nomme t on", "quel est le nom",
           "quel terme", "comment se nomme"),
    "es": ("cómo se llama", "cómo se denomina", "cómo se llaman", "qué nombre", "qué término",
           "cuál es el nombre"),
}
# Relative pronouns: a negation after one is part of a description ("the gas that does not react").
RELATIVES: Dict[str, FrozenSet[str]] = {
    "en": _words("that which who whose whom where"),
    "de": _words("der die das dem den deren dessen welche welcher welches wo"),
    "fr": _words("qui que qu dont où lequel laquelle"),
    "es": _words("que quien quienes cuyo cuya donde cual"),
}
# A side that says nothing: a placeholder instead of a text (never a word that can be an answer:
# "Na" is sodium, "null" zero in German, "todo" everything in Spanish).
PLACEHOLDERS: FrozenSet[str] = frozenset((
    "n/a", "n.a.", "tbd", "tba", "to do", "xxx", "(empty)", "[empty]", "(blank)", "(leer)", "[leer]", "k.a.",
    "k. a.", "(vide)", "[vide]", "à compléter", "(vacío)", "[vacío]", "lorem ipsum"))

# Function words of languages without the lists above: they tell a card in such a language from
# one in a listed language (the wrong-language check), nothing else runs on them.
DETECT_ONLY: Dict[str, FrozenSet[str]] = {
    "it": _words("il lo gli della dello degli delle nel nella nei sul sulla che chi è sono della gli "
                 "di da per con non una uno del al alla quale quali perché come dove quando"),
    "pt": _words("o os as um uma uns umas do da dos das no na nos nas ao à pelo pela que é são não "
                 "com por para qual quais porque como onde quando seu sua"),
    "nl": _words("de het een van en in is op te dat die niet met voor zijn aan er maar om ook als "
                 "wat wie welke waar wanneer waarom hoe"),
}

# French verbs whose inverted "il" is impersonal ("Que se passe-t-il …", "Qu'arrive-t-il …"): no
# antecedent needed.
FR_IMPERSONAL: FrozenSet[str] = _words("passe agit faut a reste suffit existe manque arrive produit peut")

# Nouns that name a kind, not a thing: "the war", "the king" on a card with nothing else leans on
# a context ("When did the war end?"); "the Thirty Years' War" does not.
GENERIC_NOUNS: Dict[str, FrozenSet[str]] = {
    "en": _words(
        """war battle king queen emperor empress president leader ruler army country city state
        government treaty agreement person man woman people group scientist researcher inventor
        discovery invention experiment reaction substance method theory model law period place
        region area system structure phenomenon concept term word name object company ship party
        revolution movement book work author enzyme molecule protein organ organism species
        animal plant patient disease drug"""),
    "de": _words(
        """krieg schlacht könig königin kaiser kaiserin präsident anführer herrscher armee land
        stadt staat regierung vertrag abkommen person mann frau leute gruppe wissenschaftler
        forscher erfinder entdeckung erfindung experiment reaktion stoff substanz methode theorie
        modell gesetz zeit zeitraum ort region gebiet system struktur phänomen begriff wort name
        objekt firma unternehmen schiff partei revolution bewegung buch werk autor enzym molekül
        protein organ organismus art tier pflanze patient krankheit medikament"""),
    "fr": _words(
        """guerre bataille roi reine empereur impératrice président chef souverain armée pays
        ville état gouvernement traité accord personne homme femme gens groupe scientifique
        chercheur inventeur découverte invention expérience réaction substance méthode théorie
        modèle loi période lieu région zone système structure phénomène concept terme mot nom
        objet entreprise navire parti révolution mouvement livre œuvre auteur enzyme molécule
        protéine organe organisme espèce animal plante patient maladie médicament"""),
    "es": _words(
        """guerra batalla rey reina emperador emperatriz presidente líder gobernante ejército país
        ciudad estado gobierno tratado acuerdo persona hombre mujer gente grupo científico
        investigador inventor descubrimiento invención experimento reacción sustancia método
        teoría modelo ley período periodo lugar región zona sistema estructura fenómeno concepto
        término palabra nombre objeto empresa barco partido revolución movimiento libro obra autor
        enzima molécula proteína órgano organismo especie animal planta paciente enfermedad
        medicamento"""),
}
# Definite articles: "the war" points at one war the card must name.
DEFINITE: Dict[str, FrozenSet[str]] = {
    "en": _words("the"),
    "de": _words("der die das den dem des"),
    "fr": _words("le la les l du des au aux"),
    "es": _words("el la los las lo del al"),
}


# --- words single checks look for (checks.py, grounding.py) ---------------------------------------

# German verbs after (or before) which "es" is a placeholder, not a pronoun: "es gibt", "worum geht es".
DE_EXPLETIVE: FrozenSet[str] = _words("gibt gab geht ging handelt handelte")
# Spanish object pronouns that stand for a noun right after a question word ("¿Quién lo
# inventó?"), and those that do so only after "quién" ("¿Quién la sancionó?").
ES_CLITICS: FrozenSet[str] = _words("lo le les")
ES_CLITICS_AFTER_WHO: FrozenSet[str] = _words("la las los")
# Words of politeness before a question's verb: "Please name one …", "Bitte nennen Sie …".
POLITE: FrozenSet[str] = _words("please bitte sil svp por favor")
# A pronoun between such a verb and what it asks for: "Nennen Sie ein …", "Donnez-moi un …".
PRONOUN_AFTER_VERB: FrozenSet[str] = _words("sie mir uns moi nous me us nos")
# A word after the negation that makes it a condition or contrast: "not only", "nicht nur".
CONDITION_OR_CONTRAST_END: FrozenSet[str] = _words("only nur seulement solo sólo just merely")
# The English verbs a "n't" ("t" once split) negates.
EN_NOT: FrozenSet[str] = _words("isn aren wasn weren don doesn didn can couldn won wouldn shouldn hasn haven hadn mustn")
# German forms of "to be" before "kein": "ist kein Edelgas" is "is not a noble gas".
DE_COPULA: FrozenSet[str] = _words("ist sind war waren wird werden wurde wurden wäre")
# Articles, definite and indefinite, before a noun: a negation right after one ("the non-metals",
# "la no violencia") and a possessive after a noun with its article belong to that noun. Not
# DEFINITE | MEMBER_ARTICLES, which serve other checks: that union has "one", "au"/"aux",
# "del"/"al"/"uno" and lacks "einem", "unos"/"unas".
ARTICLES: Dict[str, FrozenSet[str]] = {
    "en": _words("the a an"),
    "de": _words("der die das den dem des ein eine einer einen einem eines"),
    "fr": _words("le la les l un une des du"),
    "es": _words("el la los las lo un una unos unas"),
}
# German separable-verb particles: "herstellen" is "stellen … her" in a text.
DE_PARTICLES: Tuple[str, ...] = ("zuruck", "heraus", "herein", "her", "hin", "an", "auf", "aus", "ab", "ein",
                                 "mit", "zu", "vor", "nach", "fest", "dar", "weg", "bei", "um")
