"""storage/artifact_versions.py: immutable versions, the latest-version lookups and search."""

from __future__ import annotations

import json

import pytest

from headwater.storage import artifact_versions as versions
from headwater.storage import artifacts
from headwater.storage.artifact_versions import ArtifactVersionRow

from ._versions import INTEGRITY_ERRORS, add_cards, add_execution, add_version, migrated


@pytest.fixture
def db(database_url):
    yield from migrated(database_url)


def _art(db, name="model", project="proj", domain="dev"):
    with db.read() as tx:
        row = artifacts.get_artifact(tx, project, domain, name)
    assert row is not None
    return row.id


def test_a_version_reads_back_with_its_artifact(db):
    with db.transaction() as tx:
        add_execution(tx, "ex1")
        vid = add_version(
            tx,
            partitions={"region": "eu", "kind": "a"},
            time_partition="2026-01-02",
            value={"format": "json", "value": [1, 2], "type": "list"},
            execution_id="ex1",
            now=123.5,
        )
    with db.read() as tx:
        row = versions.get_version(tx, _art(db), "1")
    assert isinstance(row, ArtifactVersionRow)
    assert row.id == vid and row.version == "1"
    assert (row.project, row.domain, row.name) == ("proj", "dev", "model")
    assert json.loads(row.spec)["partition_keys"] == ["kind", "region"]
    assert row.partitions == json.dumps({"kind": "a", "region": "eu"}, sort_keys=True)
    assert row.partition_key == "kind=a&region=eu"
    assert row.time_partition == "2026-01-02"
    assert json.loads(row.value) == {"format": "json", "value": [1, 2], "type": "list"}
    assert (row.execution_id, row.node_id, row.output_name) == ("ex1", "n0", "o0")
    assert row.created_at == 123.5


def test_missing_versions_read_as_none_or_nothing(db):
    with db.transaction() as tx:
        vid = add_version(tx)
        other = add_version(tx, "other")
    art = _art(db)
    with db.read() as tx:
        assert versions.get_version(tx, art, "2") is None
        assert versions.get_version(tx, art + 1000, "1") is None
        assert versions.get_versions_by_id(tx, []) == []
        found = versions.get_versions_by_id(tx, [vid, other + 1000, other])
        assert sorted(r.id for r in found) == [vid, other]
        assert versions.versions_of_execution(tx, "nobody") == []
        assert versions.latest_value_by_name(tx, name="nothing") is None
        assert versions.find_latest(tx, art, {}, "2020-01-01", False) is None
        assert versions.find_latest(tx, art + 1000, {}, None, False) is None


def test_versions_are_numbered_per_artifact_across_partitions(db):
    with db.transaction() as tx:
        for region in ("eu", "us", "eu"):
            add_version(tx, partitions={"region": region})
        add_version(tx, "other", partitions={"region": "eu"})
    with db.read() as tx:
        found = versions.search_versions(
            tx,
            name=None,
            partitions={},
            since=None,
            until=None,
            project=None,
            domain=None,
            limit=10,
        )
    assert [(r.name, r.version) for r in found] == [
        ("other", "1"),
        ("model", "3"),
        ("model", "2"),
        ("model", "1"),
    ]


def test_a_version_number_is_taken_once_per_artifact(db):
    with db.transaction() as tx:
        add_version(tx)
    art = _art(db)
    with pytest.raises(INTEGRITY_ERRORS), db.transaction() as tx:
        versions.insert_version(
            tx,
            artifact_id=art,
            version="1",
            partitions={},
            partition_key="",
            time_partition=None,
            value={},
            execution_id=None,
            node_id=None,
            output_name=None,
            now=1.0,
        )
    with db.read() as tx:
        assert len(versions.get_versions_by_id(tx, list(range(1, 10)))) == 1


def test_latest_is_the_newest_version(db):
    with db.transaction() as tx:
        ids = [add_version(tx, "plain") for _ in range(3)]
        add_version(tx, "another")
    art = _art(db, "plain")
    with db.read() as tx:
        latest = versions.find_latest(tx, art, {}, None, False)
    assert latest is not None and (latest.id, latest.version) == (ids[-1], "3")


def test_latest_by_partitions_some_keys_or_all(db):
    made = {}
    with db.transaction() as tx:
        for i, (region, kind) in enumerate(
            [("eu", "a"), ("us", "a"), ("eu", "b"), ("eu", "a"), ("us", "b")]
        ):
            made[i] = add_version(tx, partitions={"region": region, "kind": kind})
    art = _art(db)

    def latest(parts, all_keys=False, key=""):
        with db.read() as tx:
            row = versions.find_latest(tx, art, parts, None, all_keys, key)
        return None if row is None else row.id

    assert latest({"region": "eu"}) == made[3]
    assert latest({"kind": "b"}) == made[4]
    assert latest({"region": "us", "kind": "a"}) == made[1]  # two keys through partitions
    assert latest({"region": "eu", "kind": "b"}, True, "kind=b&region=eu") == made[2]
    assert latest({"region": "asia"}) is None
    assert latest({"region": "us", "kind": "c"}, True, "kind=c&region=us") is None


def test_latest_within_a_time_partition(db):
    with db.transaction() as tx:
        jan = add_version(tx, partitions={"region": "eu"}, time_partition="2026-01-01")
        add_version(tx, partitions={"region": "eu"}, time_partition="2026-02-01")
        add_version(tx, partitions={"region": "us"}, time_partition="2026-01-01")
    art = _art(db)
    with db.read() as tx:
        by_key = versions.find_latest(tx, art, {"region": "eu"}, "2026-01-01", True, "region=eu")
        by_partition = versions.find_latest(tx, art, {"region": "eu"}, "2026-01-01", False)
        any_region = versions.find_latest(tx, art, {}, "2026-01-01", False)
        none = versions.find_latest(tx, art, {"region": "eu"}, "2026-03-01", False)
    assert by_key is not None and by_key.id == jan
    assert by_partition is not None and by_partition.id == jan
    assert any_region is not None and any_region.partitions == '{"region": "us"}'
    assert none is None


def _search(db, **given):
    args = {
        "name": None,
        "partitions": {},
        "since": None,
        "until": None,
        "project": None,
        "domain": None,
        "limit": 100,
        **given,
    }
    with db.read() as tx:
        return [(r.name, r.version) for r in versions.search_versions(tx, **args)]


def test_search_filters_by_name_and_wildcards(db):
    with db.transaction() as tx:
        for name in ("a_b", "axb", "a%b", "model"):
            add_version(tx, name)
    assert _search(db, name="axb") == [("axb", "1")]
    assert _search(db, name="a_*") == [("a_b", "1")]  # _ and % are literal, * is the wildcard
    assert _search(db, name="a%*") == [("a%b", "1")]
    assert _search(db, name="a*b") == [("a%b", "1"), ("axb", "1"), ("a_b", "1")]
    assert _search(db, name="*") == _search(db)
    assert _search(db, name="nothing*") == []


def test_search_filters_by_partitions_project_and_domain(db):
    with db.transaction() as tx:
        eu_a = add_version(tx, partitions={"region": "eu", "kind": "a"})
        add_version(tx, partitions={"region": "us", "kind": "a"})
        eu_b = add_version(tx, partitions={"region": "eu", "kind": "b"})
        p2 = add_version(tx, partitions={"region": "eu", "kind": "a"}, project="p2")
        prod = add_version(tx, partitions={"region": "eu", "kind": "a"}, domain="prod")

    def ids(**given):
        args = {"name": None, "since": None, "until": None, "limit": 100}
        args = {"project": None, "domain": None, "partitions": {}, **args, **given}
        with db.read() as tx:
            return [r.id for r in versions.search_versions(tx, **args)]

    assert ids(partitions={"region": "eu"}, project="proj", domain="dev") == [eu_b, eu_a]
    assert ids(partitions={"region": "eu", "kind": "a"}, project="proj") == [prod, eu_a]
    assert ids(partitions={"region": "eu", "kind": "a"}) == [prod, p2, eu_a]
    assert ids(project="p2") == [p2]
    assert ids(domain="prod", partitions={"region": "us"}) == []


def test_search_by_creation_time_is_since_inclusive_until_exclusive(db):
    with db.transaction() as tx:
        for t in (10.0, 20.0, 30.0, 40.0):
            add_version(tx, now=t)
    assert _search(db, since=20.0, until=40.0) == [("model", "3"), ("model", "2")]
    assert _search(db, since=40.0) == [("model", "4")]
    assert _search(db, until=10.0) == []


def test_search_is_newest_first_and_limited(db):
    with db.transaction() as tx:
        for _ in range(5):
            add_version(tx)
    assert _search(db, limit=2) == [("model", "5"), ("model", "4")]


def test_versions_of_an_execution_oldest_first(db):
    with db.transaction() as tx:
        add_execution(tx, "ex1")
        add_execution(tx, "ex2")
        first = add_version(tx, "b", execution_id="ex1")
        add_version(tx, "c", execution_id="ex2")
        second = add_version(tx, "a", execution_id="ex1")
    with db.read() as tx:
        found = versions.versions_of_execution(tx, "ex1")
    assert [(r.id, r.name) for r in found] == [(first, "b"), (second, "a")]


def test_latest_value_by_name_in_any_project(db):
    with db.transaction() as tx:
        add_version(tx, value={"type": "int", "value": 1})
        add_version(tx, value={"type": "str", "value": "x"}, project="p2")
        add_version(tx, "other", value={"type": "float", "value": 1.0})
    with db.read() as tx:
        latest = versions.latest_value_by_name(tx, name="model")
    assert latest is not None and json.loads(latest) == {"type": "str", "value": "x"}


def _series(db, **given):
    args = {"name": None, "partitions": {}, "since": None, "until": None, "limit": 100}
    args = {"project": None, "domain": None, "latest": True, **args, **given}
    with db.read() as tx:
        return [r.id for r in versions.search_versions(tx, **args)]


def test_latest_keeps_the_newest_version_of_each_series(db):
    jan, feb = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
    with db.transaction() as tx:
        eu = [add_version(tx, partitions={"region": "eu"}) for _ in range(3)]
        us = add_version(tx, partitions={"region": "us"})
        eu_jan = [add_version(tx, partitions={"region": "eu"}, time_partition=jan) for _ in "ab"]
        eu_feb = add_version(tx, partitions={"region": "eu"}, time_partition=feb)
        eu_again = add_version(tx, partitions={"region": "eu"})
        other = add_version(tx, "other", partitions={"region": "eu"})
    # a series is (artifact, partitions, time partition); no time partition is a series too
    assert _series(db) == [other, eu_again, eu_feb, eu_jan[1], us]
    assert _series(db, name="model", partitions={"region": "eu"}) == [eu_again, eu_feb, eu_jan[1]]
    assert eu[2] not in _series(db)
    # paging: disjoint pages that together are the whole list, in the same order
    pages = [_series(db, limit=2, offset=o) for o in (0, 2, 4, 6)]
    assert pages == [[other, eu_again], [eu_feb, eu_jan[1]], [us], []]
    # without latest every version is a row, and offset pages them the same way
    assert _series(db, latest=False, limit=3, offset=1) == [eu_again, eu_feb, eu_jan[1]]


def test_time_partition_range_is_inclusive_and_skips_versions_without_one(db):
    with db.transaction() as tx:
        made = {
            day: add_version(tx, time_partition=f"2026-01-{day:02d}T00:00:00Z")
            for day in (1, 2, 3, 4)
        }
        add_version(tx)  # no time partition: outside every range
        late = add_version(tx, time_partition="2026-01-04T23:00:00Z")
    within = _series(db, time_from="2026-01-02T00:00:00Z", time_to="2026-01-04T00:00:00Z")
    assert within == [made[4], made[3], made[2]]
    assert _series(db, time_from="2026-01-04T00:00:00Z") == [late, made[4]]
    assert _series(db, time_to="2026-01-01T23:59:59Z") == [made[1]]
    assert _series(db, time_from="2026-01-05T00:00:00Z") == []


def test_card_words_match_any_case_every_word_and_literally(db):
    with db.transaction() as tx:
        resnet = add_version(tx, "vision")
        add_cards(
            tx,
            resnet,
            [
                {"kind": "model", "text": "# ResNet-50\nTop-1 ACCURACY 0.76"},
                {"kind": "data", "text": "trained on 100% of ImageNet_1k"},
            ],
        )
        plain = add_version(tx, "text_model")
        add_cards(tx, plain, [{"kind": "model", "text": "accuracy 0.5"}])
        add_version(tx, "no_card")
    assert _series(db, card_words=["accuracy"]) == [plain, resnet]
    assert _series(db, card_words=["RESNET", "accuracy"]) == [resnet]  # every word, any case
    assert _series(db, card_words=["imagenet", "resnet"]) == [resnet]  # words in two cards
    assert _series(db, card_words=["100%"]) == [resnet]
    assert _series(db, card_words=["imagenet_1k"]) == [resnet]
    assert _series(db, card_words=["1%"]) == []  # % is literal: as a wildcard it would match
    assert _series(db, card_words=["image_et"]) == []  # _ is literal too
    assert _series(db, card_words=["missing"]) == []


def test_latest_with_card_words_is_the_newest_matching_version(db):
    with db.transaction() as tx:
        first = add_version(tx)
        add_cards(tx, first, [{"kind": "model", "text": "blessed"}])
        second = add_version(tx)
        add_cards(tx, second, [{"kind": "model", "text": "draft"}])
    assert _series(db, card_words=["blessed"]) == [first]
    assert _series(db, card_words=["draft"]) == [second]
    assert _series(db) == [second]


def test_latest_with_card_words_keeps_each_series_apart(db):
    jan = "2026-01-01T00:00:00Z"
    card = [{"kind": "model", "text": "Blessed by review"}]
    with db.transaction() as tx:
        eu_old = add_version(tx, partitions={"region": "eu"})
        add_cards(tx, eu_old, card)
        eu_new = add_version(tx, partitions={"region": "eu"})
        add_cards(tx, eu_new, [{"kind": "model", "text": "blessed"}, {"kind": "data", "text": "x"}])
        add_version(tx, partitions={"region": "eu"})  # the series' newest has no card
        us = add_version(tx, partitions={"region": "us"})
        add_cards(tx, us, card)
        eu_jan = add_version(tx, partitions={"region": "eu"}, time_partition=jan)
        add_cards(tx, eu_jan, card)
        other = add_version(tx, "other", partitions={"region": "eu"})
        add_cards(tx, other, card)
        two_cards = add_version(tx, "split")
        add_cards(
            tx, two_cards, [{"kind": "model", "text": "blessed"}, {"kind": "data", "text": "x"}]
        )
    # one row per (artifact, partitions, time partition): its newest version with the word
    assert _series(db, card_words=["blessed"]) == [two_cards, other, eu_jan, us, eu_new]
    assert _series(db, card_words=["blessed"], name="model", partitions={"region": "eu"}) == [
        eu_jan,
        eu_new,
    ]
    assert _series(db, card_words=["blessed"], time_from=jan) == [eu_jan]
    # words held by two different cards of one version
    assert _series(db, card_words=["blessed", "x"]) == [two_cards, eu_new]
    assert _series(db, card_words=["review"], limit=2, offset=1) == [eu_jan, us]
    # with a creation time the versions are grouped instead: the same answer
    assert _series(db, card_words=["blessed"], since=0.0) == _series(db, card_words=["blessed"])


def test_latest_matches_partitions_exactly(db):
    with db.transaction() as tx:
        eu = add_version(tx, partitions={"region": "eu", "kind": "a&b=c"})
        eu2 = add_version(tx, partitions={"region": "eu2", "kind": "a"})
        upper = add_version(tx, partitions={"region": "EU", "kind": "a"})
        spaced = add_version(tx, partitions={"region": "eu west", "kind": "é"})
    assert _series(db, partitions={"region": "eu"}) == [eu]  # not eu2, nor EU
    assert _series(db, partitions={"region": "EU"}) == [upper]
    assert _series(db, partitions={"kind": "a&b=c"}) == [eu]
    assert _series(db, partitions={"kind": "a"}) == [upper, eu2]
    assert _series(db, partitions={"region": "eu west", "kind": "é"}) == [spaced]
    assert _series(db, partitions={"kind": "b=c"}) == []
    assert _series(db, partitions={"region": "eu", "kind": "a"}) == []
    for given in ({"region": "eu"}, {"kind": "a"}, {"kind": "é"}):  # as every version matches
        assert _series(db, partitions=given, latest=False) == _series(db, partitions=given)


def test_a_version_by_name_comes_with_its_tombstone(db):
    with db.transaction() as tx:
        vid = add_version(tx)
        add_version(tx)
        tx.execute(
            "UPDATE artifact_versions SET purged_at = 50.0, purged_by = 'keep-1' WHERE id = :i",
            {"i": vid},
        )
    with db.read() as tx:
        purged = versions.get_named_version(tx, "proj", "dev", "model", "1")
        kept = versions.get_named_version(tx, "proj", "dev", "model", "2")
        by_id = versions.get_version(tx, _art(db), "2")
        assert versions.get_named_version(tx, "proj", "dev", "model", "3") is None
        assert versions.get_named_version(tx, "proj", "other", "model", "1") is None
    assert purged is not None and purged[0].id == vid
    assert purged[1] is not None and (purged[1].purged_at, purged[1].purged_by) == (50.0, "keep-1")
    assert kept == (by_id, None)
