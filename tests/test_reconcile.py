"""`lod reconcile` against a real reconciliation service on 127.0.0.1 (never the internet):
proposals go to a review file that lod build does not publish, answers are cached, requests are
spaced and identified, failures are retried and then reported."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.cli import main
from lod.harvest import Politeness, PoliteSession
from lod.harvest.reconcile import Cache, Client, reconcile
from lod.mapping import Mapper
from lod.namespaces import expand
from lod.uris import Minter
from lod.vocab import VOCAB_DIR, load_vocab
from tests.conftest import BASE
from tests.loopback import spaced
from tests.reconcile_server import Service, serving

VOCAB = load_vocab()


def service() -> Service:
    return Service(
        candidates={
            "Peng Dehuai": [("Q311035", "Peng Dehuai", 98.0, True)],
            "Vyacheslav Molotov": [("Q80174", "Vyacheslav Molotov", 100.0, True)],
            "Korea": [("Q18097", "Korea", 60.0, False), ("Q884", "South Korea", 40.0, False)],
            "Mao Zedong": [("Q5816", "Mao Zedong", 100.0, True)],
        }
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run(url: str, out: Path, cache: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main,
        ["reconcile", "--endpoint", url, "--out", str(out), "--cache", str(cache), "--rate", "0"]
        + list(extra),
    )
    return result.exit_code, result.output


def test_proposals_go_to_the_review_file(tmp_path: Path) -> None:
    svc = service()
    out, cache = tmp_path / "proposed-links.csv", tmp_path / "cache"
    with serving(svc) as url:
        code, output = run(url, out, cache)
    assert code == 0, output
    assert "move the rows you accept into vocab/links.csv" in output
    proposals = {row["slug"]: row for row in rows(out)}
    assert set(proposals) == {"peng-dehuai", "vyacheslav-molotov", "korea"}
    peng = proposals["peng-dehuai"]
    assert peng["target"] == "http://www.wikidata.org/entity/Q311035"
    assert (peng["relation"], peng["confidence"], peng["hub"]) == (
        "skos:closeMatch",
        "0.98",
        "wikidata",
    )
    assert peng["evidence"] == "https://www.wikidata.org/wiki/Q311035"
    assert peng["checked"] == "" and "not checked" in peng["method"]
    assert proposals["vyacheslav-molotov"]["confidence"] == "0.99"  # never certainty
    # entities that already have a Wikidata link are not asked about
    asked = {q["query"] for seen in svc.seen for q in seen.queries.values()}
    assert "Mao Zedong" not in asked and "Joseph Stalin" not in asked and "Beijing" not in asked
    assert "Kim Il Sung" in asked  # linked to VIAF and LCNAF, not to Wikidata
    people = [q for seen in svc.seen for q in seen.queries.values() if q["query"] == "Peng Dehuai"]
    assert people[0]["type"] == "Q5"
    assert "type" not in next(
        q for seen in svc.seen for q in seen.queries.values() if q["query"] == "Korea"
    )
    assert all(len(seen.queries) <= 10 for seen in svc.seen)
    assert all(seen.user_agent.startswith("lod/") for seen in svc.seen)


def test_answers_are_cached(tmp_path: Path) -> None:
    svc = service()
    out, cache = tmp_path / "proposed-links.csv", tmp_path / "cache"
    with serving(svc) as url:
        run(url, out, cache)
        first = len(svc.seen)
        code, output = run(url, out, cache)
    assert code == 0 and first > 1
    assert len(svc.seen) == first  # nothing sent the second time
    assert f"0 requests, {first} answers from the cache" in output


def test_requests_are_spaced(tmp_path: Path) -> None:
    svc = service()
    with serving(svc) as url, PoliteSession(Politeness(interval=0.15)) as session:
        client = Client(url, session, Cache(tmp_path / "cache"))
        reconcile(VOCAB, client, "wikidata", tmp_path / "out.csv")
    starts = [seen.at for seen in svc.seen]
    assert len(starts) >= 3
    assert spaced(starts, 0.15)


def test_rejected_proposals_stay_rejected(tmp_path: Path) -> None:
    svc = service()
    out, cache = tmp_path / "proposed-links.csv", tmp_path / "cache"
    with serving(svc) as url:
        run(url, out, cache)
        marked = rows(out)
        for row in marked:
            if row["slug"] == "korea":
                row["review"] = "rejected"
        with out.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(marked[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(marked)
        run(url, out, cache)
    korea = [row for row in rows(out) if row["slug"] == "korea"]
    assert [(row["target"], row["review"]) for row in korea] == [
        ("http://www.wikidata.org/entity/Q18097", "rejected")
    ]


def test_proposals_are_not_published_until_moved_into_links(tmp_path: Path) -> None:
    vocab_dir = tmp_path / "vocab"
    shutil.copytree(VOCAB_DIR, vocab_dir)
    with serving(service()) as url:
        run(url, vocab_dir / "proposed-links.csv", tmp_path / "cache")
    target = "http://www.wikidata.org/entity/Q311035"

    def peng_links() -> set[tuple[str, str]]:
        mapper = Mapper(load_vocab(vocab_dir), Minter(BASE))
        triples = mapper.entity_triples(mapper.resolve.agent("Peng Dehuai"))
        return {(t.predicate.value, t.object.value) for t in triples if t.object.value == target}

    assert peng_links() == set()
    proposal = next(r for r in rows(vocab_dir / "proposed-links.csv") if r["slug"] == "peng-dehuai")
    with (vocab_dir / "links.csv").open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            [
                proposal[c]
                for c in (
                    "slug",
                    "hub",
                    "target",
                    "relation",
                    "method",
                    "evidence",
                    "checked",
                    "confidence",
                )
            ]
        )
    load_vocab.cache_clear()
    assert peng_links() == {(expand("skos:closeMatch"), target), (expand("rdf:object"), target)}


def test_a_failing_service_is_retried_then_reported(tmp_path: Path) -> None:
    svc = service()
    svc.faults = [(500, {}), (429, {"Retry-After": "0"})]
    out, cache = tmp_path / "proposed-links.csv", tmp_path / "cache"
    with serving(svc) as url:
        code, output = run(url, out, cache, "--retries", "2")
        assert code == 0, output
        svc.faults = [(500, {})] * 3
        code, output = run(url, tmp_path / "other.csv", tmp_path / "other-cache", "--retries", "2")
    assert code == 1
    assert "error:" in output and "gave up after 3 attempts" in output and "HTTP 500" in output


def test_an_endpoint_that_is_no_reconciliation_service(tmp_path: Path) -> None:
    svc = service()
    svc.manifest = {"hello": "world"}
    with serving(svc) as url:
        code, output = run(url, tmp_path / "out.csv", tmp_path / "cache")
    assert code == 1 and "no reconciliation service manifest" in output
    assert not (tmp_path / "out.csv").exists()


@pytest.fixture(autouse=True)
def _fresh_vocab() -> None:
    load_vocab.cache_clear()
