"""Cards refuse what is not Markdown text with an error from Headwater's tree."""

from __future__ import annotations

import pytest

from headwater import Artifact, DataCard, ModelCard
from headwater.errors import TypeMismatchError


def test_a_card_needs_markdown_text():
    with pytest.raises(TypeMismatchError, match=r"must be a Markdown str, got dict; pass the"):
        ModelCard({"auc": 0.91})  # type: ignore[arg-type]
    assert ModelCard("# Churn").text == "# Churn"


def test_create_from_takes_cards_positionally_and_says_how_to_pass_the_rest():
    Sales = Artifact("sales_cards_test", partition_keys=["region"])
    with pytest.raises(TypeMismatchError, match=r"got str; pass partition values by name"):
        Sales.create_from([1], "# notes")
    assert Sales.create_from([1], DataCard("# notes"), region="EU") == [1]
