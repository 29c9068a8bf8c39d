"""Entry points the menus and hooks call (imported only when one of them fires)."""
import html
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import aqt
from anki.collection import Collection
from anki.notes import NoteId
from aqt import mw
from aqt.qt import QWidget
from aqt.utils import tooltip

from ..generator.sources.document import Document
from .common import ensure_log, error_text, plural, register_dialog
from .generate import DIALOG_NAME, GenerateDialog

BULK_MISSING = "Bulk generation is not available in this version of the add-on."


def open_generate(**source: Any) -> GenerateDialog:
    """Open the Generate dialog (or bring the open one forward, with the new source if any)."""
    def create(parent: Any, **src: Any) -> GenerateDialog:
        dialog = GenerateDialog(parent, open_bulk=open_bulk, open_settings=_settings_from, **src)
        dialog.show()
        return dialog

    register_dialog(DIALOG_NAME, create)
    return aqt.dialogs.open(DIALOG_NAME, mw, **source)


def open_bulk(parent: Any = None) -> Any:
    """Open the Bulk dialog (or bring the open one forward)."""
    import importlib

    ensure_log()
    name = __name__.rsplit(".", 1)[0] + ".bulk"
    try:
        bulk = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name == name:  # a build without it: say so, do not crash
            tooltip(BULK_MISSING, parent=parent or mw)
            return None
        raise

    def create(parent: Any) -> Any:
        dialog = bulk.BulkDialog(parent, open_settings=_settings_from)
        dialog.show()
        return dialog

    register_dialog(bulk.DIALOG_NAME, create)
    return aqt.dialogs.open(bulk.DIALOG_NAME, mw)


def open_settings(parent: Optional[QWidget] = None, on_saved: Optional[Callable[[], None]] = None) -> Any:
    from .settings import SettingsDialog

    dialog = SettingsDialog(parent or mw.app.activeWindow() or mw, on_saved=on_saved)
    dialog.show()
    return dialog


def _settings_from(parent: QWidget, on_saved: Callable[[], None]) -> Any:
    return open_settings(parent, on_saved)


# --- editor --------------------------------------------------------------------------------

def kind_for_notetype(nt: Dict[str, Any]) -> Tuple[str, str]:
    """(card kind, note type name): Anki's stock Basic / Basic and reversed / Cloze become a kind
    (found by kind, not by their translated names); any other type is used by name."""
    stock = nt.get("originalStockKind") or 0
    if stock == 1:
        return "basic", ""
    if stock == 2:
        return "reversed", ""
    if stock == 5:
        return "cloze", ""
    return ("cloze" if nt.get("type") == 1 else "basic"), nt.get("name", "")


def editor_deck_id(editor: Any) -> Optional[int]:
    """The deck the editor's note goes to (Add window) or is in (Browser, Edit)."""
    chooser = getattr(getattr(editor, "parentWindow", None), "deck_chooser", None)
    if chooser is not None:
        try:
            return int(chooser.selected_deck_id)
        except Exception:
            pass
    card = getattr(editor, "card", None)
    if card is not None:
        return int(card.odid or card.did)
    note = getattr(editor, "note", None)
    if note is not None and note.id:
        cards = note.cards()
        if cards:
            return int(cards[0].odid or cards[0].did)
    return None


def open_from_editor(editor: Any, text: str) -> None:
    """Open the dialog on the selected text; deck and card kind default to the editor note's."""
    note = getattr(editor, "note", None)
    if note is not None:  # the legacy editor
        _open_for_selection(text, note.note_type() or {}, editor_deck_id(editor))
        return

    def got(info: Any) -> None:  # the new editor: ask its page for the note
        nt = mw.col.models.get(info.mid) if info.mid else None
        deck_id = editor_deck_id(editor)
        if deck_id is None and info.id:
            cards = mw.col.get_note(info.id).cards()
            deck_id = int(cards[0].odid or cards[0].did) if cards else None
        _open_for_selection(text, nt or {}, deck_id)

    editor.get_note_info(got)


def _open_for_selection(text: str, notetype: Dict[str, Any], deck_id: Optional[int]) -> None:
    kind, name = kind_for_notetype(notetype)
    open_generate(text=text, source_name="selection", label="Selection from the editor",
                  deck_id=deck_id, kind=kind, notetype=name)


# --- browser -------------------------------------------------------------------------------

def note_documents(col: Collection, nids: Sequence[NoteId]) -> Tuple[List[Document], Dict[str, NoteId], Optional[int]]:
    """The notes' fields as documents (HTML to text, with the figures of the fields from the
    collection's media), the document name -> note id map, and the deck of the first note's
    first card. Runs in the background (reads the collection)."""
    from ..generator.errors import SourceError
    from ..generator.sources.read import read_html
    from ..generator.sources.figures import figures_from_html

    docs: List[Document] = []
    refs: Dict[str, NoteId] = {}
    deck_id: Optional[int] = None
    for nid in nids:
        note = col.get_note(nid)
        if deck_id is None:
            cards = note.cards()
            if cards:
                deck_id = int(cards[0].odid or cards[0].did)
        fields = [f for f in note.fields if f.strip()]
        if not fields:
            continue
        name = _unique(_short(fields[0]) or "note %d" % nid, refs)
        body = "".join("<p>%s</p>" % f for f in fields)
        figures = figures_from_html(body, col.media.dir(), name)
        try:
            doc = read_html(body, name)
        except SourceError:
            if figures is None or not figures.figures:
                continue  # an empty note, or one whose media are not images: nothing to learn from
            doc = Document(name, [])  # figures only
        doc.figures = figures
        docs.append(doc)
        refs[doc.name] = nid
    return docs, refs, deck_id


def _unique(name: str, taken: Dict[str, NoteId]) -> str:
    """``name``, or "name (2)", "name (3)" ... when another note already has it."""
    out, n = name, 1
    while out in taken:
        n += 1
        out = "%s (%d)" % (name, n)
    return out


def _short(field_html: str, n: int = 40) -> str:
    from ..generator.outside import shorten
    from .common import html_to_plain

    return shorten(" ".join(html_to_plain(field_html).split()), n)


def open_from_notes(browser: Any, nids: Sequence[NoteId]) -> None:
    from aqt.operations import QueryOp

    nids = list(nids)

    def done(result: Tuple[List[Document], Dict[str, NoteId], Optional[int]]) -> None:
        docs, refs, deck_id = result
        if not docs:
            tooltip("The selected notes have no text to make cards from.", parent=browser)
            return
        open_generate(documents=docs, note_refs=refs, deck_id=deck_id,
                      label="%s from the Browser" % plural(len(docs), "note"))

    def failed(err: Exception) -> None:
        tooltip(html.escape(error_text(err)), parent=browser)

    QueryOp(parent=browser, op=lambda col: note_documents(col, nids), success=done) \
        .failure(failed).with_progress("Reading %s…" % plural(len(nids), "note")).run_in_background()
