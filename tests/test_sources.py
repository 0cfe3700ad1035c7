"""Readers: each format into plain Records, every field with its origin; bad files reported."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lod.errors import SourceError, UnsafeXMLError
from lod.model import Record
from lod.sources import Skipped, dacsv, dajson, dapage, detect, read_file, read_sources, tei
from lod.sources.text import collect, one_line
from tests.conftest import RECORDS, corpus_path


def records(path: Path) -> list[Record]:
    return [item for item in read_file(path) if isinstance(item, Record)]


def one(path: Path) -> Record:
    (record,) = records(path)
    return record


# --- the archive's page text ----------------------------------------------------------------
def test_seed_page_fields() -> None:
    r = one(RECORDS / "112095.txt")
    assert r.id == "112095" and r.source_format == "dapage"
    assert r.date == "January 16, 1951"
    assert r.title.startswith(
        "Telegram from Mao Zedong to I.V. Stalin, transmitting 14 January 1951"
    )
    assert r.summary.startswith("Mao asks Stalin on his opinion")
    assert r.text.startswith("SECOND MAIN ADMINISTRATION") and r.text.endswith("No. 260\n15.1.51")
    assert r.citation == "APRF, f. 45, op. 1, d. 337, ll. 1-3."
    assert r.rights.startswith("The History and Public Policy Program welcomes reuse")
    assert "HAPP@wilsoncenter.org" in r.rights
    assert r.uploaded == "2011-11-20" and r.doc_type == "Telegram"
    assert r.languages == []  # the page leaves Language empty; nothing is invented


def test_seed_telegram_header() -> None:
    r = one(RECORDS / "112095.txt")
    assert r.header == {
        "heading": "SECOND MAIN ADMINISTRATION OF THE GENERAL STAFF OF THE SOVIET ARMY",
        "telegram_number": "15603",
        "copies": "Stalin (2), Molotov",
        "sent_from": "BEIJING",
        "received": "14 hours 45 minutes 16.1.1951",
        "received_at": "1951-01-16T14:45:00",
        "precedence": "EXTREMELY URGENT T",
        "addressed_to": "Comrade FILIPPOV [Stalin]",
        "outgoing_number": "260",
        "outgoing_date": "15.1.51",
        "signed": "MAO ZEDONG",
    }
    assert r.cc == ["Stalin", "Molotov"]
    assert "MAO ZEDONG" in r.authors and "Mao Zedong" in r.authors
    assert "Comrade FILIPPOV [Stalin]" in r.recipients and "I.V. Stalin" in r.recipients


def test_seed_origins_name_lines() -> None:
    r = one(RECORDS / "112095.txt")
    assert r.origins["date"].line == 3 and r.origins["title"].line == 5
    assert r.origins["citation"].field == "Source"
    lines = (RECORDS / "112095.txt").read_text().splitlines()
    assert lines[r.origins["citation"].line - 1] == "Source"
    assert r.origins["authors"].field in ("text", "title")


def test_page_unknown_heading_is_kept(tmp_path: Path) -> None:
    # An unknown heading is recognized after a field that has a value (here after Source's).
    text = (
        (RECORDS / "112095.txt")
        .read_text()
        .replace("\nRights\n", "\nReading Room\n\nShelf 4\n\nRights\n")
    )
    path = tmp_path / "page.txt"
    path.write_text(text)
    assert one(path).extra == {"Reading Room": "Shelf 4"}


def test_page_without_record_id_is_rejected(tmp_path: Path) -> None:
    text = (RECORDS / "112095.txt").read_text().rsplit("Record ID", 1)[0] + "Record ID\n"
    path = tmp_path / "noid.txt"
    path.write_text(text)
    (error,) = list(read_file(path))
    assert (
        isinstance(error, SourceError)
        and error.field == "Record ID"
        and "no Record ID" in str(error)
    )


def test_page_dated_undated_keeps_its_title(tmp_path: Path) -> None:
    """A page whose date line says "Undated" has no date to parse, but the line is still the
    date line: the title is the next line, not "Undated"."""
    text = (RECORDS / "112095.txt").read_text().replace("January 16, 1951\n", "Undated\n", 1)
    path = tmp_path / "undated.txt"
    path.write_text(text)
    r = one(path)
    assert r.date == "Undated"
    assert r.title.startswith("Telegram from Mao Zedong to I.V. Stalin")


# --- the CSV scrape --------------------------------------------------------------------------
def test_csv_scrape_rows() -> None:
    rows = records(corpus_path("wilson-da", "scrape", "wilson_archive.csv"))
    assert len(rows) == 11
    nehru = next(r for r in rows if r.id == "300653")
    assert nehru.authors == ["Nehru, Jawaharlal"]
    assert nehru.places == ["India", "China", "Southeast Asia", "Pakistan"]
    assert nehru.languages == ["English"] and nehru.classification == "Secret"
    assert nehru.people == [] and nehru.donors == []  # empty cells are missing, not ""
    assert nehru.retrieved == "2025-10-07T12:40:14.712690"
    assert nehru.extra == {"page_number": "0", "page_number_one_indexed": "1", "page_position": "1"}
    assert nehru.origins["authors"].field == "authors" and nehru.origins["authors"].line == 2
    assert nehru.doc_type == "Letter"  # stated by the title "Letter, ..."
    nakajima = next(r for r in rows if r.id == "300638")
    assert nakajima.date == "November 1967" and nakajima.authors[0] == "Nakajima, Kenzō"


def test_csv_none_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text('record_id,title,authors,donors,language\n7,T,"[""A, B""]",None,English\n')
    (r,) = records(path)
    assert (r.authors, r.donors, r.languages) == (["A, B"], [], ["English"])


def test_csv_bad_rows_do_not_stop_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("record_id,title,authors\n,No id,\n2,Good,\n3,Bad list,[oops\n4,Also good,\n")
    items = list(read_file(path))
    assert [i.id for i in items if isinstance(i, Record)] == ["2", "4"]
    errors = [i for i in items if isinstance(i, SourceError)]
    assert [(e.line, e.field) for e in errors] == [(2, "record_id"), (4, "authors")]


# --- the JSON API ----------------------------------------------------------------------------
@pytest.mark.parametrize("dots", [".", ".."])
def test_an_id_of_dots_alone_is_rejected(tmp_path: Path, dots: str) -> None:
    """record/%2E%2E is record/.. to RFC 3986 and to browsers and Node.js (Comunica), which
    fetch the folder above: no URI can name such a record. Other IDs with dots are fine."""
    path = tmp_path / "dots.csv"
    path.write_text(f"record_id,title\n{dots},Dots\n...,Three dots\n", encoding="utf-8")
    items = list(read_file(path))
    assert [item.id for item in items if isinstance(item, Record)] == ["..."]
    (error,) = [item for item in items if isinstance(item, SourceError)]
    assert (error.line, error.field, error.value) == (2, "record_id", dots)
    assert "cannot be a URI path segment" in error.message and "dots" in error.hint


def test_api_collection() -> None:
    r = one(corpus_path("wilson-da", "api", "collection.json"))
    assert r.kind == "collection" and r.id == "491"
    assert r.title == '\u201cLocal Nationalism" in Xinjiang, 1957-1958'
    assert "<p>" not in r.summary and "Sources and Methods" in r.summary
    assert r.description.startswith("In 1957, the Xinjiang Party Committee aimed to expose")
    assert r.alt_title == ""
    assert (
        r.uploaded == "2018-06-26 18:48:04"
        and r.extra["slug"] == "local-nationalism-in-xinjiang-1957-1958"
    )


def test_api_transcript_keeps_cyrillic_text() -> None:
    r = one(corpus_path("wilson-da", "api", "transcript.json"))
    assert r.kind == "transcript" and r.id == "transcript-33548"
    assert "<" not in r.transcript[:200] and ".cs" not in r.transcript  # styles dropped
    assert any("\u0400" <= ch <= "\u04ff" for ch in r.transcript)
    assert r.media[0].url == "https://digitalarchive.wilsoncenter.org/transcripts/33548.html"


def test_api_document_example() -> None:
    r = one(RECORDS / "examples" / "example-api-document.json")
    assert r.kind == "document" and r.id == "example-api-1"
    assert r.date == "1958" and r.date_hint == "19580000"
    assert r.summary.startswith("An example document") and "<b>" not in r.summary
    assert r.doc_type == "Memorandum" and r.languages == ["Russian"]
    assert r.authors[0] == "Example, Jane" and r.contributors == ["Sample, John"]
    assert r.places == ["Beijing"] and r.place_parents == {"Beijing": "China"}
    assert r.archives == ["Russian State Archive of Contemporary History (RGANI)"]
    assert r.classification == "Top Secret" and r.transcript == "Пример текста."
    assert r.text == "Example text." and "alert" not in r.text
    assert [m.filename for m in r.media] == [
        "example_transcript.html",
        "example_translation.html",
        "example.pdf",
    ]
    assert r.extra["model"] == "Record"  # unknown keys are kept


def test_api_bad_json_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "1", "title": "x",\n "doc_date": }')
    (error,) = list(read_file(path))
    assert isinstance(error, SourceError) and error.line == 2 and "invalid JSON" in error.message


def test_api_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(
        '{"id": "1", "title": "x", "doc_date": "1950", "extra": ' + "[" * 5000 + "]" * 5000 + "}"
    )
    (error,) = list(read_file(path))
    assert isinstance(error, SourceError) and "nested too deeply" in error.message


# --- TEI -------------------------------------------------------------------------------------
def test_tei_document() -> None:
    r = one(corpus_path("frus-history", "1957-03-21-kennan-to-leopold.xml"))
    assert r.id == "1957-03-21-kennan-to-leopold"
    assert (
        r.title == "Correspondence Between Richard Leopold and George Kennan, February-March 1957"
    )
    assert r.alt_title == "Leopold-Kennan Correspondence, 1957"
    assert (r.date, r.date_hint, r.uploaded) == ("March 21, 1957", "1957-03-21", "2013-12-09")
    assert r.citation.startswith(
        "Department of State, Bureau of Public Affairs, Office of the Historian"
    )
    assert r.text.startswith(
        "Richard W. Leopold to George F. Kennan\n\n3 February 1957\n\nI would be grateful"
    )
    assert "Footnote 81" in r.extra["citedIn"]
    assert r.media[0].url.endswith("1957-03-21-kennan-to-leopold.pdf")


def test_tei_range_date_and_title_people() -> None:
    r = one(corpus_path("frus-history", "1972-09-22-kogan-to-franklin.xml"))
    assert (
        r.authors == ["Arthur Kogan"]
        and r.recipients == ["William Franklin"]
        and r.doc_type == "Memorandum"
    )
    r = one(corpus_path("frus-history", "1965-11-05-hac-meeting-minutes.xml"))
    assert r.date == "November 5-6, 1965" and r.doc_type == "Minutes"


@pytest.mark.parametrize(
    ("name", "marking"),
    [
        ("1968-11-01-hac-meeting-minutes.xml", "Limited Official Use"),  # "1968—Minutes. L..."
        ("1960-11-04-hac-meeting-minutes.xml", "Confidential"),  # "...11/4-5/60. Confidential."
        ("1991-06-18-hac-meeting-minutes.xml", "Secret"),  # "June 1991. Secret. Drafted by"
        ("1957-03-21-kennan-to-leopold.xml", ""),  # no marking
        ("1976-10-26-slany-and-costrell-to-ho-staff.xml", ""),  # "Foreign Classified Documents"
    ],
)
def test_tei_classification_from_the_source_note(name: str, marking: str) -> None:
    assert one(corpus_path("frus-history", name)).classification == marking


@pytest.mark.parametrize(
    ("note", "marking"),
    [
        ("Box 2, 1968—Minutes. Limited Official Use. Page 2 is missing.", "Limited Official Use"),
        ("Lot File 90 D 066, Box 6. Secret; Nodis. Drafted by X.", "Secret; Nodis"),
        ("Confidential Files of the Secretary, Box 1. Drafted by X.", ""),
        ("Box 1. The minutes were unclassified. Drafted by X.", ""),
    ],
)
def test_tei_marking_is_a_sentence_of_its_own(note: str, marking: str) -> None:
    assert tei.marking(note) == marking


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader/><text><body><p>&lol9;</p></body></text></TEI>"""


def test_billion_laughs_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(BILLION_LAUGHS)
    started = time.perf_counter()
    (error,) = list(read_file(path))
    assert time.perf_counter() - started < 2
    assert (
        isinstance(error, UnsafeXMLError)
        and "DTD or entities" in str(error)
        and "bomb.xml" in str(error)
    )


def test_external_entity_refused(tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><body><p>&x;</p></body></text></TEI>'
    )
    (error,) = list(read_file(path))
    assert isinstance(error, UnsafeXMLError)


def test_malformed_xml_names_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text(
        '<TEI xmlns="http://www.tei-c.org/ns/1.0">\n<teiHeader>\n<title>x</tite>\n</TEI>'
    )
    (error,) = list(read_file(path))
    assert isinstance(error, SourceError) and error.line == 3 and "malformed XML" in error.message


# --- detection, encodings, folders ----------------------------------------------------------
def test_detection_by_content_not_name(tmp_path: Path) -> None:
    page = tmp_path / "record.json"  # a page text with a misleading name
    page.write_text((RECORDS / "112095.txt").read_text())
    assert detect(page.read_text()) is dapage
    assert detect("record_id,title\n1,x\n") is dacsv
    assert detect('{"id": 1, "title": "x", "doc_date": "19500101"}') is dajson
    assert detect('<TEI xmlns="http://www.tei-c.org/ns/1.0"/>') is tei
    assert one(page).id == "112095"


def test_non_records_are_skipped_with_notice(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# hello\n")
    (tmp_path / "package.json").write_text(json.dumps({"name": "x", "version": "1"}))
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    items = list(read_sources([tmp_path], tmp_path))
    assert sorted(i.file for i in items if isinstance(i, Skipped)) == [
        "README.md",
        "img.png",
        "package.json",
    ]
    assert all(isinstance(i, Skipped) for i in items)


def test_wrong_encoding_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("record_id,title\n1,ok\n2,Caf\u00e9\n".encode("latin-1"))
    (error,) = list(read_file(path))
    assert (
        isinstance(error, SourceError)
        and error.line == 3
        and "UTF-8" in error.message
        and "iconv" in error.hint
    )


def test_folder_is_read_recursively(tmp_path: Path) -> None:
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    (nested / "r.csv").write_text("record_id,title\n9,Nested\n")
    assert [i.id for i in read_sources([tmp_path]) if isinstance(i, Record)] == ["9"]


def test_missing_source_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file or folder"):
        list(read_sources([tmp_path / "nope"]))


def test_a_reader_bug_costs_only_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> Record:
        raise KeyError("unexpected")

    monkeypatch.setattr(dacsv, "_row", broken)
    (tmp_path / "a.csv").write_text("record_id,title\n1,x\n")
    (tmp_path / "b.xml").write_text((RECORDS / "examples" / "example-tei.xml").read_text())
    items = list(read_sources([tmp_path], tmp_path))
    errors = [i for i in items if isinstance(i, SourceError)]
    assert [(e.file, "dacsv reader could not read" in e.message) for e in errors] == [
        ("a.csv", True)
    ]
    assert [i.id for i in items if isinstance(i, Record)] == ["example-tei-1"]


@pytest.mark.parametrize(
    "markup",
    [
        '<img src=x onerror="alert(1)">',
        "<svg/onload=alert(1)>",
        '<img src="x"onerror="alert(1)">',
        "<a href=' javascript:alert(1)'>",
    ],
)
def test_event_handlers_are_removed_however_they_are_separated(markup: str) -> None:
    """Browsers take a space, a slash or a closing quote before an attribute: each is found."""
    with collect() as notes:
        assert one_line(f"before {markup} after") == "before after"
    assert "removed active HTML" in notes[0].reason
