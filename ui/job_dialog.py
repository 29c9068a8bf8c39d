"""``JobDialog``: what the Generate and the Bulk dialogs share, built on ``ModelWindow`` (its
name, saved-size key, first size and Stop tip come from the dialog's ``SPEC``).

The parts both compose: a splitter over the progress row, the message bar and the buttons
(``lay_out_bottom``), the ``ModelPicker`` (``models``), the figures choice (``figures``, checked
against the model and the source a moment after either changed: ``figure_sets``), the topic
step (``topics``), and the job's runner (``runner``: ``busy``, ``cancel_job``). ``connect_parts``
wires them to the dialog's hooks (``find_topics``, ``update_buttons``, ``topics_ended``,
``topics_failed``). ``idle`` says nothing runs in the background (tests wait for it).

How they close (``AnkiWindow``, and what differs): a close asks first (``may_close``), may finish
later once a job has stopped (``close_later``, ``finish_closing``: ``DialogSpec.close_when_stopped``),
and cleans up exactly once, remembering the choices (``remember``). Subclasses set their ``SPEC``
and override the hooks."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

from aqt.qt import QResizeEvent, QWidget

from ..generator.config import Settings
from .anki_window import ModelWindow, OpenSettings
from .common import add_splitter, fit_splitter, get_settings, is_alive
from .figure_widgets import FigureChoice, after
from .highlight_choice import HighlightPicker
from .job_runner import JobRunner
from .topic_step import TopicStep

if TYPE_CHECKING:
    from ..generator.images.figure import FigureSet

__all__ = ["DialogSpec", "JobDialog", "OpenSettings"]


@dataclass(frozen=True)
class DialogSpec:
    """What tells the job dialogs apart."""

    name: str  # the object name, and the name aqt.dialogs knows the dialog by
    geometry: str  # the key its size is saved under
    size: Tuple[int, int]  # its first size
    stack_below: int  # a narrower window stacks the splitter's sides
    stop_tip: str  # the Stop button's tip
    stopping: str  # the progress line once Stop was pressed
    of_files: bool = False  # the topic step reads files (Bulk), not one source
    close_when_stopped: bool = False  # a job stops within a second: close once it has (Bulk)


class JobDialog(ModelWindow):
    SPEC = DialogSpec("", "", (1000, 680), 800, "", "Stopping…")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.NAME, cls.GEOMETRY, cls.SIZE, cls.STOP_TIP = (cls.SPEC.name, cls.SPEC.geometry, cls.SPEC.size,
                                                          cls.SPEC.stop_tip)

    def __init__(self, parent: Optional[QWidget], open_settings: OpenSettings, settings: Settings,
                 model_messages: bool = True) -> None:
        super().__init__(parent, "", open_settings, settings.model, model_messages)
        self.closing = False  # closed while a job ran: it finishes closing once the job stopped
        self.close_callbacks: List[Callable[[], Any]] = []  # Anki's, when it closes the profile
        self.runner: Optional[JobRunner] = None  # the job running now
        self.pending = 0  # other background calls still running (adding, checks, offers ...)
        self.splitter = add_splitter(self, self.outer)
        self.topics = TopicStep(self.progress, self.message, self.SPEC.of_files)
        self.figures = FigureChoice(settings)
        self.figure_check = after(self, 400, self.check_figures)
        self.highlight_choice = HighlightPicker()  # only, first or ignore what the reader highlighted

    def connect_parts(self, source_changed: Any) -> None:
        """The shared parts to the dialog's hooks; ``source_changed`` is the signal of the
        source (Generate) or the file list (Bulk)."""
        self.topics.find_requested.connect(self.find_topics)
        self.topics.changed.connect(self.update_buttons)
        self.topics.ended.connect(self.topics_ended)
        self.topics.failed.connect(self.topics_failed)
        source_changed.connect(self.topics.source_changed)
        self.models.changed.connect(self.update_buttons)
        self.progress.cancel_requested.connect(self.cancel_job)
        for signal in (self.models.changed, source_changed, self.figures.changed):
            signal.connect(self.figure_check.start)

    # --- the job ------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A job (or the topic step) is running."""
        return self.runner is not None or self.topics.running

    def idle(self) -> bool:
        """Nothing running in the background for this dialog (tests wait for this)."""
        return (not self.busy and self.pending == 0 and not self.models.busy()
                and not self.figures.checking and not self.highlight_choice.checking)

    def cancel_job(self) -> None:
        if self.runner is not None and not self.runner.cancelled:
            self.runner.cancel()
            self.progress.stopping(self.SPEC.stopping)
        self.topics.cancel()

    def check_figures(self) -> None:
        """Whether the chosen model will see the source's figures (in the background)."""
        sets = self.figure_sets() if is_alive(self) else None
        if sets is not None:
            self.figures.check(get_settings(), self.models.model(), sets)

    # --- hooks --------------------------------------------------------------------------------
    def figure_sets(self) -> Optional[List[Tuple[str, FigureSet]]]:
        """The source's figures by document (None: not now, e.g. while it is read)."""
        return []

    def find_topics(self) -> None:
        """"Find topics" was pressed: check what is needed, then ``topics.ask``."""

    def update_buttons(self, *_args: Any) -> None:
        """What can be done now."""

    def topics_ended(self) -> None:
        self.update_buttons()
        self.finish_closing()

    def topics_failed(self, err: BaseException) -> None:
        """The topic step could not run (no server, no model ...)."""

    def may_close(self) -> bool:
        """Ask before closing (a running job, cards not added); False keeps the dialog open."""
        return True

    # --- closing ------------------------------------------------------------------------------
    def stop_background(self) -> None:
        """Stop what runs in the background for this dialog (at clean-up)."""
        self.models.cancel_pull()
        if self.runner is not None:
            self.runner.cancel()
        self.topics.cancel()

    def resizeEvent(self, event: Optional[QResizeEvent]) -> None:
        fit_splitter(self.splitter, self.width(), self.SPEC.stack_below)
        super().resizeEvent(event)

    def close_now(self) -> bool:
        return self.may_close() and not self.close_later()

    def close_later(self) -> bool:
        """A job that stops within a second is stopped, the dialog hidden, and closed when the
        job has stopped (``finish_closing``): True, the close is ignored for now."""
        if self.SPEC.close_when_stopped and self.busy:
            self.closing = True
            self.hide()
            return True
        return False

    def closeWithCallback(self, callback: Callable[[], Any]) -> None:
        """Anki closes the profile (aqt.dialogs): a job that stops within a second is stopped
        without asking (it can be resumed), else the dialog asks first."""
        if self.SPEC.close_when_stopped and self.busy:
            self.closing = True
            self.close_callbacks.append(callback)
            self.cancel_job()
            self.hide()
            return
        if not self.SPEC.close_when_stopped and not self.may_close():
            return
        super().closeWithCallback(callback)

    def finish_closing(self) -> None:
        """The job has stopped: a dialog closed meanwhile finishes closing, and Anki hears so."""
        callbacks, self.close_callbacks = self.close_callbacks, []
        if self.closing:
            self.cleanup()
        for cb in callbacks:
            cb()
