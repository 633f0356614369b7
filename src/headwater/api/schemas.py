"""Every request and response body of the HTTP API.

The records it returns (executions, artifact versions, launch plans, events, decisions,
lineage) are the wire schema of ``headwater.schemas``, re-exported here; the engine's handles
produce them and client mode parses them, so every side shows the same fields.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from headwater.definitions.storable import check_strings
from headwater.schemas import (
    ArtifactVersion,
    Card,
    Decision,
    Event,
    Execution,
    LaunchPlan,
    Lineage,
    LineageEdge,
    LineageNode,
    NodeExecution,
    PlanDecisions,
    ReplayedDecision,
    Wire,
)

__all__ = [  # the records, re-exported for the routes
    "ArtifactVersion",
    "Card",
    "Decision",
    "Event",
    "Execution",
    "LaunchPlan",
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "NodeExecution",
    "PlanDecisions",
    "ReplayedDecision",
    "Wire",
]


class WireIn(Wire):
    """A request body: every string in it must be storable text (UserInputError, a 400
    naming the field, for NUL or a lone surrogate)."""

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        return check_strings(data, "body")


class ErrorDetail(Wire):
    type: str
    message: str
    index: int | None = None


class ErrorBody(Wire):
    error: ErrorDetail


class Health(Wire):
    status: str
    database: str
    reason: str | None = None  # with 503: why writes would fail now
    roles: dict[str, str] | None = None  # in `headwater up`: reactor/scheduler leader|standby


# -- events ------------------------------------------------------------------------------
class PlainEvent(Wire):
    """An event in Headwater's plain JSON form."""

    name: str = Field(examples=["data.updated"])
    payload: dict[str, Any] | None = None
    id: str | None = None
    source: str | None = None
    subject: str | None = None
    time: str | float | None = Field(None, description="RFC 3339 or seconds since the epoch")
    project: str | None = None
    domain: str | None = None
    attributes: dict[str, Any] | None = None


class PlainBatch(Wire):
    events: list[PlainEvent]


class StructuredCloudEvent(BaseModel):
    """A CloudEvent 1.0 in the JSON event format (extensions allowed)."""

    model_config = ConfigDict(extra="allow")
    specversion: str = Field(examples=["1.0"])
    id: str
    source: str
    type: str
    subject: str | None = None
    time: str | None = None
    datacontenttype: str | None = None
    data: dict[str, Any] | None = None


class EventsAccepted(Wire):
    accepted: int = Field(description="how many events the request held")
    ids: list[str] = Field(description="the id of every event, in request order")
    duplicates: list[str] = Field(
        description="ids whose source and id were seen before: the same event, stored once"
    )
    redelivered: bool = Field(
        False,
        description="true when this webhook-id was delivered before: nothing was stored again",
    )


class ReplayRequest(WireIn):
    """Deliver past events (``since`` <= time < ``until``) again to one active launch plan."""

    launch_plan: str = Field(examples=["on_sensor"])
    since: datetime = Field(description="RFC 3339 (a time without an offset is UTC)")
    until: datetime | None = Field(None, description="exclusive; RFC 3339")
    project: str | None = Field(None, description="the launch plan's project (server default)")
    domain: str | None = Field(None, description="the launch plan's domain (server default)")


# -- artifacts ---------------------------------------------------------------------------
class CardIn(WireIn):
    kind: str = Field("data", pattern="^(data|model)$")
    text: str


class ArtifactCreate(WireIn):
    """Publish a version from outside any workflow; ``value`` is stored as JSON."""

    name: str = Field(examples=["daily_sales"])
    value: Any = None
    partitions: dict[str, str] = {}
    time_partition: str | None = Field(None, description="RFC 3339 date or timestamp")
    cards: list[CardIn] = []
    description: str = ""
    partition_keys: list[str] | None = Field(
        None, description="the declared partition keys (default: the keys of `partitions`)"
    )
    granularity: str | None = Field(
        None,
        pattern="^(minute|hour|day|month)$",
        description="declares the artifact time partitioned, cut to this (default: day "
        "when `time_partition` is given)",
    )


# -- executions --------------------------------------------------------------------------
class Relaunch(WireIn):
    inputs: dict[str, Any] = Field({}, description="inputs to override, as JSON values")
    text_inputs: dict[str, str] = Field(
        {},
        description="inputs to override as command-line text (`-i k=v`), converted to each "
        "input's declared type; paths (File, Directory, DataFrame, ...) are refused",
    )


# -- launch plans and registration -------------------------------------------------------
class Activate(WireIn):
    version: str | None = None


class Registration(WireIn):
    module: str | None = Field(
        None, description="the dotted name of the module to register, as found in `files`"
    )
    files: dict[str, str] | None = Field(
        None,
        description="the code snapshot: relative POSIX path -> source text of every .py file "
        "(the module's file, or every .py file of its top-level package)",
    )
    root: str = Field("", description="where the files came from (shown, never used)")
    path: str | None = Field(
        None,
        description="refused: the server never imports a path on its machine; upload the "
        "code in `module` and `files` (`headwater register FILE` with HEADWATER_API_URL set)",
    )
    project: str | None = None
    domain: str | None = None
    activate: bool | Literal["all"] | list[str] = Field(
        False,
        description="true: activate the launch plans that have a trigger or schedule; "
        '"all": every launch plan; a list: the launch plans of these names',
    )


class Registered(Wire):
    model_config = ConfigDict(extra="allow")
    name: str
    kind: str
    version: str
    project: str
    domain: str


class RegistrationResult(Wire):
    registered: list[Registered]
    warnings: list[str] = Field(
        [], description="triggers listening to an artifact, event or workflow nothing declares"
    )
