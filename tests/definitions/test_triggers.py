"""Triggers and launch plans: mistakes are DefinitionErrors at declaration, naming the fix."""

from __future__ import annotations

import pytest

from headwater import Artifact, DefinitionError, LaunchPlan, OnArtifact, OnEvent, OnFinish, workflow

Model = Artifact(name="model", partition_keys=["region"])


@workflow
def publish(region: str) -> str:
    return region


def test_on_names_the_allowed_values():
    with pytest.raises(DefinitionError) as err:
        OnArtifact(trigger_on=Model, on="updated")
    assert str(err.value) == (
        "OnArtifact on 'model': on='updated' is not known; use 'created' or 'card_added'"
    )


@pytest.mark.parametrize(
    "declare",
    [
        lambda: OnEvent("data updated"),
        lambda: OnEvent("data.updated", project="a/b"),
        lambda: OnFinish(publish, domain=".."),
        lambda: LaunchPlan("nightly report", publish),
    ],
)
def test_bad_names_in_a_declaration_are_definition_errors(declare):
    with pytest.raises(DefinitionError, match="is not allowed: use 1-128 letters"):
        declare()


def test_a_binding_to_an_input_the_workflow_lacks_names_its_inputs():
    with pytest.raises(
        DefinitionError, match="binds 'day', which is not an input \\(inputs: region\\)"
    ):
        LaunchPlan(
            "on_cards",
            publish,
            trigger=OnArtifact(
                trigger_on=Model, inputs={"day": Model.partitions.region}, on="card_added"
            ),
        )
