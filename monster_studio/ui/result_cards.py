"""The Classify page's cards: one per picture asked for one by one, waiting until its answer comes,
newest scrolled into view. Hundreds of cards help nobody: beyond MAX_CARDS pictures go to the table."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QScrollArea, QWidget

from monster_studio.ui.detection_card import DetectionCard
from monster_studio.ui.flow_layout import FlowLayout
from monster_studio.ui.prediction_card import PredictionCard
from monster_studio.ui.style import SPACING

MAX_CARDS = 200


class CardsView(QScrollArea):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.box = QWidget()
        self.box.setObjectName("cards")
        self.flow = FlowLayout(self.box, spacing=SPACING)
        self.flow.setContentsMargins(4, SPACING, 4, SPACING)
        self.setWidget(self.box)
        self.cards: dict[tuple[int, str], PredictionCard] = {}
        self.order: list[PredictionCard] = []
        self.menu_extras: list = []  # see ClassifyPage.menu_extras
        self.explain = None  # callback(card, class name): a heatmap for that card (set by the page)

    def add(self, request: int, path: str, detection: bool = False) -> PredictionCard:
        card = DetectionCard(path) if detection else PredictionCard(path)
        card.menu_extras = self.menu_extras
        card.explain = None if detection else self.explain
        self.cards[(request, path)] = card
        self.order.append(card)
        self.flow.addWidget(card)
        QTimer.singleShot(0, lambda: card.isVisible() and self.ensureWidgetVisible(card))
        return card

    def show_answer(self, request: int, answer, detection: bool) -> None:
        card = self.cards.get((request, answer.path))
        if card is None:
            card = self.add(request, answer.path, detection)
        card.show_result(answer)

    def mark_waiting(self, text: str) -> None:
        """Cards still waiting when their request ended (stopped, failed): say so, never leave them empty."""
        for card in self.order:
            if card.result is None:
                card.verdict.setText(text)

    def drop_waiting(self) -> None:
        """Remove cards that will get no answer (a failed detection leaves no empty card)."""
        for key, card in list(self.cards.items()):
            if card.result is None:
                self.flow.removeWidget(card)
                card.deleteLater()
                del self.cards[key]
                self.order.remove(card)

    def clear(self, keep_waiting: bool = False) -> None:
        """Remove the cards; `keep_waiting`: not the ones still waiting for an answer (asked for
        just before another model took over, they will show its answer)."""
        for key, card in list(self.cards.items()):
            if keep_waiting and card.result is None:
                continue
            self.flow.removeWidget(card)
            card.deleteLater()
            del self.cards[key]
            self.order.remove(card)
