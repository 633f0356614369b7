"""Human-readable Markdown cards attached to an artifact version."""

from __future__ import annotations

from headwater.errors import TypeMismatchError


class Card:
    """A Markdown card. ``kind`` is ``"model"`` or ``"data"``; ``text`` is the Markdown."""

    __slots__ = ("kind", "text")
    kind: str
    text: str

    def __init__(self, kind: str, text: str) -> None:
        if not isinstance(text, str):
            raise TypeMismatchError(
                f"a card's text must be a Markdown str, got {type(text).__name__}; pass the "
                "Markdown itself, e.g. ModelCard('# Churn model\\nAUC 0.91')"
            )
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "text", text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("cards are immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Card) and (self.kind, self.text) == (other.kind, other.text)

    def __hash__(self) -> int:
        return hash((self.kind, self.text))

    def __repr__(self) -> str:
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"{type(self).__name__}({first[:60]!r})"

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "text": self.text}

    @staticmethod
    def from_dict(body: dict[str, str]) -> Card:
        cls = {"model": ModelCard, "data": DataCard}.get(body["kind"])
        return cls(body["text"]) if cls else Card(body["kind"], body["text"])


class ModelCard(Card):
    """A model card::

    Model.create_from(model, ModelCard("# Churn model\\nAUC 0.91 on the March holdout"))
    """

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__("model", text)


class DataCard(Card):
    """A data card, describing a dataset version."""

    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__("data", text)
