"""The wire schema: the one serialized form of Headwater's records.

Executions (with their node executions), artifact versions (with cards), launch plans,
events (with the reactor's decisions) and lineage graphs serialize only through these
pydantic models: the engine's handles produce them (``handle.to_model()``; ``to_dict()`` is
its JSON dump), the HTTP API returns them and client mode parses them with
``model_validate``. Times travel as RFC 3339 text, stored values as their literals.

Importing this package loads pydantic, never FastAPI; ``import headwater`` does not import it.
"""

from headwater.schemas._base import Wire
from headwater.schemas.artifacts import ArtifactVersion, Card
from headwater.schemas.events import Decision, Event, ReplayedDecision
from headwater.schemas.executions import Execution, NodeExecution
from headwater.schemas.graph import Graph, GraphCounts, GraphEdge, GraphNode, GraphRun, GraphWarning
from headwater.schemas.launch_plans import LaunchPlan, PlanDecision, PlanDecisions
from headwater.schemas.lineage import Lineage, LineageEdge, LineageNode

__all__ = [
    "ArtifactVersion",
    "Card",
    "Decision",
    "Event",
    "Execution",
    "Graph",
    "GraphCounts",
    "GraphEdge",
    "GraphNode",
    "GraphRun",
    "GraphWarning",
    "LaunchPlan",
    "Lineage",
    "LineageEdge",
    "LineageNode",
    "NodeExecution",
    "PlanDecision",
    "PlanDecisions",
    "ReplayedDecision",
    "Wire",
]
