"""A note of the collection read as the card the engine knows (``Card``: front/back, or text/extra
for cloze), by its note type's shape and the settings' field mapping, and where it came from.

- Note types are read as Update from source reads them (``notes.add.shape_for``): stock Basic,
  Basic (and reversed) and Cloze types are recognised by their templates (never by their
  translated names); the user's own note type named in the settings (``note_type``) uses the
  settings' ``field_mapping``; any other type maps its first field to the question and its
  second to the answer (a field called like "Source" is left alone).
- Image occlusion notes are not changed (their fields are masks, not text).
- A field that holds an image or a sound is shown to the model as text but never rewritten
  (the media would be lost); nor is a field longer than ``SENT_FIELD_CHARS`` (it is sent cut).
- The add-on's source line (``notes.add.source_line``, under the back or in the extra) is taken
  off before the note is checked or sent, and put back at the end after a rewrite.

Where it came from (``Origin``): the add-on tags what it makes (``ollama-flashcards::source::…``,
``…::from-note::<id>``) and writes the source reference into a "Source" field or that line."""
import html
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from ..cards.card import Card
from ..notes.add import ADDON_TAG, NoteShape, strip_source_line
from ..notes.add import shape_for  # noqa: F401  (how a note type is read: diagnose takes it from here)

_MEDIA = re.compile(r"<(?:img|audio|video|object|embed|iframe)\b|\[sound:", re.IGNORECASE)
_FILE_LINK = re.compile(r'href="(file:[^"]{1,4000})"', re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
FROM_NOTE_PREFIX = ADDON_TAG + "::from-note::"
SENT_FIELD_CHARS = 3000  # of a field's text sent to the model; a longer field is sent cut, kept as it is
SOURCE_TAG_PREFIX = ADDON_TAG + "::source::"


@dataclass
class NoteCard:
    """A note as a card, and what must survive a rewrite."""

    note_id: int
    mid: int  # its note type's id
    card: Card
    shape: NoteShape
    mod: int  # the note's modification time when read: a note edited since is not overwritten
    tags: List[str]
    fields: Dict[str, str]  # every field of the note, by name, as stored
    source_line: str = ""  # the add-on's source line, taken off the back/extra
    media_fields: List[str] = field(default_factory=list)  # logical fields holding media
    long_fields: List[str] = field(default_factory=list)  # logical fields too long to send whole

    def value(self, logical: str) -> str:
        """A logical field's HTML (without the source line)."""
        return str(getattr(self.card, logical, "") or "")


def read_note(note: Any, shape: NoteShape) -> NoteCard:
    """``note`` (an ``anki.notes.Note``) as a ``NoteCard``."""
    fields = {name: str(note[name]) for name in note.keys()}
    card = Card(kind=shape.kind)
    line = ""
    media: List[str] = []
    long: List[str] = []
    for logical in shape.main_fields:
        name = shape.mapping.get(logical)
        value = fields.get(name, "") if name else ""
        if logical in ("back", "extra"):
            value, found = strip_source_line(value)
            line = found or line
        if _MEDIA.search(value):
            media.append(logical)
        if len(value) > SENT_FIELD_CHARS and len(plain_text(value)) > SENT_FIELD_CHARS:
            long.append(logical)
        setattr(card, logical, value)
    return NoteCard(int(note.id), int(note.mid), card, shape, int(note.mod), list(note.tags), fields, line, media,
                    long)


def plain_text(field_html: str) -> str:
    """A field as plain text (for prompts and messages)."""
    text = re.sub(r"(?i)<br\s*/?>|</(?:p|div|li|tr)>", "\n", field_html)
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.split("\n") if line.strip())


@dataclass
class Origin:
    """Where a note came from, as far as the collection says."""

    by_addon: bool  # the add-on made it
    label: str = ""  # its source reference ("notes.pdf · p. 3 · Glycolysis"), "" = none kept
    from_note: int = 0  # made from this note of the collection (Browser → Generate)
    file_path: str = ""  # the file the source line links to (the file may be gone)
    page: int = 0


def origin_of(nc: NoteCard) -> Origin:
    tags = [t.lower() for t in nc.tags]
    by_addon = any(t == ADDON_TAG or t.startswith(ADDON_TAG + "::") for t in tags) or bool(nc.source_line)
    source_html = nc.source_line
    source_field = nc.shape.mapping.get("source")
    if source_field and nc.fields.get(source_field, "").strip():
        source_html = nc.fields[source_field]
    label = " ".join(plain_text(source_html).split())
    if label.lower().startswith("source:"):
        label = label[len("source:"):].strip()
    from_note = 0
    for t in nc.tags:
        if t.lower().startswith(FROM_NOTE_PREFIX):
            tail = t[len(FROM_NOTE_PREFIX):]
            if tail.isdigit():
                from_note = int(tail)
                break
    if not label:  # no source line or field: the source tag still names the document
        for t in nc.tags:
            if t.lower().startswith(SOURCE_TAG_PREFIX):
                label = t[len(SOURCE_TAG_PREFIX):].split("::")[0].strip()
                break
    path, page = "", 0
    m = _FILE_LINK.search(source_html)
    if m:
        path, page = file_of(html.unescape(m.group(1)))
    return Origin(by_addon, label[:300], from_note, path, page)


def file_of(url: str) -> Tuple[str, int]:
    """(local path, page) of a ``file:`` URL with an optional ``#page=N``."""
    from urllib.parse import unquote, urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "", 0
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return "", 0
    page = 0
    m = re.match(r"page=(\d{1,6})$", parts.fragment or "")
    if m:
        page = int(m.group(1))
    return unquote(parts.path), page

