"""A generation job: chunks in, validated cards out, with parallel requests, progress, retry
and cancellation. Results come back in document order."""
import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from .. import log
from ..backends.base import Backend, ChatRequest, ChatResult
from ..backends.server_facts import ThinkSetting
from ..cards.card import Card
from .ask import AskFor, ChunkAsk, with_topic
from .chunking import chunk_document, estimate_tokens
from .chunk import Chunk
from ..config import CardKind, Depth, SelfReview, Settings, as_settings
from .context_size import MAX_CHUNK_TOKENS, job_context, parse_num_ctx
from .depth import answer_room_cards, ceiling, text_budget
from ..sources.document import Document
from ..errors import (
    AnswerError,
    AuthFailed,
    BackendError,
    Cancelled,
    ContextExceeded,
    FlashcardError,
    InvalidAnswer,
    ModelNotFound,
    NotAModelServer,
    ServerUnreachable,
    TruncatedAnswer,
)
from .prompts import retry_prompt, system_prompt, user_prompt
from .rewrite import ReviewStats, review_chunk
from .schema import answer_schema
from .stream import CardStream, with_checks
from .images import (
    content_tokens,
    figure_finish,
    picture_cards,
    prepare_images,
    user_text,
    with_images,
)

MAX_CARDS_PER_ANSWER = 300  # a bound on untrusted input, not a count: extra good cards are kept
REORDER_WINDOW = 16  # finished chunks that may wait for an earlier, slower one
MAX_SPLITS = 3  # a chunk too long for the server is halved at most this often


@dataclass
class JobOptions:
    model: str
    kind: str = "basic"
    language: str = ""
    max_cards: int = 0  # for the whole job; 0 = automatic from the text's length
    prompt_additions: str = ""
    temperature: float = 0.2
    num_ctx: int = 4096  # the context chunks are planned with (sent unless num_ctx_auto)
    num_predict: int = 2048
    seed: int = 0
    keep_alive: str = "10m"
    parallel: int = 1
    think: Optional[ThinkSetting] = None  # set by prepare_job for models that think
    focus: str = ""  # the user's free-text focus for this job, sent with every request
    num_ctx_auto: bool = False  # "auto": the context the server loaded the model with, not sent
    depth: Depth = Depth.EVERY_FACT  # how many cards when max_cards is 0 (generator/depth.py)
    self_review: SelfReview = SelfReview.FLAGGED  # the rewrite pass (generator/review_pass.py)
    figures: str = "auto"  # config.FigureMode: auto | off | slides
    max_images: int = 4  # pictures per request at most
    vision: Optional[bool] = None  # set by prepare_job: the model can see (None: the server does not say)

    @classmethod
    def from_config(cls, cfg: Union[Settings, Mapping[str, Any]], **overrides: Any) -> "JobOptions":
        """The job's options from the settings; ``overrides`` that are not None win."""
        s = as_settings(cfg)
        num_ctx, auto = parse_num_ctx(s.num_ctx)
        opts = cls(
            model=s.model,
            kind=CardKind.parse(overrides.pop("kind", None) or s.card_kind),
            language=s.language,
            max_cards=s.max_cards,
            prompt_additions=s.prompt_additions,
            temperature=s.temperature,
            num_ctx=num_ctx,
            num_ctx_auto=auto,
            num_predict=s.num_predict,
            seed=s.seed,
            keep_alive=s.keep_alive,
            parallel=s.parallel_requests,
            depth=s.depth,
            self_review=s.self_review,
            figures=s.figures.value,
            max_images=s.max_images_per_request,
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(opts, **clean)


@dataclass
class Progress:
    chunks_done: int
    chunks_total: int  # 0 while unknown (streamed input)
    cards: int
    tokens: int
    tokens_per_s: float
    failed: int
    label: str = ""  # heading path of the chunk that just finished
    review_tokens: int = 0  # answer tokens of the rewrite pass (not in ``tokens``)


@dataclass
class ChunkFailure:
    chunk: Chunk
    error: FlashcardError

    @property
    def message(self) -> str:
        return self.error.user_text()


class WarningKind(Enum):
    ANSWER_CUT = "answer_cut"  # the answer broke off: only its complete cards were kept
    FIELD_CUT = "field_cut"  # a card's field was longer than a card may be, and was cut


@dataclass
class ChunkWarning:
    """Something the user should know about a chunk that did give cards (said by the CLI, the
    dialogs' message bar and the bulk report)."""

    chunk: Chunk
    kind: WarningKind
    message: str


@dataclass
class JobResult:
    cards: List[Card] = field(default_factory=list)
    failures: List[ChunkFailure] = field(default_factory=list)
    cancelled: bool = False
    chunks_done: int = 0
    chunks_total: int = 0
    fatal: Optional[FlashcardError] = None  # an error that stopped the whole job (server gone ...)
    cut: List[ChunkFailure] = field(default_factory=list)  # answers that broke off: cards kept, and why
    warnings: List[ChunkWarning] = field(default_factory=list)  # cut answers and cut fields, to show
    tokens: int = 0  # answer tokens of the generation
    review: ReviewStats = field(default_factory=ReviewStats)  # the rewrite pass (its tokens apart)

    @property
    def flagged(self) -> int:
        """Cards the checks flagged (generator/checks.py), after the rewrite pass."""
        from ..cards.checks import is_flagged

        return sum(1 for c in self.cards if is_flagged(c))


def prepare_job(backend: Backend, options: JobOptions) -> JobOptions:
    """Ask the server about the model once: fails early if it is missing, takes the server's
    spelling of its name, settles the context (``context_size.job_context``: "auto" loads the
    model and reads its context; a number is capped to the model's), and keeps models that
    think from thinking at length (``false``, or the lowest level for those that always think;
    their answer would go to the 'thinking' field)."""
    info = backend.model_info(options.model)
    num_ctx, auto = job_context(backend, info, options.num_ctx, options.num_ctx_auto,
                                options.keep_alive)
    think = info.think_setting() if info.thinks else options.think
    vision = ("vision" in info.capabilities) if info.capabilities else None
    return replace(options, model=info.name or options.model, num_ctx=num_ctx,
                   num_ctx_auto=auto, think=think, vision=vision)


def fixed_prompt_tokens(options: JobOptions) -> int:
    return estimate_tokens(system_prompt(options.kind, options.prompt_additions, options.focus)) + 60


def chunk_budget(options: JobOptions) -> int:
    """Tokens of source text per request: the context less the fixed prompt and the answer."""
    answer = min(options.num_predict, options.num_ctx // 2)
    room = options.num_ctx - fixed_prompt_tokens(options) - answer - 64
    if options.max_cards <= 0:  # pieces small enough that the depth's cards fit in one answer
        room = min(room, text_budget(options.depth, answer_room_cards(options.num_predict, options.num_ctx)))
    return max(200, min(MAX_CHUNK_TOKENS, room))


def plan_chunks(documents: Iterable[Document], options: JobOptions) -> List[Chunk]:
    budget = chunk_budget(options)
    chunks: List[Chunk] = []
    for doc in documents:
        chunks.extend(chunk_document(doc, budget))
    return chunks


def cards_for_chunk(chunk: Chunk, options: JobOptions, total_tokens: int) -> int:
    """How many cards to ask of one chunk: its share of the job's limit, or the depth's ceiling
    for its content (generator/depth.py)."""
    tokens = content_tokens(chunk)
    if options.max_cards > 0:
        share = options.max_cards * tokens / max(1, total_tokens) if total_tokens else options.max_cards
        wanted = max(1, math.ceil(share))
        return min(wanted, options.max_cards)
    room = answer_room_cards(options.num_predict, options.num_ctx)
    return min(room, ceiling(chunk.text, options.depth, room) + picture_cards(chunk))


class _Counter:
    """Answer tokens counted across the worker threads, for the tokens/s figure."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tokens = 0
        self.review_tokens = 0  # the rewrite pass's, apart
        self.started = time.monotonic()

    def add_tokens(self, n: int) -> None:
        with self.lock:
            self.tokens += n

    def add_review_tokens(self, n: int) -> None:
        with self.lock:
            self.review_tokens += n

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.tokens + self.review_tokens) / elapsed if elapsed > 0 else 0.0


def generate_for_chunk(
    chunk: Chunk,
    backend: Backend,
    options: JobOptions,
    wanted: int,
    cancel: Optional[threading.Event] = None,
    on_tokens: Optional[Callable[[int], None]] = None,
    on_card: Optional[Callable[[Card], None]] = None,
    ask: Optional[ChunkAsk] = None,
    on_cut: Optional[Callable[[FlashcardError], None]] = None,
) -> List[Card]:
    """One chunk's cards. A broken, truncated or schema-less answer is retried once with the
    problem stated; a passing server failure is retried once too.

    ``on_card`` gets each card as soon as its object in the streamed answer closes (on this
    thread); the list returned is authoritative (see ``stream_cards``). An answer that broke off
    keeps the cards that closed before the break, and ``on_cut`` is told. ``ask``: what this
    chunk's request asks beyond the job's settings (topics)."""
    ask = ask or ChunkAsk()
    images = prepare_images(chunk) if chunk.images else []

    def prompt(n: int) -> str:
        return user_text(user_prompt(chunk, n, options.language, auto_depth(options)), chunk, images) + (
            "\n" + ask.instructions if ask.instructions else "")

    schema = answer_schema(options.kind)
    request = ChatRequest(
        model=options.model,
        system=system_prompt(options.kind, options.prompt_additions, options.focus),
        user=prompt(wanted),
        schema=with_topic(schema, ask.topics) if ask.topics else schema,
        temperature=options.temperature,
        num_ctx=0 if options.num_ctx_auto else options.num_ctx,  # 0: the loaded context stays
        num_predict=options.num_predict,
        seed=options.seed,
        keep_alive=options.keep_alive,
        think=options.think,
    )
    request = with_images(request, chunk, images)
    finish = with_checks(figure_finish(ask.assign, chunk, images), options.language, chunk.text)
    last: Optional[FlashcardError] = None
    for attempt in range(2):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        log.content(f"prompt for chunk {chunk.id}", request.user)
        # Only the user's own limit cuts the answer: extra good cards are kept.
        limit = wanted if options.max_cards > 0 else MAX_CARDS_PER_ANSWER
        stream = CardStream(chunk, options.kind, limit, on_card, finish,
                            with_topic=bool(ask.topics), allow_empty=ask.allow_empty)
        try:
            result = backend.chat(request, cancel=cancel, on_text=stream.feed)
        except BackendError as e:
            log.event("chunk %s attempt %d: %s", chunk.id, attempt + 1, type(e).__name__)
            if stream.cards:  # shown already: keep them rather than ask again
                if on_cut is not None:
                    on_cut(cut_error(len(stream.cards), e.message, "Try again for the rest."))
                return list(stream.cards)
            if not e.retryable or attempt == 1:
                raise
            last = e
            continue
        log.event("chunk %s attempt %d: %d tokens in %.2f s, done_reason=%s", chunk.id, attempt + 1,
                  result.answer_tokens, result.seconds, result.done_reason)
        log.content(f"answer for chunk {chunk.id}", result.content or result.thinking)
        if on_tokens is not None:
            on_tokens(result.answer_tokens)
        try:
            cards = stream.settle(answer_text(result))
            if stream.cut and on_cut is not None:
                on_cut(cut_error(len(cards), *cut_reason(result, request.num_predict)))
            return cards
        except AnswerError as e:
            log.event("chunk %s attempt %d: unusable answer: %s", chunk.id, attempt + 1, e.message)
            last = e
            problem = e.message
        if result.done_reason == "length":
            last = TruncatedAnswer(
                "The model's answer was cut off at the token limit "
                f"(num_predict = {request.num_predict}).",
                "Raise 'num_predict' in the settings, or ask for fewer cards.",
            )
            # Ask for fewer cards with more room; num_predict may change without a model reload.
            wanted = max(1, wanted // 2)
            request = replace(request, user=prompt(wanted),
                              num_predict=min(request.num_predict * 2, max(request.num_predict, options.num_ctx // 2)))
        else:
            request = replace(request, extra_messages=[
                {"role": "assistant", "content": result.content[:2000]},
                {"role": "user", "content": retry_prompt(problem)},
            ])
    assert last is not None
    raise last


def chunk_warnings(chunk: Chunk, cards: Sequence[Card], cut: Optional[FlashcardError]) -> List[ChunkWarning]:
    """The warnings of a finished chunk: its answer broke off (``cut``), its cards' fields were cut."""
    from ..cards.fields import card_label

    found = [ChunkWarning(chunk, WarningKind.ANSWER_CUT, cut.user_text())] if cut is not None else []
    found += [ChunkWarning(chunk, WarningKind.FIELD_CUT, "Card “%s”: %s" % (card_label(card), note))
              for card in cards for note in card.warnings]
    return found


def base_request(options: JobOptions) -> ChatRequest:
    """A request with the job's model and options, for requests other than the chunk's own."""
    return ChatRequest(model=options.model, system="", user="", schema={}, temperature=options.temperature,
                       num_ctx=0 if options.num_ctx_auto else options.num_ctx, num_predict=options.num_predict,
                       seed=options.seed, keep_alive=options.keep_alive, think=options.think)


def auto_depth(options: JobOptions) -> Optional[Depth]:
    """The depth the prompt asks by, or None when the user set the number of cards."""
    return None if options.max_cards > 0 else options.depth


def answer_text(result: ChatResult) -> str:
    """The answer's text; a thinking model that ignored think=false may leave it in 'thinking'."""
    if result.content.strip():
        return result.content
    if result.thinking.strip():
        return result.thinking
    if result.done_reason == "length":
        raise TruncatedAnswer("The model's answer was cut off before it wrote anything.")
    raise InvalidAnswer("The model gave an empty answer.")


def cut_error(kept: int, why: str, hint: str) -> TruncatedAnswer:
    return TruncatedAnswer(f"The model's answer broke off ({why}); the {kept} card"
                           f"{'s' if kept != 1 else ''} written before the break were kept.", hint)


def cut_reason(result: ChatResult, num_predict: int) -> Tuple[str, str]:
    if result.done_reason == "length":
        return (f"cut at the token limit, num_predict = {num_predict}",
                "Raise 'num_predict' in the settings, or ask for fewer cards.")
    return "its JSON is broken", "Try again for the rest, or choose a model that follows the format."


# Errors after which asking about the next chunk is pointless.
FATAL = (ServerUnreachable, NotAModelServer, ModelNotFound, AuthFailed)


def is_fatal(err: FlashcardError) -> bool:
    return isinstance(err, FATAL)


def run_job(
    chunks: Iterable[Chunk],
    backend: Backend,
    options: JobOptions,
    on_progress: Optional[Callable[[Progress], None]] = None,
    cancel: Optional[threading.Event] = None,
    on_chunk: Optional[Callable[[Chunk, List[Card]], None]] = None,
    total_tokens: int = 0,
    on_failure: Optional[Callable[[Chunk, FlashcardError], None]] = None,
    on_card: Optional[Callable[[Chunk, Card], None]] = None,
    asks: Optional[AskFor] = None,
    on_warning: Optional[Callable[[ChunkWarning], None]] = None,
    on_answer: Optional[Callable[[Chunk, List[Card]], None]] = None,
) -> JobResult:
    """Generate cards for every chunk, up to ``options.parallel`` requests at once.

    ``on_chunk`` is called in document order, on this thread, as each chunk is finished: a
    journal or a UI can keep what is done even if the job is cancelled or dies later.
    ``total_tokens`` spreads a ``max_cards`` limit over the chunks (computed here when
    ``chunks`` is a sequence). Setting ``cancel`` returns within ~50 ms with what is done.
    ``on_failure`` is called like ``on_chunk`` (same order, same thread) for a chunk that failed.
    ``on_card`` is called on a worker thread with each card as soon as it is written, before its
    chunk ends (in any order across chunks); ``on_chunk``'s list is authoritative (see
    ``stream_cards.reconcile``). ``asks`` says per chunk what to ask (topics); a chunk it skips
    is done with no cards. Answers that broke off keep their complete cards: ``JobResult.cut``.
    ``on_warning`` is called (before ``on_chunk``) for what a chunk that gave cards should tell
    the user: its answer broke off, a field was cut (``JobResult.warnings``). ``on_answer`` is
    called on the worker the moment a chunk's cards are ready (any order, before ``max_cards``
    cuts them), before that worker asks for another chunk: a journal that keeps them there
    loses, in a crash, only the requests in flight (at most ``parallel``), never answers waiting
    behind a slower chunk. What it raises, ``run_job`` raises."""
    user_cancel = cancel or threading.Event()
    stop = threading.Event()  # tells workers to give up: user cancel, a fatal error, or the limit
    if isinstance(chunks, Sequence):
        total = len(chunks)
        total_tokens = total_tokens or sum(content_tokens(c) for c in chunks)
    else:
        total = 0
    result = JobResult(chunks_total=total)
    counter = _Counter()
    limit = options.max_cards if options.max_cards > 0 else None
    parallel = max(1, options.parallel)
    source: Iterator[Chunk] = iter(chunks)
    pending: Dict[int, "Future[List[Card]]"] = {}
    finished: Dict[int, Any] = {}
    order: Dict[int, Chunk] = {}
    submitted = emitted = 0
    exhausted = False

    def report(label: str) -> None:
        if on_progress is not None:
            on_progress(Progress(result.chunks_done, result.chunks_total, len(result.cards),
                                 counter.tokens, counter.rate(), len(result.failures), label,
                                 counter.review_tokens))

    cuts: Dict[str, FlashcardError] = {}
    shown = [0]  # cards handed to on_card so far
    shown_lock = threading.Lock()

    def show(chunk: Chunk, card: Card) -> None:
        # No more early cards than the job's limit lets through (the final lists are cut to it).
        with shown_lock:
            if limit is not None and shown[0] >= limit:
                return
            shown[0] += 1
        assert on_card is not None
        on_card(chunk, card)

    def work(chunk: Chunk, depth: int = 0) -> List[Card]:
        wanted = cards_for_chunk(chunk, options, total_tokens)
        ask = asks(chunk, wanted) if asks is not None else None
        if ask is not None and ask.skip:
            return []
        wanted = ask.wanted if ask is not None and ask.wanted > 0 else wanted
        card_cb = None if on_card is None else (lambda card: show(chunk, card))
        try:
            cards = generate_for_chunk(chunk, backend, options, wanted, stop, counter.add_tokens,
                                       card_cb, ask, lambda e: cuts.__setitem__(chunk.id, e))
            # The checks, and the one rewrite pass (generator/review_pass.py).
            return review_chunk(cards, chunk, backend, base_request(options), options.language,
                                options.self_review, stop, result.review, counter.add_review_tokens)
        except ContextExceeded:
            # The server's window is smaller than we were told: halve the chunk and go on.
            halves = split_chunk(chunk)
            if depth >= MAX_SPLITS or len(halves) < 2:
                raise
            return [card for half in halves for card in work(half, depth + 1)]

    answer_errors: List[BaseException] = []

    def task(chunk: Chunk) -> List[Card]:
        cards = work(chunk)
        if on_answer is not None:
            try:
                on_answer(chunk, cards)
            except BaseException as e:  # (e.g. a journal that cannot write): raised below
                answer_errors.append(e)
                stop.set()
                raise
        return cards

    def emit(chunk: Chunk, outcome: Any) -> None:
        result.chunks_done += 1
        if isinstance(outcome, Cancelled):
            return
        if isinstance(outcome, BaseException):
            err = outcome if isinstance(outcome, FlashcardError) else FlashcardError(
                f"Unexpected error: {type(outcome).__name__}: {outcome}")
            result.failures.append(ChunkFailure(chunk, err))
            if on_failure is not None:
                on_failure(chunk, err)
            if is_fatal(err):
                result.fatal = err
                stop.set()
        else:
            cards = outcome if limit is None else outcome[: max(0, limit - len(result.cards))]
            result.cards.extend(cards)
            cut = cuts.pop(chunk.id, None)
            if cut is not None:
                result.cut.append(ChunkFailure(chunk, cut))
            found = chunk_warnings(chunk, cards, cut)
            result.warnings.extend(found)
            for warning in found:
                if on_warning is not None:
                    on_warning(warning)
            if on_chunk is not None:
                on_chunk(chunk, cards)
            if limit is not None and len(result.cards) >= limit:
                stop.set()
        report(chunk.heading_label())

    report("")
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="flashcards")
    try:
        while not stop.is_set():
            if user_cancel.is_set():
                stop.set()
                result.cancelled = True
                break
            # Keep one request queued behind every busy slot so the server never idles, but let
            # no more than a bounded window of answers wait behind a slow chunk (memory, journal).
            while (not exhausted and len(pending) < parallel * 2
                   and len(pending) + len(finished) < parallel * 2 + REORDER_WINDOW):
                chunk = next(source, None)
                if chunk is None:
                    exhausted = True
                    break
                order[submitted] = chunk
                pending[submitted] = pool.submit(task, chunk)
                submitted += 1
            if not pending:
                break
            ready, _ = wait(list(pending.values()), timeout=0.05, return_when=FIRST_COMPLETED)
            for index in [i for i, f in pending.items() if f in ready]:
                future = pending.pop(index)
                error = future.exception()
                finished[index] = error if error is not None else future.result()
                if isinstance(error, FlashcardError) and is_fatal(error):
                    emit(order.pop(index), finished.pop(index))  # now, not in order: it stops the job
            while emitted in finished and not stop.is_set():  # document order
                emit(order.pop(emitted), finished.pop(emitted))
                emitted += 1
        if answer_errors:
            raise answer_errors[0]
        if user_cancel.is_set() or result.fatal is not None:
            # Keep what is done: the cards of chunks that finished behind a slower one (their
            # failures may be the stop's doing, and are left out).
            for index, future in list(pending.items()):
                if future.done() and not future.cancelled() and future.exception() is None:
                    finished[index] = future.result()
            for index in sorted(finished):
                if not isinstance(finished[index], BaseException):
                    emit(order[index], finished[index])
    finally:
        stop.set()
        # Close the requests still in flight at once (their threads end, not waiting for the
        # server), and do not wait for them here.
        backend.abort(stop)
        pool.shutdown(wait=False, cancel_futures=True)
    if not total and not result.cancelled:
        result.chunks_total = result.chunks_done
    result.tokens = counter.tokens
    return result


def split_chunk(chunk: Chunk) -> List[Chunk]:
    """Two halves of a chunk, cut at the paragraph, line or sentence break nearest its middle;
    both keep the chunk's id and place, so their cards point at the same source."""
    text = chunk.text
    middle = len(text) // 2
    for sep in ("\n\n", "\n", ". ", " "):
        before, after = text.rfind(sep, 0, middle), text.find(sep, middle)
        cuts = [i for i in (before, after) if i > 0]
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle)) + len(sep)
            parts = [text[:cut].strip(), text[cut:].strip()]
            if all(parts):
                # pictures go with the first half only: the halves share one place in the source
                return [replace(chunk, text=part, images=chunk.images if i == 0 else ())
                        for i, part in enumerate(parts)]
    return [chunk]


def regenerate_card(card: Card, chunk: Chunk, backend: Backend, options: JobOptions) -> Optional[Card]:
    """A fresh card from the same chunk, different from the one it replaces."""
    fresh = replace(options, temperature=max(0.7, options.temperature),
                    seed=(options.seed or 0) + 1 + int(time.time()) % 1000)
    cards = generate_for_chunk(chunk, backend, fresh, 3)
    old = card.key_text()
    for candidate in cards:
        if candidate.key_text() != old:
            return candidate
    return cards[0] if cards else None
