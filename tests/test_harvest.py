"""`lod harvest`: the polite HTTP session, the OAI-PMH client (tokens, errors, deletions,
incremental and resumed harvests) and the JSON API client, against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod import __version__
from lod.cli import main
from lod.errors import HarvestError
from lod.harvest import USER_AGENT, Politeness, PoliteSession, jsonapi, oai
from lod.harvest.files import record_name
from lod.model import Record
from lod.sources import read_sources
from tests.conftest import corpus_path
from tests.harvest_server import DC_TEMPLATE as DC
from tests.harvest_server import Fault, Provider, serving
from tests.loopback import spaced

FAST = Politeness(interval=0.0, timeout=2.0, attempts=3, backoff=0.05, max_wait=5.0)


@pytest.fixture
def provider() -> Provider:
    p = Provider()
    for n in range(1, 6):
        p.dc(
            f"oai:test:{n}",
            f"2026-01-0{n}T00:00:00Z",
            title=f"Record {n}",
            identifier=str(n),
            creator="Mao Zedong",
        )
    return p


@pytest.fixture
def url(provider: Provider) -> Iterator[str]:
    with serving(provider) as base:
        yield base + "/oai"


def run(
    url: str, out: Path, politeness: Politeness = FAST, **options: str
) -> tuple[oai.Report, PoliteSession]:
    with PoliteSession(politeness) as session:
        return oai.harvest(oai.Request(url, **options), out, session), session


def files(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if not p.name.startswith("."))


def titles(out: Path) -> list[str]:
    return sorted(r.title for r in read_sources([out]) if isinstance(r, Record))


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:], strict=False)]


# --- OAI-PMH ---------------------------------------------------------------------------------


def test_harvest_follows_resumption_tokens(provider: Provider, url: str, tmp_path: Path) -> None:
    report, session = run(url, tmp_path)
    assert (report.written, report.deleted, report.pages) == (5, 0, 3)
    assert files(tmp_path) == sorted(record_name(f"oai:test:{n}", ".xml") for n in range(1, 6))
    assert titles(tmp_path) == [f"Record {n}" for n in range(1, 6)]
    requests = provider.list_records()
    assert [r.query for r in requests] == [
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "resumptionToken": "2|oai_dc|||"},
        {"verb": "ListRecords", "resumptionToken": "4|oai_dc|||"},
    ]
    assert session.requests == 4 == len(provider.seen)  # Identify, then three pages
    assert {s.user_agent for s in provider.seen} == {USER_AGENT}
    assert USER_AGENT.startswith(f"lod/{__version__} (") and "harvester" in USER_AGENT
    state = json.loads((tmp_path / oai.STATE_FILE).read_text())
    assert state["last_harvest"] == "2026-03-01T12:00:00Z" == report.next_from
    assert state["interrupted"] is None


def test_record_file_is_the_record_element(provider: Provider, url: str, tmp_path: Path) -> None:
    from lxml import etree

    run(url, tmp_path)
    root = etree.parse(str(tmp_path / record_name("oai:test:3", ".xml"))).getroot()
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/}record"
    assert root.findtext("{*}header/{*}identifier") == "oai:test:3"
    assert root.findtext(".//{http://purl.org/dc/elements/1.1/}title") == "Record 3"


def test_record_names_are_stable_and_distinct() -> None:
    a = record_name("http://127.0.0.1:8000/record/112095", ".xml")
    assert a.startswith("record-112095-") and a.endswith(".xml")
    assert a == record_name("http://127.0.0.1:8000/record/112095", ".xml")
    assert a != record_name("http://example.org/record/112095", ".xml")
    assert record_name("oai:arXiv.org:cs/0112017", ".xml").startswith("oai-arxiv-org-cs-0112017-")


def test_incremental_harvest_asks_from_the_last_response_date(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    run(url, tmp_path)
    provider.items[1].datestamp = "2026-03-02T00:00:00Z"
    provider.items[1].metadata["oai_dc"] = (
        provider.items[1].metadata["oai_dc"].replace("Record 2", "Record 2, revised")
    )
    provider.response_date = "2026-03-05T08:30:00Z"
    report, _ = run(url, tmp_path)
    assert provider.list_records()[-1].query == {
        "verb": "ListRecords",
        "metadataPrefix": "oai_dc",
        "from": "2026-03-01T12:00:00Z",
    }
    assert (report.written, report.from_date, report.next_from) == (
        1,
        "2026-03-01T12:00:00Z",
        "2026-03-05T08:30:00Z",
    )
    assert titles(tmp_path) == ["Record 1", "Record 2, revised", "Record 3", "Record 4", "Record 5"]


def test_day_granularity_cuts_the_next_from(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.granularity = "YYYY-MM-DD"
    report, _ = run(url, tmp_path)
    assert report.next_from == "2026-03-01"


def test_no_records_match_is_an_empty_harvest(provider: Provider, url: str, tmp_path: Path) -> None:
    report, _ = run(url, tmp_path, from_date="2030-01-01")
    assert (report.written, report.pages) == (0, 1)
    assert files(tmp_path) == []
    assert json.loads((tmp_path / oai.STATE_FILE).read_text())["last_harvest"] == report.next_from


def test_deleted_record_removes_its_file(provider: Provider, url: str, tmp_path: Path) -> None:
    run(url, tmp_path)
    provider.items[2].deleted = True
    provider.items[2].datestamp = "2026-03-03T00:00:00Z"
    report, _ = run(url, tmp_path)
    assert (report.written, report.deleted) == (0, 1)
    assert record_name("oai:test:3", ".xml") not in files(tmp_path)
    assert titles(tmp_path) == ["Record 1", "Record 2", "Record 4", "Record 5"]


def test_interrupted_harvest_resumes_without_duplicates(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    provider.faults = [Fault(), *[Fault(status=500)] * 3]
    with pytest.raises(HarvestError, match="gave up after 3 attempts"):
        run(url, tmp_path)
    assert titles(tmp_path) == ["Record 1", "Record 2"]
    assert oai.interrupted(tmp_path)
    report, _ = run(url, tmp_path)
    assert report.resumed and report.pages == 2 and report.written == 3
    assert provider.list_records()[-2].query == {
        "verb": "ListRecords",
        "resumptionToken": "2|oai_dc|||",
    }
    assert titles(tmp_path) == [f"Record {n}" for n in range(1, 6)]
    assert len(files(tmp_path)) == 5
    assert not oai.interrupted(tmp_path)
    assert report.next_from == "2026-03-01T12:00:00Z"  # the first response of the whole harvest


def test_expired_resumption_token_starts_over(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(), *[Fault(status=500)] * 3]
    with pytest.raises(HarvestError):
        run(url, tmp_path)
    provider.expired_tokens.add("2|oai_dc|||")
    notices: list[str] = []
    with PoliteSession(FAST) as session:
        report = oai.harvest(oai.Request(url), tmp_path, session, notices.append)
    assert any("starting over" in n for n in notices)
    assert report.written == 5 and len(files(tmp_path)) == 5


def test_cannot_disseminate_format_is_a_clear_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(HarvestError) as info:
        run(url, tmp_path, metadata_prefix="marc21")
    message = str(info.value)
    assert info.value.code == "cannotDisseminateFormat"
    assert "metadataPrefix=marc21" in message and "ListMetadataFormats" in message


def test_bad_xml_names_the_url(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(body=b"<OAI-PMH><unclosed></OAI-PMH>")]
    with pytest.raises(HarvestError, match=r"not well-formed XML") as info:
        run(url, tmp_path)
    assert f"{url}?verb=ListRecords&metadataPrefix=oai_dc" in str(info.value)


def test_html_page_is_no_oai_response(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(body=b"<html><body>Welcome</body></html>")]
    with pytest.raises(HarvestError, match=r"no OAI-PMH response \(root <html>\)"):
        run(url, tmp_path)


def test_dtd_in_an_answer_is_refused(provider: Provider, url: str, tmp_path: Path) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><OAI-PMH>&a;</OAI-PMH>'
    provider.faults = [Fault(body=bomb)]
    with pytest.raises(HarvestError, match="DTD or entities"):
        run(url, tmp_path)


def test_one_folder_holds_one_harvest(url: str, tmp_path: Path) -> None:
    run(url, tmp_path)
    with pytest.raises(HarvestError, match="holds a harvest of .* another --out"):
        run(url, tmp_path, set_spec="letters")


# --- the polite session ----------------------------------------------------------------------


def test_500_then_success_backs_off_exponentially(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    provider.faults = [Fault(status=500), Fault(status=502)]
    report, _ = run(url, tmp_path)
    assert report.written == 5
    first_page = [s.at for s in provider.list_records()][:3]
    waits = gaps(first_page)
    assert waits[0] >= 0.05 and waits[1] >= 0.1  # backoff 0.05 s, then doubled


def test_retry_after_seconds_on_429(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(status=429, headers={"Retry-After": "1"})]
    run(url, tmp_path)
    assert gaps([s.at for s in provider.list_records()][:2])[0] >= 0.95


def test_retry_after_http_date_on_503(provider: Provider, url: str, tmp_path: Path) -> None:
    when = formatdate(time.time() + 2, usegmt=True)  # whole seconds: waits 1-2 s
    provider.faults = [Fault(status=503, headers={"Retry-After": when})]
    run(url, tmp_path)
    assert gaps([s.at for s in provider.list_records()][:2])[0] >= 0.9


def test_retry_after_longer_than_lod_waits_is_an_error(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    provider.faults = [Fault(status=503, headers={"Retry-After": "3600"})]
    started = time.monotonic()
    with pytest.raises(HarvestError, match="asks lod to wait 3600 s"):
        run(url, tmp_path)
    assert time.monotonic() - started < 1


def test_dropped_connection_is_retried(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(drop=True)]
    report, session = run(url, tmp_path)
    assert report.written == 5
    assert len(provider.list_records()) == 4 and session.requests == 5


def test_slow_answer_times_out_and_is_retried(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(delay=2.0)]
    started = time.monotonic()
    report, session = run(url, tmp_path, Politeness(interval=0, timeout=0.3, backoff=0.01))
    elapsed = time.monotonic() - started
    assert report.written == 5 and session.requests == 5
    assert 0.3 <= elapsed < 1.8  # gave up on the slow answer instead of waiting for it


@pytest.mark.parametrize(
    ("fault", "politeness", "said"),
    [
        (Fault(endless=1 << 16), Politeness(interval=0, max_bytes=1 << 20), "is over 1,048,576"),
        (Fault(endless=1, every=0.05), Politeness(interval=0, max_read=0.5), "over 0.5 s"),
    ],
)
def test_an_answer_without_end_is_an_error_not_a_hang(
    provider: Provider, url: str, tmp_path: Path, fault: Fault, politeness: Politeness, said: str
) -> None:
    """`timeout` bounds each piece of an answer; a server that sends without end, fast or a
    byte at a time, filled the memory or held the harvest for ever. The records of the pages
    before it are kept."""
    provider.faults = [Fault(), fault]
    started = time.monotonic()
    with pytest.raises(HarvestError, match=said) as info:
        run(url, tmp_path, politeness)
    assert time.monotonic() - started < 5
    assert "verb=ListRecords" in str(info.value)
    assert len([name for name in files(tmp_path) if name.endswith(".xml")]) == 2


def test_attempts_are_bounded_and_the_error_says_what_failed(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    provider.faults = [Fault(drop=True)] * 5
    with pytest.raises(HarvestError) as info:
        run(url, tmp_path)
    assert "gave up after 3 attempts" in str(info.value) and "dropped" in str(info.value)
    assert len(provider.list_records()) == 3


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    provider = Provider()
    with serving(provider) as base, PoliteSession(FAST) as session:
        with pytest.raises(HarvestError, match="HTTP 404"):
            session.get(base + "/srv/record/1.json")
        assert session.requests == 1


def test_requests_are_spaced_by_the_interval(provider: Provider, url: str, tmp_path: Path) -> None:
    run(url, tmp_path, Politeness(interval=0.15, backoff=0.01))
    assert spaced([s.at for s in provider.seen], 0.15)


def test_unreachable_server_is_an_error_naming_the_url(tmp_path: Path) -> None:
    from tests.conftest import free_port

    address = f"http://127.0.0.1:{free_port()}/oai"
    with pytest.raises(HarvestError, match="connection failed") as info:
        run(address, tmp_path, Politeness(interval=0, attempts=2, backoff=0.01))
    assert address in str(info.value)


# --- JSON record API -------------------------------------------------------------------------


def test_parse_ids() -> None:
    assert jsonapi.parse_ids("112095, 300237-300239,112095") == [
        "112095",
        "300237",
        "300238",
        "300239",
    ]
    assert jsonapi.parse_ids("0098-0100") == ["0098", "0099", "0100"]
    with pytest.raises(HarvestError):
        jsonapi.parse_ids("10-1")


def test_json_api_harvest_writes_records_dajson_reads(tmp_path: Path) -> None:
    provider = Provider()
    api = corpus_path("wilson-da", "api")
    provider.json_records["491"] = (api / "collection.json").read_bytes()
    provider.json_records["33548"] = (api / "transcript.json").read_bytes()
    out = tmp_path / "api"
    with serving(provider) as base, PoliteSession(FAST) as session:
        report = jsonapi.harvest(base, jsonapi.parse_ids("491,33548,7"), out, session)
    assert (report.written, report.missing) == (2, ["7"])
    assert (out / "491.json").read_bytes() == (api / "collection.json").read_bytes()
    assert [s.path for s in provider.seen] == [
        "/srv/record/491.json",
        "/srv/record/33548.json",
        "/srv/record/7.json",
    ]
    records = {r.id: r for r in read_sources([out]) if isinstance(r, Record)}
    assert set(records) == {"491", "transcript-33548"}
    assert records["491"].source_format == "dajson" and records["491"].kind == "collection"


def test_json_api_url_template_and_bad_json(tmp_path: Path) -> None:
    provider = Provider()
    provider.json_records["1"] = b'{"id": "1", "title": "broken",'
    with serving(provider) as base, PoliteSession(FAST) as session:
        assert jsonapi.record_url(base + "/srv/record/{id}.json", "a b") == (
            base + "/srv/record/a%20b.json"
        )
        notices: list[str] = []
        report = jsonapi.harvest(
            base + "/srv/record/{id}.json", ["1"], tmp_path, session, notices.append
        )
    assert report.failed == ["1"]
    assert f"{base}/srv/record/1.json: the answer is not valid JSON" in notices[0]
    assert files(tmp_path) == []


# --- the command -----------------------------------------------------------------------------

FAST_FLAGS = ("--rate", "0", "--retries", "1")


def test_cli_harvest_and_rerun(provider: Provider, url: str, tmp_path: Path) -> None:
    out = tmp_path / "h"
    result = CliRunner().invoke(main, ["harvest", url, "--out", str(out), *FAST_FLAGS])
    assert result.exit_code == 0, result.output
    assert "Harvested 5 records, removed 0 deleted, in 3 pages (4 requests)" in result.output
    assert "next harvest asks for changes from 2026-03-01T12:00:00Z" in result.output
    result = CliRunner().invoke(main, ["harvest", url, "--out", str(out), *FAST_FLAGS])
    assert result.exit_code == 0, result.output
    assert "Harvested 0 records changed since 2026-03-01T12:00:00Z" in result.output


def test_cli_failure_says_how_to_resume(provider: Provider, url: str, tmp_path: Path) -> None:
    provider.faults = [Fault(), Fault(status=500)]
    result = CliRunner().invoke(
        main, ["harvest", url, "--out", str(tmp_path), "--rate", "0", "--retries", "0"]
    )
    assert result.exit_code == 1
    assert "error: " in result.output and "gave up after 1 attempt (last: HTTP 500" in result.output
    assert "run the same command again to resume" in result.output


def test_cli_json_api_and_usage_errors(tmp_path: Path) -> None:
    provider = Provider()
    provider.json_records["5"] = b'{"id": "5", "title": "Five", "doc_date": "19500101"}'
    runner = CliRunner()
    with serving(provider) as base:
        result = runner.invoke(
            main, ["harvest", base, "--ids", "5-6", "--out", str(tmp_path), *FAST_FLAGS]
        )
    assert result.exit_code == 3, result.output  # one of the IDs does not exist
    assert "Harvested 1 records, 1 not found" in result.output
    assert "/srv/record/6.json: no such record (HTTP 404)" in result.output
    result = runner.invoke(main, ["harvest", base, "--ids", "5", "--set", "x"])
    assert result.exit_code == 2 and "--ids harvests a JSON API" in result.output
    result = runner.invoke(main, ["harvest", base, "--rate", "-1"])
    assert result.exit_code == 2


def test_a_deeply_nested_answer_is_refused(provider: Provider, url: str, tmp_path: Path) -> None:
    """Records are written back with ElementTree, which recurses: 100,000 levels would end the
    harvest with a RecursionError (and RDF/XML that deep stalls pyoxigraph for minutes)."""
    deep = b"<x>" * 100_000 + b"</x>" * 100_000
    body = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        b"<identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp></header><metadata>"
        + deep
        + b"</metadata></record></ListRecords></OAI-PMH>"
    )
    provider.faults = [Fault(body=body)]
    with pytest.raises(HarvestError, match="more than 256 deep"):
        run(url, tmp_path)


def test_a_repeated_resumption_token_stops_the_harvest(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    """A provider that hands back a token it was already given would be followed forever:
    tokens are idempotent (section 3.5), so the same token means the same page again."""
    page = (
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-03-01T12:00:00Z'
        "</responseDate><ListRecords><record><header><identifier>oai:x:1</identifier><datestamp>"
        "2026-01-01</datestamp></header><metadata>"
        + DC.format("<dc:title>One</dc:title>")
        + "</metadata></record><resumptionToken>again</resumptionToken></ListRecords></OAI-PMH>"
    ).encode()
    provider.faults = [Fault(body=page)] * 10
    with pytest.raises(HarvestError, match="resumption token 'again' again") as info:
        run(url, tmp_path)
    assert "resumptionToken=again" in str(info.value)
    assert len(provider.list_records()) == 2
    assert titles(tmp_path) == ["One"]


def test_control_characters_in_a_record_do_not_stop_the_harvest(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    """XML 1.0 forbids most C0 control characters, yet catalogues pasted from word processors
    hold them: one in one record made its whole page unreadable, and every run stopped there."""
    provider.items[2].metadata["oai_dc"] = DC.format("<dc:title>Record\x0b 3&#x1f;</dc:title>")
    notices: list[str] = []
    with PoliteSession(FAST) as session:
        report = oai.harvest(oai.Request(url), tmp_path, session, notices.append)
    assert report.written == 5
    assert titles(tmp_path) == [f"Record {n}" for n in range(1, 6)]
    assert any("2 characters XML does not allow" in n and "resumptionToken=2" in n for n in notices)


def test_a_record_without_identifier_is_skipped_not_fatal(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    """A record that cannot be named cannot be kept, but its neighbours can: stopping there made
    every later run stop at the same page, and the records after it were never harvested."""
    provider.items[2].identifier = " "
    notices: list[str] = []
    with PoliteSession(FAST) as session:
        report = oai.harvest(oai.Request(url), tmp_path, session, notices.append)
    assert (report.written, report.skipped) == (4, 1)
    assert titles(tmp_path) == ["Record 1", "Record 2", "Record 4", "Record 5"]
    assert any(
        "record 1 has no header identifier" in n and "resumptionToken=2" in n for n in notices
    )
    result = CliRunner().invoke(main, ["harvest", url, "--out", str(tmp_path / "h"), *FAST_FLAGS])
    assert "skipped 1 without identifier" in result.output


def test_json_api_bad_answer_does_not_lose_the_ids_after_it(tmp_path: Path) -> None:
    """IDs are independent: a broken answer for one is reported and the rest are harvested
    (a range of IDs used to end at its first bad record, on every run)."""
    provider = Provider()
    provider.json_records["1"] = b'{"id": "1", "title": "One", "doc_date": "19500101"}'
    provider.json_records["2"] = b"<html>Internal error</html>"
    provider.json_records["3"] = b'{"id": "3", "title": "Three", "doc_date": "19500101"}'
    notices: list[str] = []
    with serving(provider) as base, PoliteSession(FAST) as session:
        report = jsonapi.harvest(base, ["1", "2", "3"], tmp_path / "a", session, notices.append)
        result = CliRunner().invoke(
            main, ["harvest", base, "--ids", "1-3", "--out", str(tmp_path / "c"), *FAST_FLAGS]
        )
    assert report.written == 2 and files(tmp_path / "a") == ["1.json", "3.json"]
    assert report.failed == ["2"]
    assert any("/srv/record/2.json: the answer is not valid JSON" in n for n in notices)
    assert result.exit_code == 1, result.output
    assert "Harvested 2 records, 0 not found, 1 failed" in result.output


def test_json_api_harvest_stops_when_every_answer_fails(tmp_path: Path) -> None:
    """Failures in a row say the API is down, not that records are broken: asking on through a
    range of a million IDs would only hammer it."""
    provider = Provider()
    provider.json_records.update({str(n): b"<html>maintenance</html>" for n in range(1, 9)})
    with serving(provider) as base, PoliteSession(FAST) as session:
        with pytest.raises(HarvestError, match=r"5 IDs in a row failed \(last: .*/8.json: the"):
            jsonapi.harvest(base, jsonapi.parse_ids("4-9"), tmp_path, session)
    assert len(provider.seen) == 5


def test_a_later_from_does_not_skip_the_changes_before_it(
    provider: Provider, url: str, tmp_path: Path
) -> None:
    """--from after the last harvest leaves the changes between them unharvested: moving the
    next `from` past them would lose them for good, so it stays at the last harvest."""
    run(url, tmp_path)
    provider.items[0].datestamp = "2026-03-02T00:00:00Z"  # changed in the gap
    provider.items[3].datestamp = "2026-03-10T00:00:00Z"
    provider.response_date = "2026-03-20T08:00:00Z"
    notices: list[str] = []
    with PoliteSession(FAST) as session:
        report = oai.harvest(
            oai.Request(url, from_date="2026-03-05"), tmp_path, session, notices.append
        )
    assert report.written == 1 and report.next_from == "2026-03-01T12:00:00Z"
    assert any("not harvested yet" in n for n in notices)
    report, _ = run(url, tmp_path)
    assert report.written == 2 and report.next_from == "2026-03-20T08:00:00Z"
