"""Which labels of a figure to hide, in which groups, under which header.

Rules first: axis ticks and other numbers, units, figure numbers and panel letters are never
hidden (``label_role``). The rest go to the model in one text-only request per figure (it needs
no eyes: the labels, their places and the caption are text): it says whether the figure is worth
learning by its labels at all, groups the labels that name one thing (a name broken over two
lines, a part labelled twice) and leaves out those not worth recalling, and writes a short header
from the caption. Its answer is untrusted: only label numbers it was given count, each label in
one group at most, and the header is one plain line.

When the model cannot be asked or answers twice with nothing usable, the rules choose
(``by_rules``): every label that may be hidden is a card of its own, lines that stand right
under one another are one label, and the header is the caption without its number; the figure
says so (``Choice.note``)."""
import re
import threading
from dataclasses import dataclass, field, replace
from typing import List, Optional, Sequence

from ..backends.base import Backend, ChatRequest
from ..errors import Cancelled, FlashcardError, InvalidAnswer
from ..job.answers import parse_json
from ..job.prompts import retry_prompt
from ..job.run import answer_text, is_fatal
from ..outside import neutralise
from .find import LabelledFigure, Run, reading_order

MAX_GROUPS = 40  # cards a figure gives at most
MAX_GROUP_SIZE = 6
HEADER_CHARS = 160
ANSWER_TOKENS = 800

TICK, UNIT, NUMBER, PANEL = "tick", "unit", "figure number", "panel letter"
_NUMBER = re.compile(r"^[-+−–~≈<>≤≥]?\s*\d[\d.,\s]*(?:[eE×x^][-+−]?\d+)?\s*(?:%|‰|°\w?|\w{0,4}\.?)?\s*$")
_UNITS = frozenset("""mm cm m km µm um nm pm mg g kg µg ml l dl µl s ms µs min h hz khz mhz ghz
    v mv kv a ma µa w kw mw j kj cal kcal n pa kpa mpa bar mmhg °c °f k % ppm mol mmol µmol m/s
    km/h db ω ohm kb mb gb tb px pt""".split())
_FIGURE_NUMBER = re.compile(r"^\s*(?:fig(?:ure)?s?\.?|abb(?:ildung)?\.?|figura|plate|table)\s*[A-Z]?\d+[a-z]?\W*$",
                            re.I)
_PANEL = re.compile(r"^\s*\(?[A-Za-z]\)?[.:]?\s*$|^\s*\(?(?:i|ii|iii|iv|v|vi)\)\s*$")
_CAPTION_NUMBER = re.compile(r"^\s*(?:fig(?:ure)?s?\.?|abb(?:ildung)?\.?|figura|plate)\s*[A-Z]?\d+[a-z]?\s*[.:–—-]?\s*",
                             re.I)

SYSTEM = (
    "You make image occlusion flashcards from a labelled figure: each card hides some of the "
    "figure's labels and the learner recalls them. You are given the labels (by number, with "
    "where they stand in the figure) and the caption. Answer with JSON only.")

SCHEMA = {
    "type": "object",
    "properties": {
        "figure": {"type": "boolean"},
        "header": {"type": "string"},
        "groups": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    },
    "required": ["figure", "header", "groups"],
}


@dataclass
class Choice:
    """What a figure's note hides: groups of labels (each group one card) and its header."""

    groups: List[List[Run]] = field(default_factory=list)
    header: str = ""
    worth: bool = True  # False: the model says the figure is not worth learning by its labels
    by_rules: bool = False  # chosen without the model
    note: str = ""  # why, when chosen without the model


def label_role(text: str) -> str:
    """"" for a label worth hiding; else what it is: an axis tick or other number, a unit, a
    figure number or a panel letter."""
    t = " ".join(text.split())
    if _FIGURE_NUMBER.match(t):
        return NUMBER
    if _PANEL.match(t):
        return PANEL
    if t.strip("()[]").lower() in _UNITS:
        return UNIT
    if _NUMBER.match(t) or not any(c.isalpha() for c in t):
        return TICK
    return ""


def hideable(figure: LabelledFigure) -> List[Run]:
    return [run for run in figure.labels if not label_role(run.text)]


def plain_header(text: str) -> str:
    """A header as one plain line of at most ``HEADER_CHARS`` characters."""
    line = " ".join(re.sub(r"<[^<>]{0,200}>", " ", neutralise(str(text)[:HEADER_CHARS * 4])).split())
    return line if len(line) <= HEADER_CHARS else line[:HEADER_CHARS - 1].rstrip() + "…"


def rule_header(figure: LabelledFigure) -> str:
    caption = _CAPTION_NUMBER.sub("", figure.caption).strip()
    return plain_header(caption or figure.title or f"Page {figure.page}")


def by_rules(figure: LabelledFigure, note: str = "") -> Choice:
    """Every label that may be hidden is a card; lines right under one another are one label."""
    groups: List[List[Run]] = []
    for run in reading_order(hideable(figure)):
        for group in groups:
            last = group[-1].box
            gap = run.box.top - last.bottom
            middle = (run.box.left + run.box.right) / 2
            if 0 <= gap <= 0.5 * last.height and last.left - last.height <= middle <= last.right + last.height \
                    and len(group) < MAX_GROUP_SIZE:
                group.append(run)
                break
        else:
            groups.append([run])
    return Choice(groups[:MAX_GROUPS], rule_header(figure), True, True, note)


def _where(run: Run, figure: LabelledFigure) -> str:
    x, y = run.box.center()
    area = figure.area
    return "%d%% from the left, %d%% from the top" % (
        round(100 * (x - area.left) / max(1.0, area.width)), round(100 * (y - area.top) / max(1.0, area.height)))


def user_prompt(figure: LabelledFigure, candidates: Sequence[Run], document: str, language: str = "") -> str:
    lines = [f"[{i}] {neutralise(run.text)} ({_where(run, figure)})" for i, run in enumerate(candidates, start=1)]
    left_out = [r.text for r in figure.labels if label_role(r.text)]
    about = (f"Caption: {neutralise(figure.caption)}" if figure.caption
             else f"Title of the page: {neutralise(figure.title)}" if figure.title else "No caption.")
    lang = f"Write the header in {language}." if language else "Write the header in the language of the labels."
    return (
        f"Source: {neutralise(document)}, page {figure.page}\n{about}\n"
        "Labels of the figure:\n<<<\n" + "\n".join(lines) + "\n>>>\n"
        + (f"Left out already (numbers, units, figure numbers): {neutralise(', '.join(left_out))[:400]}\n"
           if left_out else "")
        + "\nAnswer {\"figure\": ..., \"header\": ..., \"groups\": [[...], ...]}:\n"
        "- \"figure\": false if the figure is not worth learning by its labels (a table, a chart "
        "whose labels are only values, a logo, a decoration); else true.\n"
        "- \"groups\": the labels to hide, by number; each list is one card. Put labels that name "
        "one thing in one list (one name broken over two lines, the same part labelled twice). "
        "Leave out labels not worth recalling (a legend's title, a credit, \"not to scale\").\n"
        f"- \"header\": a short title for the card from the caption (at most 12 words). {lang}")


def read_answer(content: str, figure: LabelledFigure, candidates: Sequence[Run]) -> Choice:
    """The model's answer as a ``Choice`` (InvalidAnswer if nothing in it can be used)."""
    data = parse_json(content)
    if not isinstance(data, dict):
        raise InvalidAnswer("The answer is not a JSON object.")
    worth = data.get("figure")
    header = plain_header(data.get("header") or "") if isinstance(data.get("header"), str) else ""
    raw = data.get("groups")
    if worth is False:
        return Choice([], header or rule_header(figure), worth=False)
    if not isinstance(raw, list):
        raise InvalidAnswer("The answer has no list of groups.")
    used = set()
    groups: List[List[Run]] = []
    for item in raw[:MAX_GROUPS * 4]:
        numbers = item if isinstance(item, list) else [item]
        group = []
        for n in numbers[:MAX_GROUP_SIZE]:
            if isinstance(n, bool) or not isinstance(n, (int, float)) or int(n) != n:
                continue
            i = int(n) - 1
            if 0 <= i < len(candidates) and i not in used:
                used.add(i)
                group.append(candidates[i])
        if group:
            groups.append(group)
    if not groups and raw:
        raise InvalidAnswer(f"The groups name no label between 1 and {len(candidates)}.")
    return Choice(groups[:MAX_GROUPS], header or rule_header(figure))


def choose(figure: LabelledFigure, backend: Optional[Backend], base: Optional[ChatRequest],
           document: str, language: str = "", cancel: Optional[threading.Event] = None) -> Choice:
    """The labels to hide. ``base``: a request with the job's model and options
    (``job.run.base_request``); without a backend the rules choose. A server that is gone or a
    missing model raises (asking about the next figure is pointless); any other failure leaves
    the choice to the rules, with a note saying why."""
    candidates = reading_order(hideable(figure))
    if not candidates:
        return Choice([], rule_header(figure), worth=False)
    if backend is None or base is None:
        return by_rules(figure)
    request = replace(base, system=SYSTEM, user=user_prompt(figure, candidates, document, language),
                      schema=SCHEMA, num_predict=ANSWER_TOKENS, images=[])
    problem = ""
    for _attempt in range(2):
        content = ""
        try:
            content = answer_text(backend.chat(request, cancel))
            return read_answer(content, figure, candidates)
        except Cancelled:
            raise
        except FlashcardError as err:
            if is_fatal(err):
                raise
            problem = err.message
            if not isinstance(err, InvalidAnswer):
                break
            request = replace(request, extra_messages=[
                {"role": "assistant", "content": content[:2000]},
                {"role": "user", "content": retry_prompt(problem)}])
    return by_rules(figure, f"The model's choice of labels could not be used ({problem}); every "
                            "label is hidden, each on a card of its own.")

