"""The topic checklist (``TopicChecklist``), one widget for the Generate and the Bulk dialogs:
"Find topics" (``find_requested``), then the source's key topics as a checklist: title (double-
click to edit), section, suggested number of cards, the sentence it starts with (and a summary,
when a model wrote one) on hover, a mark on a topic the text does not name. The user unchecks what they do not
want to learn, edits a title, or adds a topic of their own. ``topics()`` gives them all, with
their ``checked`` flags and edits, for ``generator.job.topics.TopicPlan``; ``checked_count()`` how
many are chosen; ``changed`` says the choice changed. While the step runs (``set_busy``) topics
stream in (``add_topic``, merged like the engine merges them) and the list cannot be edited.
The engine's topic module (which loads the job's) is imported when topics arrive or the user
types one, not with this module nor when the checklist is made."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional

from aqt.qt import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    pyqtSignal,
)

from .common import button, plural

if TYPE_CHECKING:
    from ..generator.job.topics import Topic

COL_TITLE, COL_SECTION, COL_CARDS = range(3)
ROLE_INDEX = Qt.ItemDataRole.UserRole + 1
NOT_IN_TEXT = ("The sentence the model cited for this topic does not name it, nor does any other: check that "
               "the text is about it.")


class TopicChecklist(QWidget):
    find_requested = pyqtSignal()
    changed = pyqtSignal()

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self._topics: List[Topic] = []
        self._filling = False
        self.busy = False
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.find_btn = QPushButton("Find topics")
        self.find_btn.setToolTip("Let the model list the key topics of the source first; then choose "
                                 "which ones to make cards about")
        self.find_btn.setAutoDefault(False)
        self.find_btn.clicked.connect(lambda _c=False: self.find_requested.emit())
        head.addWidget(self.find_btn)
        head.addStretch(1)
        self.label = QLabel("Optional: choose what to learn before any card is written.")
        self.label.setWordWrap(True)
        self.label.setEnabled(False)
        self.all_btn = button("All", lambda: self.set_all_checked(True))
        self.none_btn = button("None", lambda: self.set_all_checked(False))
        self.clear_btn = button("Clear", self.clear)
        self.clear_btn.setToolTip("Forget the topics: cards are made from the whole text again")
        for b in (self.all_btn, self.none_btn, self.clear_btn):
            head.addWidget(b)
        v.addLayout(head)
        v.addWidget(self.label)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Topic", "Section", "Cards"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(120)
        header = self.tree.header()
        if header is not None:
            header.setStretchLastSection(False)
            header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
            header.setSectionResizeMode(COL_SECTION, QHeaderView.ResizeMode.Interactive)
            header.setSectionResizeMode(COL_CARDS, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setColumnWidth(COL_SECTION, 110)
        self.tree.itemChanged.connect(self._on_item_changed)
        v.addWidget(self.tree, 1)

        add = QHBoxLayout()
        self.add_edit = QLineEdit()
        self.add_edit.setPlaceholderText("A topic of your own…")
        self.add_edit.textEdited.connect(self._limit_title)  # the engine's limit, once typed into
        self.add_edit.returnPressed.connect(self.add_own)
        self.add_btn = button("Add topic", self.add_own)
        add.addWidget(self.add_edit, 1)
        add.addWidget(self.add_btn)
        v.addLayout(add)
        self._update()

    # --- content ------------------------------------------------------------------------------
    def topics(self) -> List[Topic]:
        """All topics, with the user's checks and edits (a topic whose title was emptied is out)."""
        return [t for t in self._topics if t.title]

    def has_topics(self) -> bool:
        return bool(self.topics())

    def checked_count(self) -> int:
        return sum(1 for t in self.topics() if t.checked)

    def set_topics(self, topics: List[Topic]) -> None:
        self._topics = list(topics)
        self._refill()

    def add_topic(self, topic: Topic) -> None:
        """A topic as it streams in: merged into one already listed when the titles agree."""
        from ..generator.job.topics import SAME_TOPIC, similarity

        for i, known in enumerate(self._topics):
            if similarity(known.title, topic.title) >= SAME_TOPIC:
                known.cards = min(80, known.cards + topic.cards)
                known.grounded = known.grounded or topic.grounded
                self._fill(i)
                return
        self._topics.append(topic)
        self._fill(len(self._topics) - 1)
        self._update()

    def _limit_title(self, _text: str = "") -> None:
        from ..generator.job.topics import TITLE_CHARS

        if self.add_edit.maxLength() != TITLE_CHARS:
            self.add_edit.setMaxLength(TITLE_CHARS)

    def add_own(self) -> None:
        from ..generator.job.topics import TITLE_CHARS, USER_TOPIC_CARDS, Topic, clean

        title = clean(self.add_edit.text(), TITLE_CHARS)
        if not title or self.busy:
            return
        self._topics.append(Topic(title=title, cards=USER_TOPIC_CARDS, custom=True, grounded=False))
        self._fill(len(self._topics) - 1)
        self.add_edit.clear()
        self._update()
        self.changed.emit()

    def clear(self) -> None:
        self._topics = []
        self._refill()
        self.changed.emit()

    def set_all_checked(self, checked: bool) -> None:
        for t in self._topics:
            t.checked = checked
        self._refill()
        self.changed.emit()

    def set_checked(self, index: int, checked: bool) -> None:
        item = self.tree.topLevelItem(index)
        if item is not None:
            item.setCheckState(COL_TITLE, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        if text:
            self.label.setText(text)
        self._refill()

    def index_of(self, title: str) -> int:
        for i, t in enumerate(self._topics):
            if t.title == title:
                return i
        return -1

    # --- rows ---------------------------------------------------------------------------------
    def _refill(self) -> None:
        self._filling = True
        try:
            self.tree.clear()
            for i in range(len(self._topics)):
                self._fill(i)
        finally:
            self._filling = False
        self._update()

    def _fill(self, i: int) -> None:
        topic = self._topics[i]
        was = self._filling
        self._filling = True
        try:
            item = self.tree.topLevelItem(i)
            if item is None:
                item = QTreeWidgetItem()
                self.tree.addTopLevelItem(item)
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if not self.busy:
                flags |= Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEditable
            item.setFlags(flags)
            item.setData(COL_TITLE, ROLE_INDEX, i)
            item.setText(COL_TITLE, topic.title)
            item.setCheckState(COL_TITLE, Qt.CheckState.Checked if topic.checked else Qt.CheckState.Unchecked)
            item.setText(COL_SECTION, "your topic" if topic.custom else
                         ("" if topic.grounded else "⚠ ") + (topic.section or ""))
            item.setText(COL_CARDS, str(topic.cards))
            tip = [topic.summary] if topic.summary else []
            if topic.document and not topic.custom:
                tip.insert(0, "From %s" % topic.document + (" · %s" % topic.section if topic.section else ""))
            if topic.quote:
                tip.append("“%s”" % topic.quote)
            if not topic.grounded and not topic.custom:
                tip.append("⚠ " + NOT_IN_TEXT)
            if topic.custom:
                tip.append("Your own topic: asked of the parts of the text that mention it "
                           "(of the whole text if none does).")
            text = "\n".join(tip)
            for col in (COL_TITLE, COL_SECTION, COL_CARDS):
                item.setToolTip(col, text)
        finally:
            self._filling = was

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._filling:
            return
        i = item.data(COL_TITLE, ROLE_INDEX)
        if not isinstance(i, int) or not 0 <= i < len(self._topics):
            return
        topic = self._topics[i]
        if column == COL_TITLE:
            from ..generator.job.topics import TITLE_CHARS, clean

            topic.checked = item.checkState(COL_TITLE) == Qt.CheckState.Checked
            title = clean(item.text(COL_TITLE), TITLE_CHARS)
            if title and title != topic.title:
                topic.title = title  # the cards get the new title's tag (and subdeck)
            if item.text(COL_TITLE) != topic.title:
                self._fill(i)
        elif column == COL_CARDS:
            try:
                topic.cards = max(1, min(20, int(item.text(COL_CARDS).strip())))
            except ValueError:
                pass
            self._fill(i)
        self._update()
        self.changed.emit()

    def _update(self) -> None:
        n = len(self._topics)
        checked = self.checked_count()
        self.tree.setVisible(n > 0)
        for b in (self.all_btn, self.none_btn, self.clear_btn):
            b.setVisible(n > 0)
            b.setEnabled(not self.busy)
        self.find_btn.setEnabled(not self.busy)
        self.find_btn.setText("Find topics again" if n else "Find topics")
        self.add_edit.setEnabled(not self.busy)
        self.add_btn.setEnabled(not self.busy)
        if not self.busy:
            self.label.setText("%s of %s checked: cards for these only." % (checked, plural(n, "topic"))
                               if n else "Optional: choose what to learn before any card is written.")
