"""Running a generation job from the Generate dialog: start, progress, cards as they come,
the outcome and its errors (a mixin of ``GenerateDialog``). The job runs on a worker via
``common.run_long``."""
import threading
import time
from typing import Any, Callable, Dict, List, Tuple

from ..generator.cards import Card
from ..generator.errors import ModelNotFound, NotAModelServer, ServerUnreachable
from .common import (
    ensure_log,
    error_text,
    esc,
    get_config,
    is_alive,
    on_main,
    plural,
    run_long,
)

FROM_NOTE_TAG = "ollama-flashcards::from-note::%d"


class GenerateJob:
    """One generation job at a time: ``generate()`` starts it, ``cancel_job()`` stops it."""

    def generate(self) -> None:
        if self.busy:
            return
        from ..generator.backends import make_backend
        from ..generator.job import JobOptions, plan_chunks, prepare_job, run_job

        model = self.model()
        if not model:
            self.message.show_message("Choose a model first.", "warning")
            return
        try:
            documents = self.documents()
        except Exception as e:
            self.message.show_message(esc(error_text(e)), "warning")
            return
        self.remember()
        ensure_log()
        cfg = get_config()
        choices = self.choices()
        options = JobOptions.from_config(cfg, model=model, kind=self.kind(),
                                         language=choices["language"], max_cards=choices["max_cards"])
        note_refs = dict(self._note_refs)
        self._job_id += 1
        job_id = self._job_id
        self._cancel = cancel = threading.Event()
        self.busy = True
        self.job_started = time.monotonic()
        self.message.clear()
        self.progress_row.show()
        self.progress_bar.setRange(0, 0)
        self.progress_label.setText("Asking %s…" % model)
        self.cancel_btn.setEnabled(True)
        self._delivered: set = set()
        self._update_buttons()

        def on_progress(p: Any) -> None:
            on_main(lambda: self._on_progress(job_id, p))

        def on_chunk(chunk: Any, cards: List[Card]) -> None:
            for card in cards:
                nid = note_refs.get(chunk.document)
                if nid:
                    card.tags.append(FROM_NOTE_TAG % nid)
            on_main(lambda: self._on_chunk(job_id, chunk, cards))

        def op() -> Tuple[Any, Any, Dict[str, Any]]:
            backend = make_backend(cfg)
            try:
                opts = prepare_job(backend, options)
                chunks = plan_chunks(documents, opts)
                chunk_map = {c.id: c for c in chunks}
                on_main(lambda: self._on_planned(job_id, len(chunks)))
                result = run_job(chunks, backend, opts, on_progress=on_progress, cancel=cancel,
                                 on_chunk=on_chunk)
                return opts, result, chunk_map
            finally:
                backend.close()

        run_long(op, lambda r: self._on_job_done(job_id, r), lambda e: self._on_job_failed(job_id, e))

    def _on_planned(self, job_id: int, n: int) -> None:
        if job_id == self._job_id and is_alive(self) and self.busy:
            self.progress_bar.setRange(0, max(1, n))
            self.progress_bar.setValue(0)
            self.progress_label.setText("Chunk 1 of %d · 0 cards" % n if n else "Nothing to do")

    def _on_progress(self, job_id: int, p: Any) -> None:
        if job_id != self._job_id or not is_alive(self) or not self.busy:
            return
        if p.chunks_total:
            self.progress_bar.setRange(0, p.chunks_total)
            self.progress_bar.setValue(p.chunks_done)
        current = min(p.chunks_done + 1, p.chunks_total) if p.chunks_total else p.chunks_done + 1
        parts = ["Chunk %d of %d" % (current, p.chunks_total) if p.chunks_total
                 else "Chunk %d" % current, plural(p.cards, "card")]
        if p.tokens_per_s:
            parts.append("%.0f tokens/s" % p.tokens_per_s)
        if p.failed:
            parts.append("%d failed" % p.failed)
        if self._cancel is not None and self._cancel.is_set():
            parts.insert(0, "Stopping…")
        self.progress_label.setText(" · ".join(parts))
        self.progress_label.setToolTip(p.label or "")

    def _on_chunk(self, job_id: int, chunk: Any, cards: List[Card]) -> None:
        if not is_alive(self):
            return
        self._chunks[chunk.id] = chunk
        fresh = [c for c in cards if id(c) not in self._delivered]
        self._delivered.update(id(c) for c in fresh)
        self.table.add_cards(fresh)
        self._update_buttons()

    def _on_job_done(self, job_id: int, outcome: Tuple[Any, Any, Dict[str, Any]]) -> None:
        if not is_alive(self):
            return
        opts, result, chunk_map = outcome
        self._job_options = opts
        self._chunks.update(chunk_map)
        self.last_result = result
        missing = [c for c in result.cards if id(c) not in self._delivered]
        if missing:
            self.table.add_cards(missing)
        self._finish_job()
        n = len(result.cards)
        if result.fatal is not None:
            self._show_engine_error(result.fatal, kept=n)
        elif result.cancelled:
            self.message.show_message("Cancelled. Kept the %s made so far." % plural(n, "card"), "info")
        elif result.failures:
            first = result.failures[0]
            self.message.show_message(
                "%s of %s failed: %s%s" % (
                    plural(len(result.failures), "part"), result.chunks_total or len(chunk_map),
                    esc(first.message), "" if not n else " The other parts gave %s." % plural(n, "card")),
                "warning", [("Retry", self.generate)])
        elif n == 0:
            self.message.show_message("The model made no cards from this text. Try a longer text, "
                                      "another model, or a different number of cards.", "warning")
        else:
            self.message.show_message(
                "Made %s in %.0f s. Check them, then add them." % (plural(n, "card"),
                                                                    time.monotonic() - self.job_started),
                "success")
        if n:
            self.check_duplicates()

    def _on_job_failed(self, job_id: int, err: Exception) -> None:
        if not is_alive(self):
            return
        self._finish_job()
        self._show_engine_error(err, kept=0)

    def _finish_job(self) -> None:
        self.busy = False
        self._cancel = None
        self.progress_row.hide()
        self._update_buttons()

    def _show_engine_error(self, err: BaseException, kept: int) -> None:
        text = esc(error_text(err))
        if kept:
            text += "<br>Kept the %s made before that." % plural(kept, "card")
        actions: List[Tuple[str, Callable[[], None]]] = []
        if isinstance(err, ModelNotFound):
            model = getattr(err, "model", "") or self.model()
            actions.append(("Pull %s" % model, lambda: self.pull_model(model)))
        elif isinstance(err, (ServerUnreachable, NotAModelServer)):
            self._on_server_error(err)

            def retry() -> None:
                self.refresh_models()
                self.generate()

            actions.append(("Retry", retry))
            actions.append(("Settings…", self.open_settings))
        else:
            actions.append(("Retry", self.generate))
        self.message.show_message(text, "error", actions)

    def cancel_job(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.cancel_btn.setEnabled(False)
            self.progress_label.setText("Stopping… (the cards made so far stay)")
