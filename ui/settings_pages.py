"""What the settings dialog shows: its pages (tabs), their sections and a ``Row`` per key of
``Settings``, each key named once (ui/settings_form.py turns a row into its widget), and the
widgets of the keys that need their own (model, decks, note types, language, shortcut ...).

Every key has a row here except those in ``NO_CONTROL``, which say where they are set; a test
keeps it so. Defaults come from ``Settings`` (generator/config.py), never from here."""
from typing import Any, Dict, List, Sequence, Tuple

from aqt import mw
from aqt.qt import QKeySequence, QKeySequenceEdit, QLineEdit, QPlainTextEdit, QSpinBox

from ..generator.config import BackendKind, BulkMode, FigureMode, FlaggedInBulk, ResponseFormat, SelfReview
from .card_options import DEPTHS
from .common import KIND_LABELS, language_combo, language_value
from .figure_widgets import MODE_TIPS, MODE_TITLES
from .settings_form import ComboControl, Control, Page, Row, Section, TextControl, select

# Keys without a control, and where they are set (the "Other" page says so too).
NO_CONTROL: Dict[str, str] = {
    "field_mapping": "which field of your own note type gets what: set in the Generate dialog "
                     "when you choose a note type",
    "last_folder": "the folder of the last file you opened (the add-on keeps it up to date)",
}
NUM_CTX_MAX = 262144


# --- keys with widgets of their own ----------------------------------------------------------

class EditableCombo(ComboControl):
    """A list to choose from or type into (the model, the deck); the text is the value."""

    def __init__(self, row: Row, names: Sequence[str] = ()) -> None:
        super().__init__(row, [(n, n, "") for n in names], editable=True)

    def get(self) -> Any:
        return self.combo.currentText().strip()

    def set(self, value: Any) -> None:
        self.combo.setEditText(str(value))


class DeckControl(EditableCombo):
    def __init__(self, row: Row) -> None:
        names = sorted((d.name for d in mw.col.decks.all_names_and_ids()), key=str.lower)
        super().__init__(row, names)

    def get(self) -> Any:
        return super().get() or "Default"


class NoteTypeControl(ComboControl):
    def __init__(self, row: Row) -> None:
        names = sorted((m.name for m in mw.col.models.all_names_and_ids()), key=str.lower)
        super().__init__(row, [("", "Anki's own type for the card kind", "")]
                         + [(n, n, "") for n in names])


class LanguageControl(Control):
    def __init__(self, row: Row) -> None:
        self.combo = language_combo()
        super().__init__(row, self.combo)

    def get(self) -> Any:
        return language_value(self.combo)

    def set(self, value: Any) -> None:
        if not select(self.combo, str(value)):
            self.combo.setEditText(str(value))


class EmbedModelControl(ComboControl):
    """Off, the server's embedding models (``offer``, after Test connection), and the one set."""

    def __init__(self, row: Row) -> None:
        super().__init__(row)
        self.offer([], "")

    def offer(self, names: List[str], current: str) -> None:
        self.combo.clear()
        self.fill([("", "Off", "")] + [(n, n, "") for n in names])
        if current and self.combo.findData(current) < 0:
            self.combo.addItem(current, current)
        select(self.combo, current)

    def set(self, value: Any) -> None:
        self.offer([str(self.combo.itemData(i)) for i in range(1, self.combo.count())
                    if self.combo.itemData(i) != value], str(value))


class ContextControl(Control):
    """num_ctx: "auto" (shown for 0) or a number of tokens (512 and up)."""

    def __init__(self, row: Row) -> None:
        self.spin = QSpinBox()
        self.spin.setRange(0, NUM_CTX_MAX)
        self.spin.setSingleStep(1024)
        self.spin.setSuffix(" tokens")
        self.spin.setSpecialValueText("auto")
        super().__init__(row, self.spin)

    def get(self) -> Any:
        return max(512, self.spin.value()) if self.spin.value() else "auto"

    def set(self, value: Any) -> None:
        self.spin.setValue(value if isinstance(value, int) else 0)


class PasswordControl(TextControl):
    def __init__(self, row: Row) -> None:
        super().__init__(row)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)


class LongTextControl(Control):
    def __init__(self, row: Row) -> None:
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText(row.placeholder)
        self.edit.setMaximumHeight(80)
        super().__init__(row, self.edit)

    def get(self) -> Any:
        return self.edit.toPlainText().strip()

    def set(self, value: Any) -> None:
        self.edit.setPlainText(str(value))


class ShortcutControl(Control):
    def __init__(self, row: Row) -> None:
        self.edit = QKeySequenceEdit()
        super().__init__(row, self.edit)

    def get(self) -> Any:
        return self.edit.keySequence().toString()

    def set(self, value: Any) -> None:
        self.edit.setKeySequence(QKeySequence(str(value)))


def _titles(pairs: Any, tips: Dict[Any, str]) -> Tuple[Tuple[str, str, str], ...]:
    return tuple((value.value, title, tips.get(value, "")) for value, title in pairs)


# --- the pages -----------------------------------------------------------------------------------

SERVER = Page("Server", (
    Section("", (
        Row("backend", "Protocol", titles=_titles(
            [(BackendKind.OLLAMA, "Ollama"),
             (BackendKind.OPENAI, "OpenAI-compatible (LM Studio, llama.cpp, vLLM…)")], {})),
        Row("url", "Server URL"),
        Row("api_key", "API key", placeholder="only if the server needs one", make=PasswordControl),
        Row("response_format", "JSON form", tip="How an OpenAI-compatible server is asked for "
            "the cards' JSON Schema; auto switches to json_object if the server rejects json_schema",
            titles=_titles([(ResponseFormat.AUTO, "auto"), (ResponseFormat.JSON_SCHEMA, "json_schema"),
                            (ResponseFormat.JSON_OBJECT, "json_object + schema"),
                            (ResponseFormat.NONE, "none")], {})),
    )),
    Section("Requests", (
        Row("connect_timeout", "Connect timeout", suffix=" s", decimals=1, step=1,
            tip="How long to wait for the server to accept a connection"),
        Row("read_timeout", "Answer timeout", suffix=" s", step=10,
            tip="How long to wait for one answer of the model"),
        Row("parallel_requests", "Parallel requests", tip="Requests sent at once. More helps only "
            "if the server runs several in parallel (OLLAMA_NUM_PARALLEL)."),
    )),
))

MODEL = Page("Model", (
    Section("", (
        Row("model", "Default model", make=EditableCombo),
        Row("temperature", "Temperature", decimals=2, step=0.1,
            tip="Lower = more literal cards, higher = more varied"),
        Row("num_ctx", "Context size", make=ContextControl,
            tip="Context window per request (capped by the model's own); auto = the context the "
                "server loaded the model with"),
        Row("num_predict", "Answer length", suffix=" tokens", step=256,
            tip="The longest answer a request may get"),
        Row("seed", "Seed", zero="Random", tip="Any other number makes answers repeatable"),
        Row("keep_alive", "Keep model loaded", blank=True,
            tip="How long Ollama keeps the model loaded after a request (e.g. 10m, 1h, 0 to "
                "unload at once, -1 forever)"),
    )),
    Section("Figures", (
        Row("figures", "Figures", titles=_titles(MODE_TITLES, MODE_TIPS)),
        Row("max_images_per_request", "Images per request", tip="At most this many images in "
            "one request; each costs context (about 600 to 1,400 tokens), so the text beside it is "
            "shorter"),
    )),
))

CARDS = Page("Cards", (
    Section("", (
        Row("deck", "Default deck", make=DeckControl),
        Row("card_kind", "Card kind", titles=_titles(KIND_LABELS, {})),
        Row("note_type", "Note type", make=NoteTypeControl, tip="Use one of your note types "
            "instead; choose which field gets what in the Generate dialog"),
        Row("tags", "Tags", placeholder="space-separated"),
        Row("language", "Language", make=LanguageControl),
        Row("max_cards", "Number of cards", zero="Auto",
            tip="How many cards one generation makes in all; Auto = by the depth"),
        Row("depth", "Depth", titles=tuple((d.value, title, tip) for d, title, tip in DEPTHS),
            tip="How many cards the text gets when the number is automatic"),
        Row("prompt_additions", "Extra instructions", make=LongTextControl,
            placeholder="Extra instructions for the model, e.g. “Ask about definitions and dates.”"),
    )),
    Section("Checking the cards", (
        Row("self_review", "Rewrite pass", titles=_titles(
            [(SelfReview.FLAGGED, "Flagged cards"), (SelfReview.ALL, "Every card"),
             (SelfReview.OFF, "Off")],
            {SelfReview.FLAGGED: "One extra request per piece of text asks the model to rewrite or "
                                 "drop the cards the checks flagged",
             SelfReview.ALL: "The model may rewrite every card, but drops only flagged ones",
             SelfReview.OFF: "No extra request"}),
            tip="Send cards back to the model once to rewrite them; rewritten cards are checked again"),
        Row("uncheck_flagged", "Uncheck cards the checks flagged", tip="A yes/no question, the "
            "answer in the question, several facts, …: the reason shows on hover in the list"),
        Row("skip_duplicates", "Uncheck cards whose front is already in the collection"),
    )),
))

SIMILAR = Page("Similar cards", (
    Section("Duplicates by meaning", (
        Row("embed_model", "Embedding model", make=EmbedModelControl, tip="An embedding model on "
            "the server (e.g. all-minilm, nomic-embed-text) compares new cards with your notes by "
            "meaning. Test connection (Server) lists the server's embedding models."),
        Row("similarity_threshold", "Similar from", decimals=2, step=0.01,
            tip="How close in meaning counts as similar (0.86 measured with all-minilm); lower "
                "finds more rephrasings, and more notes that are only related"),
        Row("skip_similar", "Uncheck similar cards (bulk import: do not add them)"),
    )),
))

BULK = Page("Bulk", (
    Section("Bulk Generate from Files", (
        Row("bulk_mode", "Adding", titles=_titles(
            [(BulkMode.ADD, "Add cards as they come"), (BulkMode.REVIEW, "Review all cards before adding")],
            {})),
        Row("bulk_flagged", "Flagged cards", tip="What adding as they come does with a card the "
            "checks flagged", titles=_titles(
                [(FlaggedInBulk.TAG, "Add them, tagged ollama-flashcards::flagged"),
                 (FlaggedInBulk.SKIP, "Do not add them")], {})),
        Row("bulk_skip_known", "Skip sections already added"),
    )),
))

LIMITS = Page("Limits", (
    Section("Server answers", (
        Row("request_deadline", "Longest request", suffix=" s", step=60,
            tip="The most seconds one model request may take in all"),
        Row("max_answer_mb", "Largest answer", suffix=" MB", decimals=2, step=1,
            tip="Past it the request fails and is retried once; real answers are far smaller"),
        Row("max_answer_chars", "Longest answer text", suffix=" characters", step=100000),
        Row("busy_retries", "Retries when busy",
            tip="How often a request is sent again when the server says it is busy (HTTP 503 or 429)"),
        Row("busy_backoff", "First wait when busy", suffix=" s", decimals=1, step=0.5,
            tip="Before the first such retry, doubled for each next one"),
    )),
    Section("Reading files", (
        Row("source_max_mb", "Largest file", suffix=" MB"),
        Row("source_read_seconds", "Longest reading of a file", suffix=" s", step=60),
        Row("pdf_page_seconds", "Longest reading of a PDF page", suffix=" s"),
        Row("pdf_page_mb", "Largest PDF page", suffix=" MB",
            tip="Content of one PDF page, decompressed; a larger page is skipped and named"),
    )),
), note="Bounds that keep a damaged or hostile file, or a runaway server, from hanging a job or "
        "filling the memory; raise them only for a real document that needs it.")

OTHER = Page("Other", (
    Section("", (
        Row("shortcut", "Shortcut", make=ShortcutControl),
        Row("log_content", "Write prompts and answers to the add-on's log (to debug)"),
    )),
), note="Not here: " + "; ".join("<code>%s</code>, %s" % kv for kv in NO_CONTROL.items())
        + ". Advanced… shows every setting as JSON (config.md in the add-on's folder describes "
          "each key).")

PAGES = (SERVER, MODEL, CARDS, SIMILAR, BULK, LIMITS, OTHER)
