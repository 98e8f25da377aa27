"""A card's Why?: the heatmap is asked of the runner (never drawn on the GUI thread) and shown on
the card that asked, if that card is still on the page."""
from __future__ import annotations

from monster_studio.app.jobs.explain import HeatmapPicture, heatmap


class CardHeatmaps:
    def __init__(self, page, owner: str) -> None:
        self.page, self.owner = page, owner
        self._asked: dict[int, object] = {}  # heatmap request id -> the card that asked
        page.cards.explain = self.explain
        page.studio.result.connect(self._on_result)

    def explain(self, card, label: str) -> None:
        key = card.result.model_key if card.result is not None else self.page.selected_key()
        request = self.page.studio.submit("explain", heatmap, card.path, label, key, owner=self.owner)
        self._asked[request.id] = card

    def _on_result(self, request, item) -> None:
        card = self._asked.pop(request.id, None)
        if card is not None and isinstance(item, HeatmapPicture) and card in self.page.cards.order:
            card.show_heatmap(item.image, item.label)
