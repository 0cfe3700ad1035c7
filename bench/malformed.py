"""A corpus of hostile and malformed records in every format lod reads, with what lod must do
with each, and the cost of each file read and mapped on its own.

    python bench/malformed.py OUT            # write the corpus into OUT (cases.json beside it)
    python bench/malformed.py OUT --measure  # ... and print per-file time and peak RSS

Each case is one file holding exactly one malformed record (some files hold valid neighbours
too, which must be published all the same), or a valid file. `Case.outcome` says what the build
report must say about the malformed record: `rejected`, `duplicate` or `cleaned` (published with
a repaired value), in exactly one report row naming the file, the line, the field and the value
(`marker`: a part of the value or the line's text). tests/test_malformed.py builds the corpus
with `lod build` in a real process and checks every case against report.json.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8000/"
MB = 1024 * 1024
FORMATS = ("dacsv", "dajson", "dapage", "tei", "oai")


@dataclass(frozen=True)
class Case:
    """One file of the corpus and what the build report must say about it."""

    name: str
    """File name (unique; the report names it)."""
    data: bytes = field(repr=False)
    outcome: str
    """rejected | duplicate | cleaned | valid."""
    field: str = ""
    """A part of the report row's field name (case-insensitive)."""
    marker: str = ""
    """A part of the row's value that shows what was wrong."""
    line: int | None = None
    """The line the row must name; None for file-level rows without one."""
    published: tuple[str, ...] = ()
    """Record IDs this file must publish (valid neighbours, or the cleaned record)."""

    def summary(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if k != "data"}


# --- one record in each format -----------------------------------------------------------------

CSV_HEADER = ["record_id", "title", "original_publication_date", "text_body", "summary", "notes"]


def csv_rows(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow([row.get(h, "") for h in CSV_HEADER])
    return out.getvalue()


def fields(rid: str, **values: str) -> dict[str, str]:
    base = {
        "record_id": rid,
        "title": f"Memorandum {rid} on the border talks",
        "original_publication_date": "January 16, 1951",
        "text_body": f"The text of record {rid}.",
        "summary": f"A summary of {rid}.",
        "notes": "",
    }
    base.update(values)
    return base


def as_csv(records: list[dict[str, str]]) -> str:
    return csv_rows(records)


def as_json(records: list[dict[str, str]]) -> str:
    items = []
    for r in records:
        item: dict[str, object] = {
            "title": r["title"],
            "frontend_doc_date": r["original_publication_date"],
            "description": r["summary"],
            "translations": [
                {"filename": "t.html", "content_type": "text/html", "html": r["text_body"]}
            ],
        }
        if r["record_id"]:
            item = {"id": r["record_id"], **item}
        if r["notes"]:
            item["notes"] = r["notes"]
        items.append(item)
    return json.dumps(items if len(items) > 1 else items[0], indent=1, ensure_ascii=False)


def as_page(records: list[dict[str, str]]) -> str:
    (r,) = records
    lines = [
        "Skip to content",
        "",
        r["original_publication_date"],
        "",
        r["title"],
        "",
        r["text_body"],
        "",
        "###",
        "",
        r["summary"],
        "",
        "Document Information",
        "",
        "Record ID",
        "",
        r["record_id"],
        "",
    ]
    if r["notes"]:
        lines += ["Notes", "", r["notes"], ""]
    return "\n".join(lines)


def _x(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_tei(records: list[dict[str, str]]) -> str:
    (r,) = records
    ident = f' xml:id="{_x(r["record_id"])}"' if r["record_id"] else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"{ident}>
  <teiHeader><fileDesc>
    <titleStmt><title type="complete">{_x(r["title"])}</title></titleStmt>
    <publicationStmt><date type="created">{_x(r["original_publication_date"])}</date></publicationStmt>
  </fileDesc></teiHeader>
  <text><body>
    <div type="document"><p>{_x(r["text_body"])}</p>
    <p>{_x(r["summary"])}</p></div>
  </body></text>
</TEI>
"""


OAI_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>\n'
)


def oai_record(r: dict[str, str]) -> str:
    ident = f"<identifier>oai:example:{_x(r['record_id'])}</identifier>" if r["record_id"] else ""
    return f"""<record><header>{ident}</header><metadata>
<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier>{_x(r["record_id"])}</dc:identifier>
<dc:title>{_x(r["title"])}</dc:title>
<dc:date>{_x(r["original_publication_date"])}</dc:date>
<dc:description>{_x(r["summary"])}</dc:description>
</oai_dc:dc></metadata></record>
"""


def as_oai(records: list[dict[str, str]]) -> str:
    return OAI_HEAD + "".join(oai_record(r) for r in records) + "</ListRecords></OAI-PMH>\n"


WRITERS: dict[str, tuple[str, Callable[[list[dict[str, str]]], str], bool]] = {
    "dacsv": (".csv", as_csv, True),
    "dajson": (".json", as_json, True),
    "dapage": (".txt", as_page, False),
    "tei": (".xml", as_tei, False),
    "oai": (".xml", as_oai, True),
}
"""Format -> (suffix, writer, whether one file holds several records)."""

FIELD_NAMES = {
    "title": {
        "dacsv": "title",
        "dajson": "title",
        "dapage": "title",
        "tei": "title",
        "oai": "title",
    },
    "date": {
        "dacsv": "original_publication_date",
        "dajson": "frontend_doc_date",
        "dapage": "date",
        "tei": "date",
        "oai": "date",
    },
    "summary": {
        "dacsv": "summary",
        "dajson": "description",
        "dapage": "summary",
        "tei": "body",
        "oai": "description",
    },
    "id": {
        "dacsv": "record_id",
        "dajson": "id",
        "dapage": "record id",
        "tei": "id",
        "oai": "identifier",
    },
}
"""Model field -> the field name each format's report rows use for it."""


def line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return None if at < 0 else text.count("\n", 0, at) + 1


# --- the cases ---------------------------------------------------------------------------------

FIELD_HAZARDS: list[tuple[str, str, str, str, str]] = [
    # name, model field, value, outcome, marker (a part of the value the row shows)
    ("ctrl-bell", "title", "Minutes\x07 of the\x1b[31m meeting", "cleaned", "Minutes"),
    ("ctrl-formfeed", "summary", "Page one\x0c\x0bpage two\x08", "cleaned", "Page one"),
    ("ctrl-del", "title", "Report\x7f on\x01 trade", "cleaned", "Report"),
    ("script-title", "title", 'Memo <script>alert("x")</script> on trade', "cleaned", "<script>"),
    (
        "script-summary",
        "summary",
        'Talks held.<script src="http://127.0.0.1:1/x.js"></script>',
        "cleaned",
        "<script",
    ),
    (
        "style-summary",
        "summary",
        "Talks.<style>body{display:none}</style> Ended.",
        "cleaned",
        "<style>",
    ),
    ("onerror-title", "title", "Border <img src=x onerror=alert(1)> talks", "cleaned", "onerror"),
    (
        "jslink-summary",
        "summary",
        'See <a href="javascript:alert(1)">this</a>.',
        "cleaned",
        "javascript:",
    ),
    ("mojibake-title", "title", "Meeting in MÃ¼nchen with KÃ¶hler", "cleaned", "MÃ¼nchen"),
    ("mojibake-summary", "summary", "Itâ€™s the ministerâ€™s view.", "cleaned", "Itâ€™s"),
    ("date-0000", "date", "0000", "rejected", "0000"),
    ("date-feb-50", "date", "2010-02-50", "rejected", "2010-02-50"),
    ("date-0001", "date", "0001-01-01", "rejected", "0001-01-01"),
    ("date-month-13", "date", "1951-13-01", "rejected", "1951-13-01"),
    ("date-words", "date", "the day after the war", "rejected", "the day after"),
    ("title-1mb", "title", "A" * MB, "rejected", "AAAA"),
]


def field_cases(fmt: str) -> Iterator[Case]:
    suffix, write, many = WRITERS[fmt]
    for name, attr, value, outcome, marker in FIELD_HAZARDS:
        if fmt == "dapage" and name == "date-words":
            continue  # page text has no date field: a line that is no date is the title
        rid = f"{fmt}-{name}"
        bad = fields(rid, **{_column(attr): value})
        records = [fields(f"{rid}-ok"), bad] if many else [bad]
        text = write(records)
        ok = (f"{rid}-ok",) if many else ()
        field, line = FIELD_NAMES[attr][fmt], _line(fmt, text, rid, value)
        if fmt in HTML_SUMMARY and name == "style-summary":
            # A style sheet in an HTML field is normal (Word exports): dropped without a note.
            outcome, field, marker, line = "valid", "", "", None
        if fmt in XML_FORMATS and name.startswith("ctrl-"):
            # XML 1.0 cannot carry control characters: the file is not well-formed.
            outcome, field, marker, ok = "rejected", "XML", marker, ()
            line = line_of(text, marker)
        published = ok + ((rid,) if outcome in ("cleaned", "valid") else ())
        yield Case(f"{rid}{suffix}", text.encode("utf-8"), outcome, field, marker, line, published)


XML_FORMATS = ("tei", "oai")
HTML_SUMMARY = ("dacsv", "dajson")
"""Formats whose summary field holds HTML."""


def _column(attr: str) -> str:
    return {"title": "title", "date": "original_publication_date", "summary": "summary"}[attr]


def _line(fmt: str, text: str, rid: str, value: str) -> int | None:
    """The line a row about record `rid` names: its CSV row, the line of the value in the
    text formats, the record's "id" line in JSON."""
    if fmt == "dacsv":
        return line_of(text, f"\n{rid},") and (line_of(text, f"\n{rid},") or 0) + 1
    if fmt == "dajson":
        return line_of(text, f'"id": "{rid}"')
    if fmt == "oai":
        return line_of(text, f"<identifier>oai:example:{rid}<")
    probe = value.split("\x07")[0][:20]
    if fmt == "tei":
        return line_of(text, ">" + _x(probe)) if "summary" not in rid else line_of(text, "<body")
    return line_of(text, probe)


def id_cases(fmt: str) -> Iterator[Case]:
    suffix, write, many = WRITERS[fmt]
    if fmt != "tei":  # a TEI file without xml:id takes its file name as ID
        rid = f"{fmt}-missing-id"
        records = [fields(f"{rid}-ok"), fields("")] if many else [fields("")]
        text = write(records)
        ok = (f"{rid}-ok",) if many else ()
        line = {
            "dacsv": 3,
            "dapage": line_of(text, "Document Information"),
            "dajson": line_of(text, '"title": "Memorandum  on'),
            "oai": line_of(text, "<record><header></header>"),
        }[fmt]
        yield Case(
            f"{rid}{suffix}", text.encode(), "rejected", FIELD_NAMES["id"][fmt], "", line, ok
        )
    rid = f"{fmt}-dup"
    first = write([fields(rid)])
    yield Case(f"{rid}-1{suffix}", first.encode(), "valid", published=(rid,))
    # Mojibake too: a duplicate gets its one duplicate row, not also a cleaned one.
    second = write([fields(rid, title="Another record in MÃ¼nchen with the same ID")])
    line = {
        "dapage": line_of(second, "Record ID"),
        "tei": line_of(second, "xml:id"),
    }.get(fmt) or _line(fmt, second, rid, "Another record")
    yield Case(f"{rid}-2{suffix}", second.encode(), "duplicate", "id", rid, line)


def encoding_cases(fmt: str) -> Iterator[Case]:
    suffix, write, _many = WRITERS[fmt]
    rid = f"{fmt}-latin1"
    text = write([fields(rid, title="Café talks in Zürich")])
    if fmt == "tei" or fmt == "oai":
        text = text.replace('encoding="UTF-8"', 'encoding="UTF-8"')  # a lying declaration
    line = line_of(text, "Café")
    yield Case(f"{rid}{suffix}", text.encode("latin-1"), "rejected", "encoding", "\\xe9", line)
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        rid = f"{fmt}-{codec}"
        text = write([fields(rid)])
        yield Case(f"{rid}{suffix}", bom + text.encode(codec), "rejected", "encoding", "UTF-16", 1)
    rid = f"{fmt}-utf-16-nobom"
    text = write([fields(rid)])
    yield Case(f"{rid}{suffix}", text.encode("utf-16-le"), "rejected", "encoding", "UTF-16", 1)
    rid = f"{fmt}-cp1252-quotes"
    text = write([fields(rid, summary="It\u2019s \u201cfinal\u201d")])
    data = text.encode("cp1252")
    yield Case(f"{rid}{suffix}", data, "rejected", "encoding", "\\x92", line_of(text, "It\u2019s"))


def truncated_cases(fmt: str) -> Iterator[Case]:
    suffix, write, many = WRITERS[fmt]
    rid = f"{fmt}-truncated"
    long = "A long text " * 50
    records = [fields(f"{rid}-ok"), fields(rid, text_body=long, summary=long)]
    text = write(records if many else records[1:])
    if fmt == "dapage":
        cut = text.index(rid, text.index("Record ID"))  # the ID's value is cut off
        yield Case(
            f"{rid}{suffix}",
            text[:cut].encode(),
            "rejected",
            "record id",
            "",
            line_of(text, "Document Information"),
        )
        return
    cut = text.index("A long text") + 200
    data = text[:cut]
    if fmt == "dacsv":
        line = line_of(text, f"\n{rid},")
        yield Case(
            f"{rid}{suffix}",
            data.encode(),
            "rejected",
            "",
            "",
            (line or 0) + 1,
            (f"{rid}-ok",),
        )
        return
    last = data.count("\n") + 1
    yield Case(
        f"{rid}{suffix}", data.encode(), "rejected", "", "", last if fmt != "dajson" else last
    )


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)
XXE_FILE = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
XXE_HTTP = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:1/x">]>\n'
XXE_PARAM = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]>\n'
)
QUADRATIC = '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY a "' + "a" * 50_000 + '">]>\n'
DOCTYPES = {
    "billion-laughs": (BILLION_LAUGHS, "&lol9;"),
    "xxe-file": (XXE_FILE, "&x;"),
    "xxe-http": (XXE_HTTP, "&x;"),
    "xxe-parameter": (XXE_PARAM, ""),
    "quadratic": (QUADRATIC, "&a;" * 1000),
}


def xml_cases(fmt: str) -> Iterator[Case]:
    suffix, write, _many = WRITERS[fmt]
    for name, (doctype, use) in DOCTYPES.items():
        rid = f"{fmt}-{name}"
        text = write([fields(rid, title=f"Title TITLE{rid}")])
        body = text.split("?>", 1)[1].replace(f"TITLE{rid}", use)
        data = doctype + body.lstrip("\n")
        yield Case(f"{rid}{suffix}", data.encode(), "rejected", "doctype", "<!", 2)
    rid = f"{fmt}-deep-xml"
    text = write([fields(rid, title="DEEP")])
    depth = 100_000
    text = text.replace("DEEP", "<hi>" * depth + "deep" + "</hi>" * depth)
    if fmt == "tei":
        text = text.replace("<hi>", '<hi xmlns="http://www.tei-c.org/ns/1.0">', 1)
    yield Case(f"{rid}{suffix}", text.encode(), "rejected", "", "depth", None)


def json_cases() -> Iterator[Case]:
    surrogates = [
        ("surrogate-title", '"Caf\\ud800 report"', "title", "Caf"),
        ("surrogate-low", '"Talks \\udc80\\udc81 ended"', "title", "Talks"),
    ]
    for name, literal, attr, marker in surrogates:
        rid = f"dajson-{name}"
        text = as_json([fields(f"{rid}-ok"), fields(rid, title="SURROGATE")])
        text = text.replace('"SURROGATE"', literal)
        yield Case(
            f"{rid}.json",
            text.encode(),
            "cleaned",
            attr,
            marker,
            line_of(text, f'"id": "{rid}"'),
            (f"{rid}-ok", rid),
        )
    rid = "dajson-deep-field"
    text = as_json([fields(f"{rid}-ok"), fields(rid, notes="DEEP")])
    text = text.replace('"DEEP"', "[" * 200 + "1" + "]" * 200)
    yield Case(
        f"{rid}.json",
        text.encode(),
        "rejected",
        "",
        "",
        line_of(text, f'"id": "{rid}"'),
        (f"{rid}-ok",),
    )
    for bracket, close in (("[", "]"), ("{", "}")):
        rid = f"dajson-deep-document-{'list' if bracket == '[' else 'object'}"
        inner = '"a":' if bracket == "{" else ""
        text = (bracket + inner) * 100_000 + "1" + close * 100_000
        if bracket == "{":
            text = '{"id": "deep", "title": "x", "doc_date": "1951", "a":' + text + "}"
        yield Case(f"{rid}.json", text.encode(), "rejected", "", "", None)
    rid = "dajson-id-object"
    text = as_json([fields(f"{rid}-ok"), fields(rid)]).replace(
        f'"id": "{rid}"', '"id": {"$gt": ""}'
    )
    yield Case(
        f"{rid}.json",
        text.encode(),
        "rejected",
        "id",
        "$gt",
        line_of(text, '"id": {'),
        (f"{rid}-ok",),
    )
    rid = "dajson-title-list"
    text = as_json([fields(f"{rid}-ok"), fields(rid, title="LIST")]).replace('"LIST"', "[1, {}]")
    yield Case(
        f"{rid}.json",
        text.encode(),
        "rejected",
        "title",
        "[1",
        line_of(text, f'"id": "{rid}"'),
        (f"{rid}-ok",),
    )


def csv_cases() -> Iterator[Case]:
    rid = "dacsv-extra-cell"
    text = csv_rows([fields(f"{rid}-ok"), fields(rid)]).replace(f"{rid},", f"{rid},x,", 1)
    text = text.replace(f"\n{rid}-ok,x,", f"\n{rid}-ok,", 1)
    yield Case(f"{rid}.csv", text.encode(), "rejected", "", rid, 3, (f"{rid}-ok",))
    rid = "dacsv-1mb-cell"
    text = csv_rows([fields(f"{rid}-ok"), fields(rid, notes="B" * MB)])
    yield Case(f"{rid}.csv", text.encode(), "valid", published=(f"{rid}-ok", rid))
    rid = "dacsv-nul"
    text = csv_rows([fields(f"{rid}-ok"), fields(rid, title="Nul\x00 in the title")])
    yield Case(f"{rid}.csv", text.encode(), "cleaned", "title", "Nul", 3, (f"{rid}-ok", rid))


def rdf_cases() -> Iterator[Case]:
    """Harvested RDF (OAI-PMH `rdf` records): a valid one, and a triples bomb."""

    def record(rid: str, statements: str) -> str:
        uri = f"{BASE}record/{rid}"
        return (
            OAI_HEAD
            + f"<record><header><identifier>{uri}</identifier></header><metadata>"
            + '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            + 'xmlns:dcterms="http://purl.org/dc/terms/">'
            + f'<rdf:Description rdf:about="{uri}"><dcterms:identifier>{rid}</dcterms:identifier>'
            + f"<dcterms:title>Harvested {rid}</dcterms:title>{statements}</rdf:Description>"
            + "</rdf:RDF></metadata></record></ListRecords></OAI-PMH>\n"
        )

    yield Case(
        "oai-rdf-ok.xml", record("oai-rdf-ok", "").encode(), "valid", published=("oai-rdf-ok",)
    )
    many = "".join(f"<dcterms:subject>s{i}</dcterms:subject>" for i in range(60_000))
    yield Case(
        "oai-rdf-triples.xml",
        record("oai-rdf-triples", many).encode(),
        "rejected",
        "rdf",
        "triples",
        None,
    )


def valid_cases() -> Iterator[Case]:
    for fmt in FORMATS:
        suffix, write, _ = WRITERS[fmt]
        rid = f"{fmt}-valid"
        text = write([fields(rid, text_body='Quotes " \' \\ and """ survive.\nLine two.')])
        yield Case(f"{rid}{suffix}", text.encode(), "valid", published=(rid,))
    rid = "dapage-1mb-text"
    text = as_page([fields(rid, text_body="word " * (MB // 5))])
    yield Case(f"{rid}.txt", text.encode(), "valid", published=(rid,))


def cases() -> list[Case]:
    out: list[Case] = []
    for fmt in FORMATS:
        out += field_cases(fmt)
        out += id_cases(fmt)
        out += encoding_cases(fmt)
        out += truncated_cases(fmt)
    for fmt in ("tei", "oai"):
        out += xml_cases(fmt)
    out += json_cases()
    out += csv_cases()
    out += rdf_cases()
    out += valid_cases()
    names = [c.name for c in out]
    assert len(names) == len(set(names)), "case file names must be unique"
    return out


def write_corpus(folder: Path) -> list[Case]:
    """Write every case's file into `folder`; returns the cases."""
    folder.mkdir(parents=True, exist_ok=True)
    written = cases()
    for case in written:
        (folder / case.name).write_bytes(case.data)
    return written


# --- cost per file -----------------------------------------------------------------------------


def process_file(path: Path) -> int:
    """What a build's worker does with one file, short of the disk: read, map, and make every
    document (HTML, Turtle, JSON-LD, N-Triples, RDF/XML). Returns the records made."""
    from lod.errors import SourceError
    from lod.model import Record
    from lod.sources import read_file

    vocab, mapper, site = _worker()
    made = 0
    for item in read_file(path, path.name, vocab):
        if not isinstance(item, Record):
            continue
        try:
            result = mapper.map(item)
        except SourceError:
            continue
        site.write(result.uri, result.triples, result.title)
        made += 1
    return made


@functools.cache
def _worker() -> tuple[Any, Any, Any]:
    """The vocabulary, mapper and document writer, made once as a build worker makes them."""
    from lod.mapping import Mapper
    from lod.publish.writer import SiteWriter
    from lod.uris import Minter
    from lod.vocab import load_vocab

    vocab = load_vocab()
    minter = Minter(BASE)
    return vocab, Mapper(vocab, minter), SiteWriter(Path("/nonexistent"), minter, vocab, hold=True)


@dataclass(frozen=True)
class Cost:
    name: str
    seconds: float
    """Wall-clock time, fork to exit."""
    cpu: float
    """User + system CPU time of the child: the file's own cost, whatever else the machine runs."""
    peak_mb: float
    status: int


def measure(folder: Path, names: list[str]) -> list[Cost]:
    """Each file processed alone in a forked child (imports and vocabulary already loaded, as in
    a build's worker): its wall time and its peak RSS from wait4's rusage."""
    process_file(folder / names[0])  # warm every cache the parent can hold
    costs = []
    for name in names:
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                process_file(folder / name)
                code = 0
            except BaseException:  # noqa: BLE001 - the child reports any escape as status 1
                code = 1
            os._exit(code)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
        cpu = usage.ru_utime + usage.ru_stime
        code = os.waitstatus_to_exitcode(status)
        costs.append(Cost(name, seconds, cpu, usage.ru_maxrss / 1024, code))
    return costs


def measure_apart(folder: Path, names: list[str]) -> list[Cost]:
    """`measure` run by a fresh interpreter, as a build's workers are forked from `lod build`:
    a forked child's peak RSS counts the parent's pages, so forking from a process that holds
    more (a test runner with its plugins and other modules' imports) would charge that to
    each file."""
    code = (
        "import json, sys; from dataclasses import asdict; from pathlib import Path; "
        "from bench.malformed import measure; "
        "print(json.dumps([asdict(c) for c in measure(Path(sys.argv[1]), sys.argv[2:])]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder), *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return [Cost(**row) for row in json.loads(done.stdout)]


def table(costs: list[Cost]) -> str:
    rows = ["| file | wall s | CPU s | peak RSS (MB) |", "|---|---:|---:|---:|"]
    for cost in sorted(costs, key=lambda c: -c.cpu):
        rows.append(f"| {cost.name} | {cost.seconds:.3f} | {cost.cpu:.3f} | {cost.peak_mb:.0f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--measure", action="store_true", help="print per-file cost")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    written = write_corpus(args.out)
    summary = [c.summary() for c in written]
    (args.out.parent / f"{args.out.name}.cases.json").write_text(json.dumps(summary, indent=1))
    kinds = {
        k: sum(c.outcome == k for c in written)
        for k in ("rejected", "duplicate", "cleaned", "valid")
    }
    print(f"{len(written)} files in {args.out}: {kinds}")
    if args.measure:
        costs = measure(args.out, [c.name for c in written])
        print(table(costs))
        slowest = max(costs, key=lambda c: c.cpu)
        heaviest = max(costs, key=lambda c: c.peak_mb)
        print(
            f"worst: {slowest.name} {slowest.cpu:.2f} s CPU ({slowest.seconds:.2f} s wall); "
            f"{heaviest.name} {heaviest.peak_mb:.0f} MB peak RSS; "
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
