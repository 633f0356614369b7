"""Publishing artifact versions (with their event) and resolving queries and URIs to versions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from headwater.definitions.artifact import (
    Artifact,
    ArtifactQuery,
    InputRef,
    PartitionRef,
    TimePartitionRef,
)
from headwater.definitions.cards import Card
from headwater.definitions.names import (
    ArtifactURI,
    check_name,
    check_partition_value,
    normalize_time,
    parse_uri,
    partition_key_text,
    time_text,
)
from headwater.definitions.storable import (
    check_datetime,
    check_strings,
    check_text,
    check_time,
)
from headwater.engine import event_names
from headwater.errors import NoMatchError, NotFoundError, PartitionError, UserInputError
from headwater.handles import ArtifactVersion
from headwater.storage import artifact_partitions as partition_rows
from headwater.storage import artifact_versions as version_rows
from headwater.storage import artifacts as artifact_rows
from headwater.storage import cards as card_rows
from headwater.storage.db import Tx
from headwater.storage.events import insert_event

if TYPE_CHECKING:
    from headwater.instance import Instance


@dataclass(frozen=True)
class Emission:
    """What a new version will be: validated before anything is written."""

    artifact: Artifact
    partitions: dict[str, str]
    time_partition: str | None
    cards: list[Card]
    project: str
    domain: str


def prepare(
    artifact: Artifact,
    partitions: dict[str, Any],
    time_partition: Any,
    cards: list[Card],
    project: str,
    domain: str,
    where: str,
    published: bool = False,
) -> Emission:
    """Check the values against the declaration; every problem names ``where`` and the fix.

    ``published``: the version comes from ``create_artifact``, not a task output (the fix the
    message suggests differs).
    """
    artifact.check_keys(partitions)
    missing = [k for k in artifact.partition_keys if partitions.get(k) is None]
    if missing:
        keys = ", ".join(repr(k) for k in missing)
        fix = (
            f"pass it: create_artifact(artifact, value, {missing[0]}=...)"
            if published
            else f"bind it in the output annotation, e.g. Annotated[T, "
            f"Art({missing[0]}=Inputs.<input>)], or return Art.create_from(value, "
            f"{missing[0]}=...)"
        )
        raise PartitionError(
            f"{where} (artifact {artifact.name!r}) has no value for partition {keys}: {fix}"
        )
    values = {k: check_partition_value(k, partitions[k]) for k in artifact.partition_keys}
    for card in cards:
        check_text(card.text, f"{where} (artifact {artifact.name!r}): the {card.kind} card's text")
    tp = None
    if artifact.time_partitioned:
        if time_partition is None:
            fix = (
                "pass create_artifact(artifact, value, time_partition=...)"
                if published
                else "bind it in the annotation (time_partition=Inputs.x) or pass "
                "create_from(value, time_partition=...)"
            )
            raise PartitionError(
                f"{where} (artifact {artifact.name!r}) has no time partition: {fix}"
            )
        tp = time_text(normalize_time(time_partition, artifact.granularity))
    elif time_partition is not None:
        raise PartitionError(
            f"artifact {artifact.name!r} is not time partitioned; remove the "
            "time_partition or declare time_partitioned=True"
        )
    return Emission(
        artifact, values, tp, list(cards), artifact.project or project, artifact.domain or domain
    )


def write_version(
    tx: Tx,
    inst: Instance,
    em: Emission,
    literal: dict[str, Any],
    now: float,
    execution_id: str | None = None,
    node_id: str | None = None,
    output_name: str | None = None,
) -> tuple[int, str]:
    """Insert the version, its partitions, cards, its ``artifact.created`` event and one
    ``artifact.card_added`` event per card."""
    art = artifact_rows.ensure_artifact(
        tx, em.project, em.domain, em.artifact.name, em.artifact.spec(), now
    )
    version = artifact_rows.next_version(tx, art.id)
    vid = version_rows.insert_version(
        tx,
        artifact_id=art.id,
        version=version,
        partitions=em.partitions,
        partition_key=partition_key_text(em.partitions),
        time_partition=em.time_partition,
        value=literal,
        execution_id=execution_id,
        node_id=node_id,
        output_name=output_name,
        now=now,
    )
    partition_rows.insert_partitions(
        tx, version_id=vid, artifact_id=art.id, partitions=em.partitions
    )
    card_rows.insert_cards(
        tx,
        version_id=vid,
        artifact_id=art.id,
        partition_key=partition_key_text(em.partitions),
        time_partition=em.time_partition,
        cards=[c.to_dict() for c in em.cards],
    )
    uri = f"hw://{em.project}/{em.domain}/{em.artifact.name}@{version}"
    payload = {
        "uri": uri,
        "artifact": em.artifact.name,
        "version": version,
        "partitions": em.partitions,
        "time_partition": em.time_partition,
        "execution_id": execution_id,
        "node_id": node_id,
        "output": output_name,
        "type": literal.get("type"),
    }
    events = [(event_names.ARTIFACT_CREATED, payload)]
    events += [
        (event_names.ARTIFACT_CARD_ADDED, {**payload, "card": {"kind": c.kind, "position": i}})
        for i, c in enumerate(em.cards)
    ]
    for name, body in events:
        insert_event(
            tx,
            id=uuid.uuid4().hex,
            name=name,
            source=event_names.SOURCE,
            project=em.project,
            domain=em.domain,
            time=now,
            subject=uri,
            payload=body,
        )
    return vid, uri


# -- resolution ----------------------------------------------------------------------------------
def _literal_value(key: str, value: Any) -> Any:
    if isinstance(value, InputRef | PartitionRef | TimePartitionRef):
        raise UserInputError(
            f"query value for {key!r} is {value!r}, which only has a value "
            "inside a trigger or task binding; give a literal to query directly"
        )
    return value


def find(
    inst: Instance,
    project: str,
    domain: str,
    name: str,
    partitions: dict[str, str],
    time_partition: Any,
    granularity_from: Artifact | None = None,
) -> ArtifactVersion:
    """The latest version matching, or NoMatchError saying what was looked for."""
    with inst.db.read() as tx:
        art = artifact_rows.get_artifact(tx, project, domain, name)
        if art is None:
            raise NotFoundError(
                f"no artifact {name!r} in {project}/{domain}: nothing has "
                "published a version of it yet (check the name, project and "
                "domain)"
            )
        import json

        spec = json.loads(art.spec)
        declared = spec["partition_keys"]
        unknown = [k for k in partitions if k not in declared]
        if unknown:
            raise PartitionError(
                f"artifact {name!r} has no partition key "
                f"{', '.join(map(repr, unknown))} (declared: "
                f"{', '.join(declared) or 'none'})"
            )
        tp = None
        if time_partition is not None:
            from headwater.definitions.names import Granularity

            gran = (
                granularity_from.granularity
                if granularity_from
                else (Granularity(spec["granularity"]) if spec.get("granularity") else None)
            )
            tp = time_text(normalize_time(time_partition, gran))
        all_keys = bool(declared) and set(partitions) == set(declared)
        row = version_rows.find_latest(
            tx,
            art.id,
            partitions,
            tp,
            all_keys,
            partition_key_text(partitions) if all_keys else "",
        )
    if row is None:
        what = ", ".join(f"{k}={v}" for k, v in sorted(partitions.items()))
        if tp:
            what = f"{what}, time_partition={tp}" if what else f"time_partition={tp}"
        raise NoMatchError(
            f"no version of artifact {name!r} in {project}/{domain} matches "
            f"{what or 'the query'}; publish one first, or pass the input "
            "explicitly"
        )
    return ArtifactVersion(inst, row)


def resolve_query(
    inst: Instance, query: ArtifactQuery, project: str, domain: str
) -> ArtifactVersion:
    parts = {k: check_partition_value(k, _literal_value(k, v)) for k, v in query.partitions.items()}
    tp = _literal_value("time_partition", query.time_partition)
    return find(
        inst,
        query.project or query.artifact.project or project,
        query.domain or query.artifact.domain or domain,
        query.artifact.name,
        parts,
        tp,
        query.artifact,
    )


def resolve_uri(inst: Instance, uri: str | ArtifactURI) -> ArtifactVersion:
    ref = parse_uri(uri) if isinstance(uri, str) else uri
    if ref.is_query:
        return find(inst, ref.project, ref.domain, ref.name, ref.partitions, ref.time_partition)
    with inst.db.read() as tx:  # one statement: the reactor binds inputs with it
        found = version_rows.get_named_version(
            tx, ref.project, ref.domain, ref.name, ref.version or ""
        )
    row, tomb = found or (None, None)
    if row is None:
        raise NotFoundError(
            f"no artifact version {ref}: check the name and version with "
            f"`headwater artifacts list --name {ref.name}`"
        )
    if tomb is not None:  # purged by `headwater gc`: say when and why (a 404 over HTTP)
        raise NotFoundError(tomb.describe(str(ref)))
    return ArtifactVersion(inst, row)


def resolve(inst: Instance, ref: Any) -> ArtifactVersion:
    """Anything that names a version: a URI, a query, an ArtifactVersion, an Artifact (latest)."""
    if isinstance(ref, ArtifactVersion):
        return ref
    if isinstance(ref, ArtifactQuery):
        return resolve_query(inst, ref, inst.project, inst.domain)
    if isinstance(ref, Artifact):
        return resolve_query(inst, ref.query(), inst.project, inst.domain)
    if isinstance(ref, str):
        return resolve_uri(inst, ref)
    raise UserInputError(
        f"cannot find an artifact version from {type(ref).__name__}; give an "
        "hw:// URI, an Artifact query or an ArtifactVersion"
    )


def search(
    inst: Instance,
    name: str | None = None,
    partitions: dict[str, str] | None = None,
    since: Any = None,
    until: Any = None,
    limit: int = 100,
    project: str | None = None,
    domain: str | None = None,
    *,
    time_from: Any = None,
    time_to: Any = None,
    text: str | None = None,
    latest: bool = False,
    offset: int = 0,
) -> list[ArtifactVersion]:
    """Versions newest first, filtered by name (``*`` wildcards), partitions, creation time
    (``[since, until)``), time partition (``[time_from, time_to]``; a date as ``time_to``
    covers that whole day) and card text (every word of ``text``, any case). ``latest``: only
    the newest matching version of each (artifact, partitions, time partition); ``offset``
    skips that many results (paging)."""
    for field, value in (("name", name), ("project", project), ("domain", domain)):
        check_text(value, field)
    check_text(text, "text")
    if name is not None and "*" not in name:
        check_name(name)
    if not isinstance(limit, int) or not 0 < limit <= 10_000:
        raise UserInputError(f"limit must be a whole number from 1 to 10000, got {limit!r}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise UserInputError(f"offset must be a whole number from 0, got {offset!r}")
    words = text.split() if text else []
    if len(words) > MAX_CARD_WORDS:
        raise UserInputError(
            f"text has {len(words)} words; search card text with at most {MAX_CARD_WORDS}"
        )
    parts = {k: check_partition_value(k, v) for k, v in (partitions or {}).items()}
    bounds = [None if t is None else epoch_seconds(t) for t in (since, until)]
    with inst.db.read() as tx:
        found = version_rows.search_versions(
            tx,
            name=name,
            partitions=parts,
            since=bounds[0],
            until=bounds[1],
            project=project,
            domain=domain,
            limit=limit,
            time_from=None if time_from is None else time_bound(time_from, "time_from"),
            time_to=None if time_to is None else time_bound(time_to, "time_to", end=True),
            card_words=words,
            latest=bool(latest),
            offset=offset,
        )
    return [ArtifactVersion(inst, r) for r in found]


MAX_CARD_WORDS = 10  # words of one card-text search (each is one scan of the cards)


def time_bound(value: Any, field: str, end: bool = False) -> str:
    """A bound of a time-partition range as stored text (``2026-11-01T00:00:00Z``) from a
    datetime, a date or ISO text (naive means UTC). With ``end``, a date (no time of day)
    is its last second, so the range takes in that whole day."""
    from datetime import UTC, date, datetime, time

    if isinstance(value, str):
        text = value.strip()
        try:
            value = date.fromisoformat(text) if len(text) == 10 else None
            if value is None:
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise UserInputError(
                f"{field} {text!r} is not an ISO date or datetime, e.g. '2026-11-01' or "
                "'2026-11-01T13:00:00Z'"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    if not isinstance(value, datetime):
        raise UserInputError(
            f"{field} must be a datetime, date or ISO string, got {type(value).__name__}"
        )
    return time_text(check_datetime(value, field))


def epoch_seconds(value: Any) -> float:
    from datetime import UTC, date, datetime

    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()
    if isinstance(value, int | float):
        return check_time(value, "since/until")
    if isinstance(value, str):
        try:
            return epoch_seconds(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise UserInputError(f"since/until must be a datetime, date or ISO string, got {value!r}")


def publish(
    inst: Instance,
    artifact: Artifact,
    value: Any,
    *,
    time_partition: Any = None,
    cards: list[Card] | None = None,
    project: str | None = None,
    domain: str | None = None,
    **partitions: Any,
) -> ArtifactVersion:
    """Publish a version from outside any workflow (it triggers like any other version)."""
    import time

    from headwater.types import encode

    if not isinstance(artifact, Artifact):
        raise UserInputError(
            f"create_artifact needs an Artifact, got {type(artifact).__name__}; "
            "declare one with Artifact(name=...)"
        )
    for card in cards or []:
        if not isinstance(card, Card):
            raise UserInputError(
                f"cards must be ModelCard/DataCard objects, got {type(card).__name__}"
            )
    em = prepare(
        artifact,
        partitions,
        time_partition,
        list(cards or []),
        project or inst.project,
        domain or inst.domain,
        f"create_artifact({artifact.name!r})",
        published=True,
    )
    literal = encode(value, Any, inst.blobs, what=f"artifact {artifact.name!r} value")
    check_strings(literal, f"artifact {artifact.name!r} value")
    with inst.db.transaction() as tx:
        _, uri = write_version(tx, inst, em, literal, time.time())
    return resolve_uri(inst, uri)
