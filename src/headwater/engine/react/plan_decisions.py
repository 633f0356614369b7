"""A launch plan's recent decisions: for each event one of its versions listened to, whether
it fired (and the execution it queued) or why not, newest first and paged by decision id.

Decisions are not indexed by launch plan (that slowed the reactor's writes, see migration
0004), so one call reads at most ``WINDOWS`` windows of ``WINDOW`` decisions of every plan
below its starting point, and ``next_before`` says where to go on from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from headwater.errors import NotFoundError, UserInputError
from headwater.storage import launch_plans as plan_rows
from headwater.storage import trigger_decisions as decision_rows

if TYPE_CHECKING:
    from headwater import schemas
    from headwater.instance import Instance

WINDOW = 20_000  # decisions (of every plan) one query walks
WINDOWS = 5  # windows one call walks at most while it has found fewer than asked
MAX_LIMIT = 200


@dataclass(frozen=True)
class PlanDecision:
    """What the reactor decided about one event for a version of the launch plan."""

    launch_plan: str
    launch_plan_version: str
    trigger: str
    outcome: str
    reason: str
    execution_id: str | None
    event_id: str
    event_name: str
    event_source: str
    decided_at: datetime

    @property
    def fired(self) -> bool:
        return self.outcome == "fired"

    @classmethod
    def from_model(cls, model: schemas.PlanDecision) -> PlanDecision:
        """The decision a wire model describes."""
        body: dict[str, Any] = model.model_dump()
        body["decided_at"] = datetime.fromisoformat(model.decided_at)
        return cls(**body)

    def to_model(self) -> schemas.PlanDecision:
        """The wire form (what the API returns)."""
        from headwater import schemas

        return schemas.PlanDecision(
            launch_plan=self.launch_plan,
            launch_plan_version=self.launch_plan_version,
            trigger=self.trigger,
            outcome=self.outcome,
            reason=self.reason,
            execution_id=self.execution_id,
            event_id=self.event_id,
            event_name=self.event_name,
            event_source=self.event_source,
            decided_at=self.decided_at.isoformat(),
        )


@dataclass(frozen=True)
class DecisionPage:
    """Decisions newest first; pass ``next_before`` as ``before`` for older ones (None: there
    are none left)."""

    decisions: list[PlanDecision] = field(default_factory=list)
    next_before: int | None = None

    @classmethod
    def from_model(cls, model: schemas.PlanDecisions) -> DecisionPage:
        return cls([PlanDecision.from_model(d) for d in model.decisions], model.next_before)

    def to_model(self) -> schemas.PlanDecisions:
        from headwater import schemas

        return schemas.PlanDecisions(
            decisions=[d.to_model() for d in self.decisions], next_before=self.next_before
        )


def check_page(limit: int, before: int | None) -> None:
    """UserInputError naming the bad argument."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UserInputError(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    if before is not None and before < 1:
        raise UserInputError(f"before must be a decision id (1 or more), got {before}")


def recent(
    inst: Instance,
    name: str,
    project: str,
    domain: str,
    limit: int = 20,
    before: int | None = None,
) -> DecisionPage:
    """The decisions about launch plan ``name`` (any version), newest first, with ids below
    ``before`` (None: from the newest). NotFoundError when there is no such plan."""
    check_page(limit, before)
    found: list[decision_rows.PlanEventDecisionRow] = []
    with inst.db.read() as tx:
        versions = {
            r.plan.id: r.plan.version for r in plan_rows.versions_of(tx, project, domain, name)
        }
        if not versions:
            raise NotFoundError(
                f"no launch plan {name!r} in {project}/{domain}; list them with "
                "`headwater launchplans list`"
            )
        top = decision_rows.max_id(tx) + 1 if before is None else before
        for _ in range(WINDOWS):
            if top <= 1 or len(found) >= limit:
                break
            found += decision_rows.decisions_for_launch_plans(
                tx,
                launch_plan_ids=list(versions),
                before_id=top,
                window=WINDOW,
                limit=limit - len(found),
            )
            top = found[-1].decision.id if len(found) >= limit else top - WINDOW
    decisions = [
        PlanDecision(
            name,
            versions[r.decision.launch_plan_id],
            r.decision.trigger_path,
            r.decision.outcome,
            r.decision.reason,
            r.decision.execution_id,
            r.decision.event_id,
            r.event_name,
            r.event_source,
            datetime.fromtimestamp(r.decision.created_at, UTC),
        )
        for r in found
    ]
    return DecisionPage(decisions, top if top > 1 else None)
