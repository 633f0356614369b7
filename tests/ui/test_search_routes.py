"""The search page's time-partition range and card-text filters, and its producer column, in
process (no browser), on SQLite and PostgreSQL; the REST search agrees with the page."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

import headwater
from headwater import Artifact, DataCard
from headwater.instance import Instance
from headwater.ui import routes
from tests.api.conftest import serve

from ..engine.conftest import instance  # noqa: F401  (fixture)
from . import flows

Daily = Artifact(name="daily_sales", partition_keys=["region"], time_partitioned=True)


@pytest.fixture
def populated(instance: Instance) -> Instance:  # noqa: F811
    headwater.register("tests.ui.flows", activate=True)
    for seed, blessed in ((1, "true"), (2, "false"), (3, "true")):
        headwater.run(flows.training, seed=seed, blessed=blessed)
    for day, region, words in (
        (1, "eu", "Quarterly REVENUE by store"),
        (2, "eu", "daily revenue, refunds excluded"),
        (2, "us", "daily revenue"),
        (3, "eu", "Footfall only"),
    ):
        card = DataCard(f"# Sales {region} {day}\n\n{words}\n")
        headwater.create_artifact(
            Daily, day, time_partition=date(2026, 11, day), cards=[card], region=region
        )
    # a second version of the 1 November EU series: its latest, whose card no longer says revenue
    headwater.create_artifact(
        Daily, 10, time_partition=date(2026, 11, 1), cards=[DataCard("rewritten")], region="eu"
    )
    return instance


def _shown(text: str) -> list[str]:
    return re.findall(r'class="version-link"[^>]*>([^<]+)</a>', text)


def test_time_partition_range_keeps_the_series_inside_it(populated: Instance) -> None:
    with serve(populated) as api:
        r = api.get("/", params={"time_from": "2026-11-02", "time_to": "2026-11-02"})
        assert r.status_code == 200
        # a date as "to" takes in the whole day; both regions of 2 November
        assert _shown(r.text) == ["daily_sales@3", "daily_sales@2"]
        r = api.get("/", params={"time_from": "2026-11-02T00:00:01Z"})
        assert _shown(r.text) == ["daily_sales@4"]
        r = api.get("/", params={"time_to": "2026-11-01T23:00"})
        assert _shown(r.text) == ["daily_sales@5"]  # the series' latest version
        assert "2026-11-01 00:00" in r.text  # the time partition column
        r = api.get("/", params={"time_from": "2026-11-02", "partition": ["region=us"]})
        assert _shown(r.text) == ["daily_sales@3"]


def test_card_text_finds_the_newest_version_whose_cards_hold_every_word(
    populated: Instance,
) -> None:
    with serve(populated) as api:
        r = api.get("/", params={"text": "REVENUE daily"})
        assert r.status_code == 200
        assert _shown(r.text) == ["daily_sales@3", "daily_sales@2"]
        assert "Latest matching version" in r.text
        # the 1 November series' newest version lost the word: its older version matches
        assert _shown(api.get("/", params={"text": "quarterly"}).text) == ["daily_sales@1"]
        assert _shown(api.get("/", params={"text": "seed 3"}).text) == ["blessed_model@3"]
        empty = api.get("/", params={"text": "nowhere"})
        assert empty.status_code == 200 and "No artifact matches." in empty.text


def test_each_row_names_the_workflow_that_produced_it(populated: Instance) -> None:
    with serve(populated) as api:
        text = api.get("/", params={"name": "blessed_model"}).text
        ex = headwater.search_artifacts("blessed_model", limit=1)[0].execution_id
        assert ex is not None
        link = re.search(
            rf'<a class="producer-link" href="/executions/{ex}"[^>]*>([^<]+)</a>', text
        )
        assert link is not None and link.group(1) == "training"
        published = api.get("/", params={"name": "daily_sales", "text": "footfall"}).text
        assert "published directly" in published


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"time_from": "yesterday"}, "time_from", "not an ISO date or datetime"),
        ({"time_to": "2026-13-01"}, "time_to", "not an ISO date or datetime"),
        ({"time_from": "2026-11-03", "time_to": "2026-11-01"}, "time_to", "is before from"),
        ({"text": " ".join(f"w{i}" for i in range(11))}, "text", "at most 10"),
    ],
)
def test_a_bad_range_or_text_is_a_400_next_to_its_field(
    populated: Instance, params: dict, field: str, words: str
) -> None:
    with serve(populated) as api:
        r = api.get("/", params=params)
        assert r.status_code == 400
        error = re.search(rf'id="{field}-error">([^<]*)<', r.text)
        assert error is not None and words in error.group(1)
        assert f'id="{field}" name="{field}"' in r.text
        assert f'aria-invalid="true" aria-describedby="{field}-error"' in r.text
        assert 'id="artifacts"' not in r.text  # no results under a bad filter


def test_pages_of_series_follow_one_another(
    populated: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "PAGE_SIZE", 2)
    with serve(populated) as api:
        pages = [_shown(api.get("/", params={"page": str(n)}).text) for n in (1, 2, 3, 4)]
        assert pages == [
            ["daily_sales@5", "daily_sales@4"],
            ["daily_sales@3", "daily_sales@2"],
            ["blessed_model@3", "blessed_model@2"],
            [],
        ]
        third = api.get("/", params={"page": "3", "text": ""}).text
        assert 'rel="next"' not in third and 'href="/?page=2"' in third


def test_the_rest_search_agrees_with_the_page(populated: Instance) -> None:
    with serve(populated) as api:
        params = {"time_from": "2026-11-01", "time_to": "2026-11-02", "latest": "true"}
        body = api.get("/api/v1/artifacts", params={**params, "text": "revenue"}).json()
        assert [v["version"] for v in body] == ["3", "2", "1"]
        assert [v["time_partition"][:10] for v in body] == [
            "2026-11-02",
            "2026-11-02",
            "2026-11-01",
        ]
        paged = api.get("/api/v1/artifacts", params={**params, "limit": 2, "offset": 2}).json()
        assert [v["version"] for v in paged] == ["2"]
        every = api.get("/api/v1/artifacts", params={"name": "daily_sales"}).json()
        assert len(every) == 5  # without latest: every version
        bad = api.get("/api/v1/artifacts", params={"time_to": "soon"})
        assert bad.status_code == 400 and "time_to 'soon' is not an ISO date" in bad.text
        found = headwater.search_artifacts(
            time_from=datetime(2026, 11, 3), text="footfall", latest=True
        )
        assert [(v.name, v.version) for v in found] == [("daily_sales", "4")]
