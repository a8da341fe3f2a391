"""On-screen input for a touch terminal: a pinyin keyboard with paged 汉字 candidates, a numeric
keypad, and pickers (option lists, region, street → community → road) so that nobody has to
write by hand. Thin widgets: the composing rules are in ``plugins.form_filling.pinyin``."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from plugins.form_filling.pinyin import PinyinComposer, PinyinDictionary

KEY_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl'", "zxcvbnm")
ADDRESS_WORDS = ("号", "栋", "单元", "室", "组", "村", "路", "-")


def _key(text: str, *, primary: bool = False, min_w: int = 64) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName("Primary" if primary else "Key")
    button.setMinimumSize(min_w, 60)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps the focus
    return button


class PinyinKeyboard(QFrame):
    """Letters compose pinyin; a candidate commits its 汉字; digits and address words commit
    at once; 退格 deletes a letter of the composition, else a character of the field."""

    commit = pyqtSignal(str)
    backspace = pyqtSignal()
    done = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Keyboard")
        self.composer: PinyinComposer | None = None
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        top = QHBoxLayout()
        self.composition = QLabel()
        self.composition.setObjectName("Composition")
        self.composition.setMinimumWidth(180)
        top.addWidget(self.composition)
        self.candidate_buttons: list[QPushButton] = []
        for i in range(8):
            b = _key("", min_w=72)
            b.setObjectName("Candidate")
            b.clicked.connect(lambda _c=False, n=i: self._pick(n))
            self.candidate_buttons.append(b)
            top.addWidget(b)
        self.previous_button = _key("◀", min_w=64)
        self.next_button = _key("▶", min_w=64)
        self.previous_button.clicked.connect(self._previous)
        self.next_button.clicked.connect(self._next)
        top.addWidget(self.previous_button)
        top.addWidget(self.next_button)
        layout.addLayout(top)
        self.keys: dict[str, QPushButton] = {}
        for row in KEY_ROWS:
            line = QHBoxLayout()
            for ch in row:
                b = _key(ch)
                b.clicked.connect(lambda _c=False, c=ch: self.press(c))
                self.keys[ch] = b
                line.addWidget(b)
            if row == KEY_ROWS[-1]:
                self.back_button = _key("⌫ 退格", min_w=150)
                self.back_button.clicked.connect(self._back)
                line.addWidget(self.back_button)
            layout.addLayout(line)
        words = QHBoxLayout()
        for w in ADDRESS_WORDS:
            b = _key(w)
            b.clicked.connect(lambda _c=False, t=w: self._commit_text(t))
            self.keys[w] = b
            words.addWidget(b)
        self.space_button = _key("空格", min_w=120)
        self.space_button.clicked.connect(lambda: self._commit_text(" "))
        words.addWidget(self.space_button)
        self.done_button = _key("完成", primary=True, min_w=150)
        self.done_button.clicked.connect(self._done)
        words.addWidget(self.done_button)
        layout.addLayout(words)
        self._show()

    def set_dictionary(self, source: PinyinDictionary) -> None:
        self.composer = PinyinComposer(source, page_size=len(self.candidate_buttons))
        self._show()

    @property
    def ready(self) -> bool:
        return self.composer is not None

    def reset(self) -> None:
        if self.composer is not None:
            self.composer.clear()
        self._show()

    # -- keys ---------------------------------------------------------------------------------

    def press(self, ch: str) -> None:
        if ch.isdigit():
            self._commit_text(ch)
        elif self.composer is not None:
            self.composer.type(ch)
            self._show()

    def type_pinyin(self, letters: str) -> None:
        for ch in letters:
            self.press(ch)

    def candidates(self) -> list[str]:
        return [b.text() for b in self.candidate_buttons if b.isEnabled() and b.text()]

    def pick(self, word: str) -> None:
        """Pick the visible candidate ``word`` (tests and the physical keyboard's digits)."""
        self._pick(self.candidates().index(word))

    def _pick(self, index: int) -> None:
        if self.composer is None:
            return
        word = self.composer.pick(index)
        if word:
            self.commit.emit(word)
        self._show()

    def _commit_text(self, text: str) -> None:
        if self.composer is not None and self.composer.letters:
            self._pick(0)  # a digit after letters: the first candidate goes first
        self.commit.emit(text)

    def _back(self) -> None:
        if self.composer is None or not self.composer.backspace():
            self.backspace.emit()
        self._show()

    def _done(self) -> None:
        if self.composer is not None and self.composer.letters:
            self._pick(0)
        self.done.emit()

    def _next(self) -> None:
        if self.composer is not None:
            self.composer.next_page()
            self._show()

    def _previous(self) -> None:
        if self.composer is not None:
            self.composer.previous_page()
            self._show()

    def _show(self) -> None:
        composer = self.composer
        if composer is None:
            self.composition.setText("正在准备输入法…")
            shown: list[str] = []
        else:
            self.composition.setText(composer.display() or "拼音")
            shown = [c.word for c in composer.visible()]
        for i, b in enumerate(self.candidate_buttons):
            b.setText(shown[i] if i < len(shown) else "")
            b.setEnabled(i < len(shown))
        pages = composer.pages if composer is not None else 1
        page = composer.page if composer is not None else 0
        self.previous_button.setEnabled(page > 0)
        self.next_button.setEnabled(page + 1 < pages and bool(shown))


class NumericKeypad(QFrame):
    """Digits for numbers, phones and dates (``-`` separates a date or an area code)."""

    commit = pyqtSignal(str)
    backspace = pyqtSignal()
    clear = pyqtSignal()
    done = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Keypad")
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        grid = QGridLayout()
        grid.setSpacing(8)
        self.keys: dict[str, QPushButton] = {}
        for i, ch in enumerate("123456789"):
            b = _key(ch, min_w=140)
            b.clicked.connect(lambda _c=False, c=ch: self.commit.emit(c))
            self.keys[ch] = b
            grid.addWidget(b, i // 3, i % 3)
        self.dash_button = _key("-", min_w=140)
        self.dash_button.clicked.connect(lambda: self.commit.emit("-"))
        zero = _key("0", min_w=140)
        zero.clicked.connect(lambda: self.commit.emit("0"))
        self.keys["0"] = zero
        self.keys["-"] = self.dash_button
        grid.addWidget(self.dash_button, 3, 0)
        grid.addWidget(zero, 3, 1)
        self.back_button = _key("⌫ 退格", min_w=140)
        self.back_button.clicked.connect(self.backspace)
        grid.addWidget(self.back_button, 3, 2)
        outer.addLayout(grid, 3)
        side = QVBoxLayout()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        side.addWidget(self.hint)
        self.clear_button = _key("清空", min_w=160)
        self.clear_button.clicked.connect(self.clear)
        self.done_button = _key("完成", primary=True, min_w=160)
        self.done_button.clicked.connect(self.done)
        side.addStretch(1)
        side.addWidget(self.clear_button)
        side.addWidget(self.done_button)
        outer.addLayout(side, 2)
        outer.addStretch(1)

    def configure(self, hint: str, dash: bool) -> None:
        self.hint.setText(hint)
        self.dash_button.setEnabled(dash)


class OptionPicker(QFrame):
    """Large buttons for a list of options, a page at a time (no handwriting)."""

    picked = pyqtSignal(str)
    COLUMNS = 4
    ROWS = 4

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Picker")
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.title = QLabel()
        head.addWidget(self.title, 1)
        self.back_button = _key("返回上一级", min_w=180)
        self.previous_button = _key("◀ 上一页", min_w=160)
        self.next_button = _key("下一页 ▶", min_w=160)
        for b in (self.back_button, self.previous_button, self.next_button):
            head.addWidget(b)
        layout.addLayout(head)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.buttons: list[QPushButton] = []
        for i in range(self.COLUMNS * self.ROWS):
            b = _key("", min_w=200)
            b.clicked.connect(lambda _c=False, n=i: self._clicked(n))
            self.buttons.append(b)
            self.grid.addWidget(b, i // self.COLUMNS, i % self.COLUMNS)
        self.options: tuple[str, ...] = ()
        self.page = 0
        self.current = ""
        self.previous_button.clicked.connect(lambda: self._turn(-1))
        self.next_button.clicked.connect(lambda: self._turn(1))
        self.back_button.hide()

    def show_options(self, title: str, options: Sequence[str], current: str = "") -> None:
        self.title.setText(title)
        self.options = tuple(options)
        self.current = current
        per = len(self.buttons)
        self.page = self.options.index(current) // per if current in self.options else 0
        self._show()

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.options) // len(self.buttons)))

    def _turn(self, step: int) -> None:
        self.page = min(max(0, self.page + step), self.pages - 1)
        self._show()

    def _show(self) -> None:
        per = len(self.buttons)
        shown = self.options[self.page * per:(self.page + 1) * per]
        for i, b in enumerate(self.buttons):
            text = shown[i] if i < len(shown) else ""
            b.setText(text)
            b.setVisible(bool(text))
            b.setObjectName("Primary" if text and text == self.current else "Key")
            style = b.style()
            if style is not None:
                style.unpolish(b)
                style.polish(b)
        self.previous_button.setVisible(self.pages > 1)
        self.next_button.setVisible(self.pages > 1)
        self.previous_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page + 1 < self.pages)

    def _clicked(self, index: int) -> None:
        per = len(self.buttons)
        i = self.page * per + index
        if i < len(self.options):
            self.picked.emit(self.options[i])

    def choose(self, option: str) -> None:
        """Pick ``option`` as a finger would (turning pages as needed)."""
        self.page = self.options.index(option) // len(self.buttons)
        self._show()
        self.buttons[self.options.index(option) % len(self.buttons)].click()
