"""Curated queries: each file loads, runs on the sample records, and gives the answer read from
the shared corpus's sources (../shared/corpus), checked value by value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, QueryBoolean, QuerySolutions, Store

from lod.curated import CuratedQuery, load_curated
from lod.errors import ConfigError

QUERIES = load_curated()
BY_SLUG = {query.slug: query for query in QUERIES}

Value = str | int | None
Row = tuple[Value, ...]

# Expected answers on the shared corpus plus records/ (the corpus_site fixture), written from the
# sources: the seed page 112095.txt, the CSV scrape, the API examples and the FRUS TEI files.
# Each entry is (columns, rows): a set when the order is not the question, a list when it is.

NO_ARCHIVE = "(no holding archive recorded)"
# The TEI example cites "Example Archive", which lod does not know.
NO_ARCHIVE_PER_YEAR = {"1951": 1}
# FRUS TEI documents cite Department of State lot files ("Department of State, ..., (Lot File
# 96 D 292), Box 1, ..."); years from their <date type="created">.
STATE_DEPARTMENT_PER_YEAR = {
    "1957": 1, "1960": 1, "1961": 2, "1963": 1, "1964": 1, "1965": 1, "1967": 1,
    "1968": 1, "1969": 1, "1971": 1, "1972": 1, "1973": 1, "1974": 1, "1975": 1, "1976": 2,
    "1977": 1, "1978": 1, "1980": 3, "1981": 2, "1982": 1, "1984": 1, "1985": 1, "1986": 1,
    "1988": 4, "1989": 1, "1990": 4, "1991": 1,
}  # fmt: skip
ARCHIVE_PER_YEAR = {
    ("Archive of the President of the Russian Federation", "1951"): 1,  # 112095
    ("Diplomatic Archives of the Ministry of Foreign Affairs of Japan", "1967"): 4,  # 300638-41
    ("Foreign Policy Archive of the Russian Federation", "1967"): 1,  # example-csv-1
    ("German Federal Archives", "1996"): 1,  # 300237
    ("German Federal Archives", "1997"): 5,  # 300238-42
    ("National Archives and Records Administration", "1972"): 1,  # kogan-to-franklin
    ("National Archives and Records Administration", "1976"): 1,  # slany-and-costrell
    ("National Archives and Records Administration", "1979"): 1,  # glennon-to-allen
    ("Nehru Memorial Museum and Library", "1949"): 1,  # 300653
    ("Russian State Archive of Contemporary History", "1958"): 1,  # example-api-1
}
SUBJECTS_IN_SEVERAL = {
    "Japan--Foreign relations--Taiwan": 4,
    "China--Foreign relations--Japan": 3,
    "North Atlantic Treaty Organization": 3,
    "Europe--Economic integration": 2,
    "Example subject--Testing": 2,
    "Taiwan--International status": 2,
}
SUBJECTS_IN_ONE = (
    "Afghanistan--Politics and government",
    "China--Foreign relations--Taiwan",
    "China--History--Cultural Revolution, 1966-1976",
    "China--Politics and government--1949-1976",
    "France--Foreign relations--Germany",
    "France--Foreign relations--Poland",
    "Germany--Foreign relations--Great Britain",
    "Germany--Foreign relations--Kazakhstan",
    "Germany--Foreign relations--Poland",
    "Germany--Foreign relations--Portugal",
    "Germany--Foreign relations--Russia",
    "Germany--Foreign relations--Ukraine",
    "India--Foreign relations--Pakistan",
    "Iran--Foreign relations--Russia",
    "Iran--Politics and government",
    "Japan--Economic policy",
    "Japan--Foreign relations--United States",
    "Japan--Politics and government--1945-1989",
    "Kazakhstan--Foreign relations--Russia",
    "North Atlantic Treaty Organization--Poland",
    "Nuclear energy--Iran",
    "Nuclear weapons--China",
    "Poland--Foreign relations--Russia",
    "Russia--Economic conditions",
    "Russia--Foreign relations--Ukraine",
    "Russia--Politics and government",
    "Taiwan--Economic policy",
    "Taiwan--Politics and government",
    "Ukraine--Economic policy--1991-",
    "Ukraine--Politics and government",
    "Vietnam War, 1961-1975",
)
AAT = "http://vocab.getty.edu/aat/"
KOHL_FILE = [f"record/{n}" for n in range(300237, 300243)]  # source "BArch, B 136/59748, ..."

EXPECTED: dict[str, tuple[tuple[str, ...], set[Row] | list[Row]]] = {
    "telegrams-by-sender-and-year": (
        ("record", "date", "recipients"),
        {("record/112095", "1951-01-16", "Joseph Stalin")},
    ),
    "documents-per-archive-per-year": (
        ("archiveName", "year", "documents"),
        {(NO_ARCHIVE, year, n) for year, n in NO_ARCHIVE_PER_YEAR.items()}
        | {("U.S. Department of State", y, n) for y, n in STATE_DEPARTMENT_PER_YEAR.items()}
        | {(name, year, n) for (name, year), n in ARCHIVE_PER_YEAR.items()},
    ),
    "records-about-a-place": (
        ("record", "placeName"),
        {
            ("record/300653", "China"),
            ("record/300638", "China"),
            ("record/300639", "China"),
            ("record/300640", "China"),
            ("record/300238", "China"),
            ("record/300239", "China"),
            ("record/112095", "Beijing"),  # "From BEIJING"; Beijing is in China
            ("record/example-api-1", "Beijing"),  # coverage Beijing, parent China
        },
    ),
    "records-in-aprf-fonds-45": (
        ("record", "citation"),
        {("record/112095", "APRF, f. 45, op. 1, d. 337, ll. 1-3.")},
    ),
    "people-who-appear-with-a-person": (
        ("name", "records"),
        # Helmut Kohl is a contributor of 300237-300242; the others named there (CSV columns
        # document_contributors and associated_people_orgs) or mentioned in the texts, by their
        # labels in vocab/authorities.csv.
        [
            ("Boris Yeltsin", 5),  # 300237, 300238 (people); 300239, 300240, 300242 (texts)
            ("Joachim Bitterlich", 4),  # 300238, 300239, 300241, 300242
            ("Jacques Chirac", 2),  # 300237 (people), 300242 (text)
            ("Leonid Kuchma", 2),  # 300240 (contributor), 300237 (text)
            ("Akbar Hashemi Rafsanjani", 1),  # 300239
            ("Aleksander Kwaśniewski", 1),  # 300237
            ("António Guterres", 1),  # 300241
            ("Nursultan Nazarbayev", 1),  # 300239
            ("Tony Blair", 1),  # 300242
            ("Walter Neuer", 1),  # 300237
            ("Yevgeny Primakov", 1),  # 300238
        ],
    ),
    "records-in-a-language": (
        ("record",),
        {("record/300638",), ("record/300639",), ("record/300640",), ("record/300641",)},
    ),
    "languages-with-record-counts": (
        ("code", "records"),
        [("(not recorded)", 43), ("ger", 6), ("jpn", 4), ("rus", 2), ("eng", 1)],
    ),
    "document-types-with-counts": (
        ("aat", "label", "records"),
        {
            (AAT + "300027440", "Minutes", 20),  # "Minutes of ..." and "Annex to Minutes"
            (
                None,
                "(no recognised type)",
                18,
            ),  # "Record of/Transcript of ... Meeting", reports, CSV without type
            (AAT + "300026879", "Letter", 8),
            (AAT + "300026906", "Memorandum", 8),
            (AAT + "300026877", "Correspondence", 1),
            (AAT + "300026909", "Telegram", 1),
        },
    ),
    "records-in-a-date-range": (
        ("record", "date"),
        {
            ("record/300638", "1967-11"),
            ("record/example-csv-1", "1967-11"),
            ("record/1967-11-03-hac-meeting-minutes", "1967-11-03"),
            ("record/300639", "1967-11-06"),
            ("record/300640", "1967-11-18"),
            ("record/300641", "1967-11-24"),
        },
    ),
    "records-of-a-collection": (
        ("collection", "record"),
        {("collection/local-nationalism-in-xinjiang-1957-1958", "record/example-api-1")},
    ),
    "everything-linked-to-a-person": (
        ("record", "role"),
        {
            ("record/112095", "author"),
            ("record/112095", "mentioned"),  # the text: "MAO ZEDONG"
            ("record/300640", "mentioned"),
            ("record/example-csv-1", "mentioned"),
            ("record/1981-11-13-hac-meeting-minutes", "mentioned"),  # "Chairman Mao"
            ("record/1989-11-16-hac-meeting-minutes", "mentioned"),  # "Mao Tse-tung"
        },
    ),
    "subjects-with-record-counts": (
        ("label", "records"),
        [*SUBJECTS_IN_SEVERAL.items(), *((label, 1) for label in SUBJECTS_IN_ONE)],
    ),
    "records-with-imprecise-dates": (
        ("record", "precision"),
        {
            ("record/example-tei-1", "approximate or uncertain"),  # "ca. 1951"
            ("record/300638", "month"),  # "November 1967"
            ("record/example-csv-1", "month"),  # "November 1967"
            ("record/example-api-1", "year"),  # "1958"
        },
    ),
    "people-with-wikidata-links": (
        ("name", "wikidata", "records"),
        [
            # 112095, 300640, example-csv-1, and the minutes of 1981 and 1989 (texts)
            ("Mao Zedong", "http://www.wikidata.org/entity/Q5816", 5),
            # 112095, and the minutes of 1960 and 1968 (texts)
            ("Joseph Stalin", "http://www.wikidata.org/entity/Q855", 3),
        ],
    ),
    "holding-archives": (
        ("abbreviation", "name", "country", "records"),
        {
            ("APRF", "Archive of the President of the Russian Federation", "Russia", 1),
            ("AVPRF", "Foreign Policy Archive of the Russian Federation", "Russia", 1),
            ("BArch", "German Federal Archives", "Germany", 6),
            (
                "MOFA Japan",
                "Diplomatic Archives of the Ministry of Foreign Affairs of Japan",
                "Japan",
                4,
            ),
            ("NARA", "National Archives and Records Administration", "United States", 3),
            ("NMML", "Nehru Memorial Museum and Library", "India", 1),
            ("RGANI", "Russian State Archive of Contemporary History", "Russia", 1),
            (
                "DOS",
                "U.S. Department of State",
                "United States",
                sum(STATE_DEPARTMENT_PER_YEAR.values()),
            ),
        },
    ),
    "records-addressed-to-a-person": (
        ("record", "from"),
        [
            ("record/1980-07-28-white-to-trask", "Thomas White"),
            ("record/1981-03-18-kane-guatemala-appeal", "N. Stephen Kane"),
        ],
    ),
    "records-in-an-archival-file": (("record",), [(uri,) for uri in KOHL_FILE]),
    "titles-containing-a-phrase": (("record",), {("record/300638",), ("record/300641",)}),
    "records-by-classification-level": (
        ("level", "label", "records"),
        [
            # the marking in the FRUS source notes: HAC minutes of 1961-1974 ("1968—Minutes.
            # Limited Official Use."), of 1960, 1975, 1984 and Glennon's 1979 letter
            # ("Confidential."), the HAC minutes of June 1991 ("Secret."); original_classification
            # of CSV rows 300653, 300641, 300640 and example-csv-1; example-api-1 "Top Secret"
            ("vocab/classification/limited-official-use", "Limited Official Use", 10),
            ("vocab/classification/secret", "Secret", 5),
            ("vocab/classification/confidential", "Confidential", 4),
            ("vocab/classification/top-secret", "Top Secret", 1),
        ],
    ),
}

_TAIL = re.compile(r"/((?:record|agent|place|subject|archive|collection|vocab)/.+)$")


def tail(uri: str) -> str:
    """'http://any.base/record/112095' -> 'record/112095'; other URIs stay whole."""
    match = _TAIL.search(uri)
    return match.group(1) if match else uri


def plain(term: object) -> Value:
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return tail(term.value)
    assert isinstance(term, Literal), term
    if term.datatype.value == "http://www.w3.org/2001/XMLSchema#integer":
        return int(term.value)
    return term.value


def answer(store: Store, query: CuratedQuery, columns: tuple[str, ...]) -> list[Row]:
    solutions = store.query(query.sparql, use_default_graph_as_union=True)
    assert isinstance(solutions, QuerySolutions), query.slug
    return [tuple(plain(solution[name]) for name in columns) for solution in solutions]


@pytest.fixture(scope="module")
def records_store(records_site: Path) -> Store:
    return Store.read_only(str(records_site / "store"))


@pytest.fixture(scope="module")
def corpus_store(corpus_site: Path) -> Store:
    return Store.read_only(str(corpus_site / "store"))


def test_the_curated_queries_are_loaded_in_file_order() -> None:
    names = sorted(
        path.name for path in (Path(__file__).parent.parent / "vocab/queries").glob("*.rq")
    )
    assert len(QUERIES) >= 14
    assert [re.sub(r"^\d+-|\.rq$", "", name) for name in names] == [q.slug for q in QUERIES]
    assert len(BY_SLUG) == len(QUERIES)
    assert load_curated() is QUERIES  # loaded once


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_a_curated_query_is_standalone_and_base_independent(query: CuratedQuery) -> None:
    assert query.title and query.description
    assert not query.sparql.lstrip().startswith("#")
    assert re.search(r"^\s*(SELECT|ASK)\b", query.sparql, re.M | re.I)
    used = set(re.findall(r"(?<![\w-])([a-z][a-z0-9-]*):[A-Za-z0-9_]", query.sparql))
    declared = set(re.findall(r"^PREFIX\s+([a-z0-9-]+):", query.sparql, re.M))
    assert used <= declared, f"undeclared prefixes {used - declared}"
    # The base URI differs between builds: no build URI and no lod: term (minted under it).
    assert "127.0.0.1" not in query.sparql and "/vocab/lod#" not in query.sparql
    select = re.search(r"^SELECT\b(.*?)\bWHERE\b", query.sparql, re.M | re.S)
    counts = (
        "COUNT(" in (select.group(1) if select else "") or "sdmx-measure:obsValue" in query.sparql
    )
    if select and not counts:
        # A list of records: the results table links each one by its URI and title.
        assert "?record" in select.group(1) and "?title" in select.group(1)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_a_curated_query_runs_on_the_sample_records(
    records_store: Store, query: CuratedQuery
) -> None:
    result = records_store.query(query.sparql, use_default_graph_as_union=True)
    if not isinstance(result, QueryBoolean):
        list(result)


def test_the_seed_telegram_is_found_in_the_sample_records(records_store: Store) -> None:
    query = BY_SLUG["telegrams-by-sender-and-year"]
    assert answer(records_store, query, ("record", "date")) == [("record/112095", "1951-01-16")]


def test_every_curated_query_has_an_expected_answer() -> None:
    assert sorted(EXPECTED) == sorted(BY_SLUG), "add the query's answer on the corpus to EXPECTED"


@pytest.mark.corpus
@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.slug)
def test_a_curated_query_answers_as_the_corpus_says(
    corpus_store: Store, query: CuratedQuery
) -> None:
    assert query.slug in EXPECTED, f"no expected answer for {query.slug} in EXPECTED"
    columns, expected = EXPECTED[query.slug]
    rows = answer(corpus_store, query, columns)
    if isinstance(expected, list):
        assert rows == expected
    else:
        assert len(rows) == len(set(rows)), "duplicate rows"
        assert set(rows) == expected


def test_load_curated_rejects_a_file_without_a_title(tmp_path: Path) -> None:
    (tmp_path / "01-good.rq").write_text(
        "# title: Good\n# description: Fine.\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8"
    )
    (tmp_path / "02-headerless.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="02-headerless.rq"):
        load_curated(tmp_path)


def test_load_curated_reads_the_header_and_keeps_the_query(tmp_path: Path) -> None:
    (tmp_path / "02-second.rq").write_text("# title: Second\nASK { ?s ?p ?o }\n", encoding="utf-8")
    (tmp_path / "01-first-one.rq").write_text(
        "# title: First one\n# description: A long description\n#   on two lines.\n"
        "PREFIX schema: <http://schema.org/>\n# a comment in the query stays\n"
        "SELECT ?s WHERE { ?s schema:name ?n }\n",
        encoding="utf-8",
    )
    first, second = load_curated(tmp_path)
    assert first == CuratedQuery(
        "first-one",
        "First one",
        "A long description on two lines.",
        "PREFIX schema: <http://schema.org/>\n# a comment in the query stays\n"
        "SELECT ?s WHERE { ?s schema:name ?n }\n",
    )
    assert (second.slug, second.title, second.description) == ("second", "Second", "")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("telegrams.rq", "# title: T\nASK {}\n", "NN-slug.rq"),
        ("01-empty.rq", "# title: T\n# description: D\n", "no SPARQL"),
        ("01-untitled.rq", "# description: D\nASK {}\n", "no '# title:' line"),
    ],
)
def test_load_curated_names_the_bad_file(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_curated(tmp_path)
    assert name in str(caught.value)


def test_telegrams_of_a_year_include_approximate_and_ranged_dates(tmp_path: Path) -> None:
    """A telegram dated "ca. 1951" or over two days has no schema:dateSent (schema.org takes
    one exact date), but it was sent in 1951 all the same: the query matches the year on
    dcterms:created, which holds every date as recorded."""
    from lod.config import Config
    from lod.publish.site import build
    from tests.conftest import BASE

    title = "Telegram from Mao Zedong to Joseph Stalin"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "telegrams.csv").write_text(
        "record_id,title,original_publication_date\n"
        f'1,{title},"January 16, 1951"\n'
        f'2,{title},"January 5-6, 1951"\n'
        f"3,{title},ca. 1951\n"
        f'4,{title},"January 16, 1952"\n',
        encoding="utf-8",
    )
    build([tmp_path / "src"], tmp_path / "site", Config(base_uri=BASE, progress=False))
    store = Store.read_only(str(tmp_path / "site" / "store"))
    query = BY_SLUG["telegrams-by-sender-and-year"]
    assert answer(store, query, ("record", "date")) == [
        ("record/2", "1951-01-05/1951-01-06"),
        ("record/1", "1951-01-16"),
        ("record/3", "1951~"),
    ]
