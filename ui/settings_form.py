"""The settings form's parts: a ``Control`` per key of ``Settings`` (generator/config.py) and
``SettingsForm``, the tabs they sit in.

A page of the form is a list of ``Row``s, each naming one key once: its label, its tip and how
its number is shown. The widget follows from the key's type (``Settings.type_of``): a bool is
a check box, a ``Choice`` enum a list, an int or a float a spin box with the range the key's
checks allow (``Settings.bounds``), a text a line, a list of words a line of words. A key that
needs another widget (the model list, the decks, the shortcut ...) names its maker in its row
(``make``). ``SettingsForm.values()`` reads every control back by its key, ``load(settings)``
fills them, so adding a setting to the dialog is one ``Row``."""
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type, TypeVar

from aqt.qt import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..generator.config import Choice, Settings

C = TypeVar("C", bound="Control")
INT_MAX = 2 ** 31 - 1  # a spin box's top where the setting has none
FLOAT_MAX = 1e6


@dataclass(frozen=True)
class Row:
    """How one key is shown: ``label`` (a check box's text for a bool), ``tip`` on hover; for a
    number its ``suffix``, ``step``, ``decimals`` and ``zero`` (the text shown for its lowest
    value, e.g. "Auto"); for a ``Choice`` the ``titles`` of its values ((value, title, tip));
    ``blank`` = an empty text means the default; ``make`` builds a widget of its own."""

    key: str
    label: str
    tip: str = ""
    suffix: str = ""
    step: float = 0.0
    decimals: int = 0
    zero: str = ""
    titles: Tuple[Tuple[str, str, str], ...] = ()
    placeholder: str = ""
    blank: bool = False
    make: Optional[Callable[["Row"], "Control"]] = None


@dataclass(frozen=True)
class Section:
    title: str  # "" = no frame
    rows: Tuple[Row, ...]


@dataclass(frozen=True)
class Page:
    title: str
    sections: Tuple[Section, ...]
    note: str = ""  # a line under the sections


class Control:
    """A widget that shows one key's value (``set``) and reads it back (``get``) as config.json
    has it."""

    def __init__(self, row: Row, widget: QWidget) -> None:
        self.row = row
        self.widget = widget
        if row.tip:
            widget.setToolTip(row.tip)

    def get(self) -> Any:
        raise NotImplementedError

    def set(self, value: Any) -> None:
        raise NotImplementedError


class CheckControl(Control):
    def __init__(self, row: Row) -> None:
        self.box = QCheckBox(row.label)
        super().__init__(row, self.box)

    def get(self) -> Any:
        return self.box.isChecked()

    def set(self, value: Any) -> None:
        self.box.setChecked(bool(value))


class ComboControl(Control):
    """A list of (title, value) items; ``set`` selects the item whose data is the value."""

    def __init__(self, row: Row, items: Sequence[Tuple[str, str, str]] = (), editable: bool = False) -> None:
        self.combo = QComboBox()
        self.combo.setEditable(editable)
        super().__init__(row, self.combo)
        self.fill(items)

    def fill(self, items: Sequence[Tuple[str, str, str]]) -> None:
        for value, title, tip in items:
            self.combo.addItem(title, value)
            if tip:
                self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)

    def get(self) -> Any:
        data = self.combo.currentData()
        return str(data) if data is not None else ""

    def set(self, value: Any) -> None:
        select(self.combo, str(value.value if isinstance(value, Enum) else value))


class ChoiceControl(ComboControl):
    """A ``Choice`` enum's values, with the row's titles (else the values themselves)."""

    def __init__(self, row: Row, kind: Any) -> None:
        titles = {value: (title, tip) for value, title, tip in row.titles}
        items = [(m.value, *titles.get(m.value, (m.value, ""))) for m in kind]
        super().__init__(row, items)


class IntControl(Control):
    def __init__(self, row: Row, low: int, high: int) -> None:
        self.spin = QSpinBox()
        self.spin.setRange(low, high)
        super().__init__(row, self.spin)
        self.spin.setSingleStep(int(row.step or 1))
        if row.suffix:
            self.spin.setSuffix(row.suffix)
        if row.zero:
            self.spin.setSpecialValueText(row.zero)

    def get(self) -> Any:
        return self.spin.value()

    def set(self, value: Any) -> None:
        self.spin.setValue(int(value))


class FloatControl(Control):
    def __init__(self, row: Row, low: float, high: float) -> None:
        self.spin = QDoubleSpinBox()
        self.spin.setDecimals(row.decimals)
        self.spin.setRange(low, high)
        super().__init__(row, self.spin)
        self.spin.setSingleStep(row.step or 10 ** -row.decimals)
        if row.suffix:
            self.spin.setSuffix(row.suffix)

    def get(self) -> Any:
        value = round(self.spin.value(), self.row.decimals)
        return int(value) if float(value).is_integer() else value  # 300, not 300.0

    def set(self, value: Any) -> None:
        self.spin.setValue(float(value))


class TextControl(Control):
    def __init__(self, row: Row, default: str = "") -> None:
        self.edit = QLineEdit()
        super().__init__(row, self.edit)
        self.default = default if row.blank else ""
        if row.placeholder:
            self.edit.setPlaceholderText(row.placeholder)

    def get(self) -> Any:
        return self.edit.text().strip() or self.default

    def set(self, value: Any) -> None:
        self.edit.setText(str(value))


class WordsControl(TextControl):
    """A list of words (tags) as one line, space-separated."""

    def get(self) -> Any:
        return self.edit.text().split()

    def set(self, value: Any) -> None:
        self.edit.setText(" ".join(value))


def control_for(row: Row) -> Control:
    """The row's own widget, else the one its key's type asks for."""
    if row.make is not None:
        return row.make(row)
    kind = Settings.type_of(row.key)
    if kind is bool:
        return CheckControl(row)
    if isinstance(kind, type) and issubclass(kind, Choice):
        return ChoiceControl(row, kind)
    bounds = Settings.bounds(row.key)
    if kind is int:
        low = int(bounds.low) + (1 if bounds.above else 0) if bounds.low is not None else 0
        return IntControl(row, low, int(bounds.high) if bounds.high is not None else INT_MAX)
    if kind is float:
        low_f = (bounds.low or 0.0) + (10 ** -row.decimals if bounds.above else 0.0)
        return FloatControl(row, low_f, bounds.high if bounds.high is not None else FLOAT_MAX)
    if kind is str:
        return TextControl(row, str(getattr(Settings(), row.key)))
    if typing.get_origin(kind) is list:
        return WordsControl(row)
    raise TypeError("no control for %s (%s): give its Row a make" % (row.key, kind))


class SettingsForm(QTabWidget):
    """The pages as tabs, each a scrollable column of sections; one ``Control`` per key."""

    def __init__(self, pages: Sequence[Page], parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.controls: Dict[str, Control] = {}
        self.layouts: Dict[str, QFormLayout] = {}  # key -> the form it is a row of
        for page in pages:
            self.addTab(self._page(page), page.title)

    def _page(self, page: Page) -> QScrollArea:
        body = QWidget()
        column = QVBoxLayout(body)
        for section in page.sections:
            box: QWidget = QGroupBox(section.title) if section.title else QWidget()
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for row in section.rows:
                control = control_for(row)
                form.addRow("" if isinstance(control, CheckControl) else row.label, control.widget)
                self.controls[row.key] = control
                self.layouts[row.key] = form
            column.addWidget(box)
        if page.note:
            note = QLabel(page.note)
            note.setWordWrap(True)
            note.setTextFormat(Qt.TextFormat.RichText)
            column.addWidget(note)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        return scroll

    def keys(self) -> List[str]:
        return list(self.controls)

    def widget_of(self, key: str) -> QWidget:
        return self.controls[key].widget

    def control(self, key: str, kind: Type[C]) -> C:
        """The key's control, as the kind its row makes."""
        control = self.controls[key]
        assert isinstance(control, kind), (key, control)
        return control

    def add_after(self, key: str, widget: Any, label: str = "") -> None:
        """A row that is not a key (a button, a message) under the row of ``key``."""
        form = self.layouts[key]
        index, _role = form.getWidgetPosition(self.controls[key].widget)
        if label:
            form.insertRow(index + 1, label, widget)
        else:
            form.insertRow(index + 1, widget)

    def load(self, settings: Settings) -> None:
        for key, control in self.controls.items():
            control.set(getattr(settings, key))

    def values(self) -> Dict[str, Any]:
        return {key: control.get() for key, control in self.controls.items()}


def select(combo: QComboBox, value: str) -> bool:
    index = combo.findData(value)
    if index >= 0:
        combo.setCurrentIndex(index)
        return True
    return False
