"""Triggers and schedules: when a launch plan starts its workflow by itself.

One module per kind (``artifact``, ``event``, ``finish``, ``composite`` for AnyOf/AllOf,
``schedules``); each trigger turns into a JSON ``spec`` whose ``"kind"`` names the engine
module that evaluates it (``headwater.engine.kinds``). These classes only declare and
validate; what an event means for them is the engine's business.
"""

from headwater.definitions.triggers.artifact import OnArtifact
from headwater.definitions.triggers.base import Trigger, binding_spec, jsonable
from headwater.definitions.triggers.composite import MAX_WINDOW, AllOf, AnyOf
from headwater.definitions.triggers.concurrency import ConcurrencyPolicy
from headwater.definitions.triggers.event import OnEvent, parameters_spec
from headwater.definitions.triggers.finish import FINISH_EVENTS, OnFinish
from headwater.definitions.triggers.schedules import CronSchedule, FixedRate

# The name this had while private to one module (``headwater.flows`` still imports it).

__all__ = [
    "FINISH_EVENTS",
    "MAX_WINDOW",
    "AllOf",
    "AnyOf",
    "ConcurrencyPolicy",
    "CronSchedule",
    "FixedRate",
    "OnArtifact",
    "OnEvent",
    "OnFinish",
    "Trigger",
    "binding_spec",
    "jsonable",
    "parameters_spec",
]
