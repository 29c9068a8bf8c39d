"""A generation job: chunks in, validated cards out, with parallel requests, progress, retry
and cancellation. Results come back in document order."""
import math
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import (Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple,
                    Union)

from .. import log
from ..backends.base import Backend, ChatRequest, ChatResult
from ..backends.server_facts import ThinkSetting
from ..cards.card import Card
from ..cards.checks import Expectation, expectation
from .ask import AskFor, ChunkAsk, with_topic
from .chunking import chunk_document, estimate_tokens
from .chunk import Chunk
from ..config import CardKind, Depth, SelfReview, Settings, as_settings
from .context_size import MAX_CHUNK_TOKENS, job_context, parse_num_ctx
from .depth import answer_room_cards, ceiling, text_budget, text_holds
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
from .reports import ChunkFailure, ChunkWarning, JobListener, Progress, WarningKind
from ..notes.accounting import CardAccount, Reason
from .rewrite import ReviewPass, ReviewStats, review_chunk, support_of
from .schema import answer_schema
from .stream import CardStream, with_checks
from .images import (
    content_tokens,
    figure_finish,
    image_cards,
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
    self_review: SelfReview = SelfReview.FLAGGED  # the rewrite pass (job/rewrite.py)
    figures: str = "auto"  # config.FigureMode: auto | off | slides
    max_images: int = 4  # images per request at most
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
    # Cards made and those left out on the way (over the text's bound, over the number set,
    # dropped by the rewrite pass); ``account.waiting`` is ``len(cards)``, for the add to settle.
    account: CardAccount = field(default_factory=CardAccount)

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
    return min(room, ceiling(chunk.text, options.depth, room) + image_cards(chunk))


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


@dataclass
class ChunkReports:
    """What one chunk's request reports while it runs, each on the thread that sends it:
    answer tokens (``on_tokens``), each card as soon as its object in the streamed answer closes
    (``on_card``), an answer that broke off after some cards (``on_cut``: they are kept), and
    the cards its answer held past the chunk's limit (``on_beyond``)."""

    on_tokens: Optional[Callable[[int], None]] = None
    on_card: Optional[Callable[[Card], None]] = None
    on_cut: Optional[Callable[[FlashcardError], None]] = None
    # cards the answer held past the chunk's limit, not made (``chunk_limit``)
    on_beyond: Optional[Callable[[int], None]] = None


def chunk_user_text(chunk: Chunk, options: JobOptions, ask: ChunkAsk, images: Sequence[Any],
                    wanted: int) -> str:
    """The user message asking ``wanted`` cards of the chunk (with its images' note and what
    the plan adds)."""
    return user_text(user_prompt(chunk, wanted, options.language, auto_depth(options)), chunk, images) + (
        "\n" + ask.instructions if ask.instructions else "")


def chunk_request(chunk: Chunk, options: JobOptions, ask: ChunkAsk, images: Sequence[Any],
                  wanted: int) -> ChatRequest:
    """The chunk's own request: the job's model and options, the card schema (with the topics
    and the images' "figure" field where they apply), and the images."""
    schema = answer_schema(options.kind)
    request = ChatRequest(
        model=options.model,
        system=system_prompt(options.kind, options.prompt_additions, options.focus),
        user=chunk_user_text(chunk, options, ask, images, wanted),
        schema=with_topic(schema, ask.topics) if ask.topics else schema,
        temperature=options.temperature,
        num_ctx=0 if options.num_ctx_auto else options.num_ctx,  # 0: the loaded context stays
        num_predict=options.num_predict,
        seed=options.seed,
        keep_alive=options.keep_alive,
        think=options.think,
    )
    return with_images(request, chunk, images)


def generate_for_chunk(
    chunk: Chunk,
    backend: Backend,
    options: JobOptions,
    wanted: int,
    cancel: Optional[threading.Event] = None,
    ask: Optional[ChunkAsk] = None,
    reports: Optional[ChunkReports] = None,
    expected: Optional[Expectation] = None,
) -> List[Card]:
    """One chunk's cards. A broken, truncated or schema-less answer is retried once with the
    problem stated; a passing server failure is retried once too. ``expected``: the cards'
    language (``checks.expectation``) when the caller has it for the chunk already.

    ``reports.on_card`` gets each card as soon as its object in the streamed answer closes (on
    this thread); the list returned is authoritative (see ``stream_cards``). An answer that broke
    off keeps the cards that closed before the break, and ``reports.on_cut`` is told. ``ask``:
    what this chunk's request asks beyond the job's settings (topics)."""
    ask = ask or ChunkAsk()
    reports = reports or ChunkReports()
    images = prepare_images(chunk) if chunk.images else []
    request = chunk_request(chunk, options, ask, images, wanted)
    if expected is None:
        expected = expectation(options.language, chunk.text)
    finish = with_checks(figure_finish(ask.assign, chunk, images), expected, support_of(chunk))
    last: Optional[FlashcardError] = None
    for attempt in range(2):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        log.content(f"prompt for chunk {chunk.id}", request.user)
        stream = CardStream(chunk, options.kind, chunk_limit(chunk, options, wanted), reports.on_card,
                            finish, with_topic=bool(ask.topics), allow_empty=ask.allow_empty, expected=expected)
        try:
            result = backend.chat(request, cancel=cancel, on_text=stream.feed)
        except BackendError as e:
            log.event("chunk %s attempt %d: %s", chunk.id, attempt + 1, type(e).__name__)
            if stream.cards:  # shown already: keep them rather than ask again
                if reports.on_cut is not None:
                    reports.on_cut(cut_error(len(stream.cards), e.message, "Try again for the rest."))
                if stream.beyond and reports.on_beyond is not None:
                    reports.on_beyond(stream.beyond)
                return list(stream.cards)
            if not e.retryable or attempt == 1:
                raise
            last = e
            continue
        log.event("chunk %s attempt %d: %d tokens in %.2f s, done_reason=%s", chunk.id, attempt + 1,
                  result.answer_tokens, result.seconds, result.done_reason)
        log.content(f"answer for chunk {chunk.id}", result.content or result.thinking)
        if reports.on_tokens is not None:
            reports.on_tokens(result.answer_tokens)
        try:
            cards = stream.settle(answer_text(result))
            if stream.cut and reports.on_cut is not None:
                reports.on_cut(cut_error(len(cards), *cut_reason(result, request.num_predict)))
            if stream.beyond and reports.on_beyond is not None:
                reports.on_beyond(stream.beyond)
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
            request = replace(request, user=chunk_user_text(chunk, options, ask, images, wanted),
                              num_predict=min(request.num_predict * 2, max(request.num_predict, options.num_ctx // 2)))
        else:
            request = replace(request, extra_messages=[
                {"role": "assistant", "content": result.content[:2000]},
                {"role": "user", "content": retry_prompt(problem)},
            ])
    assert last is not None
    raise last


def chunk_limit(chunk: Chunk, options: JobOptions, wanted: int) -> int:
    """The most cards kept of one answer: the chunk's share of the number the user set; without
    one, what its text can hold (``depth.text_holds``, room for good cards beyond those asked),
    so a model in a loop does not flood the deck. Never more than ``MAX_CARDS_PER_ANSWER``."""
    if options.max_cards > 0:
        return wanted
    return min(MAX_CARDS_PER_ANSWER, max(wanted, text_holds(chunk.text) + image_cards(chunk)))


def beyond_warning(chunk: Chunk, n: int, kept: int) -> ChunkWarning:
    """The cards left out past what a chunk's text can hold, said."""
    return ChunkWarning(chunk, WarningKind.OVER_BOUND, "The model wrote %s more card%s than this "
                        "text can hold (%d kept); %s left out. To keep more, set the number of "
                        "cards." % (format(n, ","), "" if n == 1 else "s", kept,
                                    "it was" if n == 1 else "they were"))


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


class Job:
    """Cards for every chunk, up to ``options.parallel`` requests at once, told to ``listener``
    as they come (``JobListener``); ``run()`` once.

    ``chunks`` may be a stream (read as the job goes: a bounded window of answers waits behind a
    slow chunk). ``total_tokens`` spreads a ``max_cards`` limit over the chunks (computed here
    when ``chunks`` is a sequence). Setting ``cancel`` returns within ~50 ms with what is done.
    ``asks`` says per chunk what to ask (topics); a chunk it skips is done with no cards.
    Answers that broke off keep their complete cards (``JobResult.cut``)."""

    def __init__(self, chunks: Iterable[Chunk], backend: Backend, options: JobOptions,
                 listener: Optional[JobListener] = None, cancel: Optional[threading.Event] = None,
                 asks: Optional[AskFor] = None, total_tokens: int = 0) -> None:
        self.backend = backend
        self.options = options
        self.listener = listener or JobListener()
        self.user_cancel = cancel or threading.Event()
        self.asks = asks
        self.stop = threading.Event()  # tells workers to give up: user cancel, a fatal error, or the limit
        self.known_total = len(chunks) if isinstance(chunks, Sequence) else 0
        self.total_tokens = total_tokens
        if isinstance(chunks, Sequence) and not total_tokens:
            self.total_tokens = sum(content_tokens(c) for c in chunks)
        self.result = JobResult(chunks_total=self.known_total)
        self.counter = _Counter()
        self.limit = options.max_cards if options.max_cards > 0 else None
        # the rewrite pass sends the job's system prompt, so the server's cached prefix holds
        review_base = replace(base_request(options),
                              system=system_prompt(options.kind, options.prompt_additions, options.focus))
        self.review = ReviewPass(review_base, options.language, options.self_review,
                                 self.result.review, self.counter.add_review_tokens)
        self._source: Iterator[Chunk] = iter(chunks)
        self._pending: Dict[int, "Future[List[Card]]"] = {}  # by submission index
        self._finished: Dict[int, Any] = {}  # cards or the error, waiting for their turn
        self._order: Dict[int, Chunk] = {}
        self._submitted = self._emitted = 0
        self._exhausted = False
        self._cuts: Dict[str, FlashcardError] = {}  # chunk id -> why its answer broke off
        self._left: Dict[str, Dict[Reason, int]] = {}  # chunk id -> cards its worker left out, why
        self._shown = 0  # cards handed to on_card so far
        self._shown_lock = threading.Lock()
        self._answer_errors: List[BaseException] = []

    def run(self) -> JobResult:
        """The job, start to end (see the class doc). What ``on_answer`` raises, this raises."""
        self.counter.started = time.monotonic()
        self._report("")
        pool = ThreadPoolExecutor(max_workers=max(1, self.options.parallel), thread_name_prefix="flashcards")
        try:
            self._loop(pool)
            if self._answer_errors:
                raise self._answer_errors[0]
            if self.user_cancel.is_set() or self.result.fatal is not None:
                self._keep_finished()
        finally:
            self.stop.set()
            # Close the requests still in flight at once (their threads end, not waiting for the
            # server), and do not wait for them here.
            self.backend.abort(self.stop)
            pool.shutdown(wait=False, cancel_futures=True)
        if not self.known_total and not self.result.cancelled:
            self.result.chunks_total = self.result.chunks_done
        self.result.tokens = self.counter.tokens
        return self.result

    # -- the job's thread ----------------------------------------------------------------------
    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while not self.stop.is_set():
            if self.user_cancel.is_set():
                self.stop.set()
                self.result.cancelled = True
                return
            self._submit(pool)
            if not self._pending:
                return
            ready, _ = wait(list(self._pending.values()), timeout=0.05, return_when=FIRST_COMPLETED)
            for index in [i for i, f in self._pending.items() if f in ready]:
                future = self._pending.pop(index)
                error = future.exception()
                self._finished[index] = error if error is not None else future.result()
                if isinstance(error, FlashcardError) and is_fatal(error):
                    # now, not in order: it stops the job
                    self._emit(self._order.pop(index), self._finished.pop(index))
            while self._emitted in self._finished and not self.stop.is_set():  # document order
                self._emit(self._order.pop(self._emitted), self._finished.pop(self._emitted))
                self._emitted += 1

    def _submit(self, pool: ThreadPoolExecutor) -> None:
        """Keep one request queued behind every busy slot so the server never idles, but let no
        more than a bounded window of answers wait behind a slow chunk (memory, journal)."""
        parallel = max(1, self.options.parallel)
        while (not self._exhausted and len(self._pending) < parallel * 2
               and len(self._pending) + len(self._finished) < parallel * 2 + REORDER_WINDOW):
            chunk = next(self._source, None)
            if chunk is None:
                self._exhausted = True
                return
            self._order[self._submitted] = chunk
            self._pending[self._submitted] = pool.submit(self._task, chunk)
            self._submitted += 1

    def _keep_finished(self) -> None:
        """After a cancel or a fatal error, keep what is done: the cards of chunks that finished
        behind a slower one (their failures may be the stop's doing, and are left out)."""
        for index, future in list(self._pending.items()):
            if future.done() and not future.cancelled() and future.exception() is None:
                self._finished[index] = future.result()
        for index in sorted(self._finished):
            if not isinstance(self._finished[index], BaseException):
                self._emit(self._order[index], self._finished[index])

    def _emit(self, chunk: Chunk, outcome: Any) -> None:
        self.result.chunks_done += 1
        if isinstance(outcome, Cancelled):
            return
        if isinstance(outcome, BaseException):
            self._failed(chunk, outcome)
        else:
            self._done(chunk, outcome)
        self._report(chunk.heading_label())

    def _failed(self, chunk: Chunk, outcome: BaseException) -> None:
        err = outcome if isinstance(outcome, FlashcardError) else FlashcardError(
            f"Unexpected error: {type(outcome).__name__}: {outcome}")
        self.result.failures.append(ChunkFailure(chunk, err))
        self.listener.on_failure(chunk, err)
        if is_fatal(err):
            self.result.fatal = err
            self.stop.set()

    def _done(self, chunk: Chunk, outcome: List[Card]) -> None:
        result = self.result
        cards = outcome if self.limit is None else outcome[: max(0, self.limit - len(result.cards))]
        result.cards.extend(cards)
        left = self._left.pop(chunk.id, {})
        account = CardAccount(made=len(outcome) + sum(left.values()))
        for reason, n in left.items():
            account.leave(reason, n)
        if len(outcome) > len(cards):  # past the number of cards set for the whole job
            account.leave(Reason.CUT, len(outcome) - len(cards))
            self.listener.on_left_out(chunk, Reason.CUT, len(outcome) - len(cards))
        result.account.take(account)
        cut = self._cuts.pop(chunk.id, None)
        if cut is not None:
            result.cut.append(ChunkFailure(chunk, cut))
        found = chunk_warnings(chunk, cards, cut)
        if left.get(Reason.BOUND):
            found.insert(0, beyond_warning(chunk, left[Reason.BOUND], len(outcome)))
        result.warnings.extend(found)
        for warning in found:
            self.listener.on_warning(warning)
        self.listener.on_chunk(chunk, cards)
        if self.limit is not None and len(result.cards) >= self.limit:
            self.stop.set()

    def _report(self, label: str) -> None:
        r, c = self.result, self.counter
        self.listener.on_progress(Progress(r.chunks_done, r.chunks_total, len(r.cards), c.tokens, c.rate(),
                                           len(r.failures), label, c.review_tokens))

    # -- the workers ---------------------------------------------------------------------------
    def _task(self, chunk: Chunk) -> List[Card]:
        left: Dict[Reason, int] = {}
        cards = self._work(chunk, left)
        self._left[chunk.id] = left
        try:
            for reason, n in left.items():
                self.listener.on_left_out(chunk, reason, n)
            self.listener.on_answer(chunk, cards)
        except BaseException as e:  # (e.g. a journal that cannot write): raised by run()
            self._answer_errors.append(e)
            self.stop.set()
            raise
        return cards

    def _work(self, chunk: Chunk, left: Dict[Reason, int], depth: int = 0) -> List[Card]:
        """The chunk's cards; ``left`` counts, by reason, the cards made and left out here."""
        wanted = cards_for_chunk(chunk, self.options, self.total_tokens)
        ask = self.asks(chunk, wanted) if self.asks is not None else None
        if ask is not None and ask.skip:
            return []
        wanted = ask.wanted if ask is not None and ask.wanted > 0 else wanted
        beyond = Reason.CUT if self.options.max_cards > 0 else Reason.BOUND

        def past_the_limit(n: int) -> None:
            left[beyond] = left.get(beyond, 0) + n

        reports = ChunkReports(self.counter.add_tokens, lambda card: self._show(chunk, card),
                               lambda e: self._cut(chunk, e), past_the_limit)
        expected = expectation(self.options.language, chunk.text)  # once for the chunk's every step
        try:
            cards = generate_for_chunk(chunk, self.backend, self.options, wanted, self.stop, ask, reports,
                                       expected)
            # The checks, and the one rewrite pass (job/rewrite.py), which may drop flagged cards.
            kept = review_chunk(cards, chunk, self.backend, self.review, self.stop, expected)
            if len(kept) < len(cards):
                left[Reason.FLAGGED] = left.get(Reason.FLAGGED, 0) + len(cards) - len(kept)
            return kept
        except ContextExceeded:
            # The server's window is smaller than we were told: halve the chunk and go on.
            halves = split_chunk(chunk)
            if depth >= MAX_SPLITS or len(halves) < 2:
                raise
            return [card for half in halves for card in self._work(half, left, depth + 1)]

    def _show(self, chunk: Chunk, card: Card) -> None:
        # No more early cards than the job's limit lets through (the final lists are cut to it).
        with self._shown_lock:
            if self.limit is not None and self._shown >= self.limit:
                return
            self._shown += 1
        self.listener.on_card(chunk, card)

    def _cut(self, chunk: Chunk, error: FlashcardError) -> None:
        self._cuts[chunk.id] = error


def run_job(chunks: Iterable[Chunk], backend: Backend, options: JobOptions,
            listener: Optional[JobListener] = None, cancel: Optional[threading.Event] = None,
            asks: Optional[AskFor] = None, total_tokens: int = 0) -> JobResult:
    """``Job(...).run()``: generate cards for every chunk, told to ``listener`` (see ``Job``)."""
    return Job(chunks, backend, options, listener, cancel, asks, total_tokens).run()


def split_chunk(chunk: Chunk) -> List[Chunk]:
    """Two halves of a chunk, cut at the paragraph, line or sentence break nearest its middle;
    both keep the chunk's id and place, so their cards point at the same source (each half's
    marks moved along, so a card's page and line are still its sentence's)."""
    text = chunk.text
    middle = len(text) // 2
    for sep in ("\n\n", "\n", ". ", " "):
        before, after = text.rfind(sep, 0, middle), text.find(sep, middle)
        cuts = [i for i in (before, after) if i > 0]
        if cuts:
            cut = min(cuts, key=lambda i: abs(i - middle)) + len(sep)
            parts = [text[:cut].strip(), text[cut:].strip()]
            if all(parts):
                # images go with the first half only: the halves share one place in the source
                return [chunk.piece(0, cut, images=chunk.images),
                        chunk.piece(cut, len(text), images=())]
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
