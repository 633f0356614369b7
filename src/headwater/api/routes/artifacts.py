"""``/api/v1/artifacts``: search, get, create and lineage of artifact versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query

from headwater import client
from headwater.api import cursors, schemas
from headwater.api.access import Principal, access
from headwater.api.deps import GUARD, MAX_ROW_NUMBER, instance
from headwater.definitions.artifact import Artifact
from headwater.definitions.cards import Card
from headwater.definitions.names import Granularity
from headwater.engine.publish import lineage as lineage_api
from headwater.errors import UserInputError
from headwater.instance import Instance

router = APIRouter(prefix="/api/v1/artifacts", tags=["artifacts"], dependencies=GUARD)

URI = Query(
    description="an hw:// URI: exact (hw://p/d/name@version) or a query (hw://p/d/name?k=v)",
    examples=["hw://default/development/daily_sales@1"],
)


def _partitions(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserInputError(f"partition {item!r} is not KEY=VALUE, e.g. region=EU")
        out[key] = value
    return out


@router.get("", response_model=list[schemas.ArtifactVersion])
def search(
    name: str | None = Query(None, description="artifact name; '*' is a wildcard"),
    partition: list[str] = Query([], description="KEY=VALUE, repeatable"),
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    project: str | None = None,
    domain: str | None = None,
    time_from: str | None = Query(
        None, description="time partition from (inclusive): ISO date or datetime"
    ),
    time_to: str | None = Query(
        None, description="time partition to (inclusive; a date takes in the whole day)"
    ),
    text: str | None = Query(None, description="words every match has in a card (any case)"),
    latest: bool = Query(
        False, description="only the newest match per (artifact, partitions, time partition)"
    ),
    offset: int = Query(0, ge=0, le=MAX_ROW_NUMBER, description="results to skip (paging)"),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> list[schemas.ArtifactVersion]:
    """Versions newest first (a token for one project sees only that project)."""
    if project is None and not who.all_projects:
        project = who.project
    with inst.use():
        found = client.search_artifacts(
            name,
            _partitions(partition),
            since,
            until,
            limit,
            project,
            domain,
            time_from=time_from,
            time_to=time_to,
            text=text,
            latest=latest,
            offset=offset,
        )
        return [v.to_model() for v in found]


@router.get("/get", response_model=schemas.ArtifactVersion)
def get(
    uri: str = URI, inst: Instance = Depends(instance), who: Principal = Depends(access)
) -> schemas.ArtifactVersion:
    """One version: the exact one, or the latest matching a query URI."""
    with inst.use():
        version = client.get_artifact(uri)
        who.check_project(version.project)
        return version.to_model()


LINEAGE_PAGE_NODES = 10_000


@router.get("/lineage", response_model=schemas.Lineage)
def lineage(
    uri: str = URI,
    direction: str = Query("both", pattern="^(upstream|downstream|both)$"),
    depth: str = Query("3", description="generations to walk each way, or 'all'"),
    limit: int = Query(
        LINEAGE_PAGE_NODES,
        ge=1,
        le=100_000,
        description="nodes per page: a page ends with the generation that reaches this many",
    ),
    cursor: str | None = Query(None, description="the previous page's next_cursor"),
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.Lineage:
    """The lineage graph around a version: executions and versions, consumed/produced edges,
    walked generation by generation and paged: while ``next_cursor`` is not null, ask again
    with it (and the same ``uri``) for more. A node may appear on more than one page."""
    with inst.use():
        version = client.get_artifact(uri)
        who.check_project(version.project)
    if cursor is None:
        state = lineage_api.start(inst, version, direction, depth)
    else:
        state = lineage_api.WalkState.from_dict(cursors.decode(cursor))
        if state.root_version != version.id:
            raise UserInputError(
                f"this cursor continues the lineage of another version than {version.uri}; "
                "pass the uri of the first page (an exact hw://...@version)"
            )
    nodes: list[Any] = []
    edges: list[Any] = []
    following = None
    for page in lineage_api.walk(inst, state):
        nodes += page.nodes
        edges += page.edges
        following = page.next
        if following is None or len(nodes) >= limit:
            break
    else:
        following = None
    graph = lineage_api.LineageGraph(version.uri, state.direction, state.depth, nodes, edges)
    return graph.to_model(None if following is None else cursors.encode(following.to_dict()))


@router.post("", status_code=201, response_model=schemas.ArtifactVersion)
def create(
    body: schemas.ArtifactCreate,
    inst: Instance = Depends(instance),
    who: Principal = Depends(access),
) -> schemas.ArtifactVersion:
    """Publish a version from outside any workflow (it triggers like any other version)."""
    who.check_project(inst.project)
    tp = None
    if body.time_partition is not None:
        try:
            tp = datetime.fromisoformat(body.time_partition)
        except ValueError:
            raise UserInputError(
                f"time_partition {body.time_partition!r} is not an RFC 3339 date or timestamp"
            ) from None
    keys = list(body.partitions) if body.partition_keys is None else body.partition_keys
    granularity = None if body.granularity is None else Granularity(body.granularity)
    artifact = Artifact(
        body.name,
        partition_keys=keys,
        time_partitioned=tp is not None,
        time_partition_granularity=granularity,
        description=body.description,
    )
    cards = [Card.from_dict(c.model_dump()) for c in body.cards]
    with inst.use():
        version = client.create_artifact(
            artifact, body.value, time_partition=tp, cards=cards, **body.partitions
        )
        return version.to_model()
