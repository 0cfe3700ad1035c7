from pathlib import Path

import pytest

from lod.citations import parse_citation


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("APRF, f. 45, op. 1, d. 337, ll. 1-3.", ("APRF", "45", "1", "337", "", "1-3", "")),
        (
            "RGANI, f. 5, op. 49, d. 131, ll. 193-194. Translated by Gary Goldberg.",
            ("RGANI", "5", "49", "131", "", "193-194", "Translated by Gary Goldberg."),
        ),
        (
            "AVPRF, f. 0100, op. 43, d. 43, papka 302, l. 1.",
            ("AVPRF", "0100", "43", "43", "302", "1", ""),
        ),
        (
            "BArch, B 136/59748, 403-410. Contributed, transcribed, and translated by Stephan Kieninger.",
            (
                "BArch",
                "",
                "",
                "B 136/59748",
                "",
                "403-410",
                "Contributed, transcribed, and translated by Stephan Kieninger.",
            ),
        ),
        (
            # the Chinese Foreign Ministry Archive's form, as the Digital Archive cites it
            "PRC FMA 109-00866-01, 1-5. Translated by David Cowhig.",
            ("PRC FMA", "", "", "109-00866-01", "", "1-5", "Translated by David Cowhig."),
        ),
        ("PRC FMA 106-00025-01.", ("PRC FMA", "", "", "106-00025-01", "", "", "")),
        (
            "Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1.",
            ("Nehru Memorial Museum and Library", "", "", "JNSG", "", "", "vol. 21-1."),
        ),
        (
            "Diplomatic Archives of the Ministry of Foreign Affairs of Japan, File A’0392 "
            "(Microfilm). Contributed by Robert Hoppens.",
            (
                "Diplomatic Archives of the Ministry of Foreign Affairs of Japan",
                "",
                "",
                "A’0392",
                "",
                "",
                "(Microfilm). Contributed by Robert Hoppens.",
            ),
        ),
        (
            "Department of State, Bureau of Public Affairs, Office of the Historian, Advisory "
            "Committee on Historical Diplomatic Documentation Files, 1957-1990 (Lot File 96 D 292), "
            "Box 1, 1961-Report.",
            (
                "Department of State",
                "",
                "Bureau of Public Affairs, Office of the Historian, Advisory Committee on "
                "Historical Diplomatic Documentation Files, 1957-1990",
                "96 D 292",
                "1",
                "",
                "1961-Report.",
            ),
        ),
        (
            "National Archives and Records Administration, Record Group 59, Entry UD-WW-9: Bureau "
            "of Public Affairs, Office of the Historian, Arthur Kogan Files, 1945-1980 (83 D 230), "
            "Box 2, Access, History of. Drafted by Arthur Kogan.",
            (
                "National Archives and Records Administration",
                "59",
                "UD-WW-9",
                "83 D 230",
                "2",
                "",
                "Access, History of. Drafted by Arthur Kogan.",
            ),
        ),
        (
            "2002 ATHENS 002867",
            ("Department of State", "", "2002", "2002 ATHENS 002867", "", "", ""),
        ),
        (
            "Cable 1979 STATE 295771, Confidential.",
            ("Department of State", "", "1979", "1979 STATE 295771", "", "", "Confidential."),
        ),
    ],
)
def test_parsed_parts(text: str, parts: tuple[str, ...]) -> None:
    c = parse_citation(text)
    assert (c.archive, c.fonds, c.series, c.file, c.folder, c.leaves, c.remainder) == parts
    assert c.verbatim == text
    assert c.parsed


@pytest.mark.parametrize(
    "text",
    [
        "Personal papers of the author, kept privately.",
        "Some Library, Files on the question, 1961.",
        "Department of State, Central Files, 611.61/1-2358.",
        "1951 telegram from Mao Zedong to Filippov",
        "2002 Athens 002867",
    ],
)
def test_unknown_form_is_kept_verbatim_only(text: str) -> None:
    c = parse_citation(text)
    assert c.verbatim == text
    assert not c.parsed and c.archive == ""


def test_citation_parts_are_queryable_on_the_corpus(corpus_site: Path, corpus: Path) -> None:
    """ "Everything in State Department lot file 96 D 292" and "everything from NARA record group
    59" are one query each, and find exactly the records whose citations say so."""
    from pyoxigraph import Store

    from lod.model import Record
    from lod.sources import read_sources

    citations = [i.citation for i in read_sources([corpus]) if isinstance(i, Record)]
    store = Store.read_only(str(corpus_site / "store"))
    base = "http://127.0.0.1:8000/archive/"
    for archive, identifier, marker in (
        ("us-department-of-state", "96 D 292", "(Lot File 96 D 292)"),
        ("nara", "59", "National Archives and Records Administration, Record Group 59,"),
    ):
        query = f"""
            PREFIX rico: <https://www.ica.org/standards/RiC/ontology#>
            PREFIX dcterms: <http://purl.org/dc/terms/>
            SELECT (COUNT(DISTINCT ?record) AS ?n) WHERE {{
                ?set rico:identifier "{identifier}" ;
                     rico:isOrWasIncludedIn*/rico:hasOrHadHolder <{base}{archive}> .
                ?record rico:isOrWasIncludedIn+ ?set ; dcterms:source ?citation }}"""
        (row,) = list(store.query(query, use_default_graph_as_union=True))
        expected = sum(marker in c for c in citations)
        assert expected > 0 and int(row["n"].value) == expected, identifier


def test_a_cable_reference_is_a_file_of_the_state_department() -> None:
    """ "2002 ATHENS 002867" becomes the file of that name, in the year's series, held by the
    Department of State: the same hierarchy as the other citation forms."""
    from pyoxigraph import NamedNode

    from lod.mapping import Mapper
    from lod.model import Origin, Record
    from lod.uris import Minter
    from lod.vocab import load_vocab

    base = "http://127.0.0.1:8000/"
    record = Record(
        id="c1",
        source_format="csv",
        title="Cable",
        citation="2002 ATHENS 002867",
        origin=Origin("x"),
    )
    mapped = Mapper(load_vocab(), Minter(base)).map(record)
    rico = "https://www.ica.org/standards/RiC/ontology#"
    parent = {
        t.subject.value: t.object.value
        for t in mapped.triples
        if t.predicate == NamedNode(rico + "isOrWasIncludedIn")
    }
    holder = {
        t.subject.value: t.object.value
        for t in mapped.triples
        if t.predicate == NamedNode(rico + "hasOrHadHolder")
    }
    archive = base + "archive/us-department-of-state"
    year = archive + "/series/2002"
    cable = year + "/file/2002-athens-002867"
    assert parent == {base + "record/c1": cable, cable: year}
    assert holder == {base + "record/c1": archive, year: archive}


def test_series_differing_past_the_slug_length_stay_apart() -> None:
    """Two series of the Office of the Historian differ only in their dates, 80 characters in:
    each record must sit in its own series, under a URI the series alone owns."""
    from lod.mapping import Mapper
    from lod.model import Record
    from lod.sources import read_file
    from lod.uris import SLUG_MAX, Minter
    from lod.vocab import load_vocab
    from tests.conftest import BASE, corpus_path

    mapper = Mapper(load_vocab(), Minter(BASE))
    series: dict[str, str] = {}
    for name in ("1960-11-04-hac-meeting-minutes.xml", "1991-06-18-hac-meeting-minutes.xml"):
        (record,) = [
            r for r in read_file(corpus_path("frus-history", name)) if isinstance(r, Record)
        ]
        for entity in mapper.map(record).entities:
            if "/series/" in entity.uri and "/file/" not in entity.uri:
                series[entity.uri] = dict(entity.literals)["rico:identifier"]
    prefix = BASE + "archive/us-department-of-state/series/"
    assert sorted(series.values()) == [
        "Bureau of Public Affairs, Office of the Historian, Advisory Committee on Historical"
        " Diplomatic Documentation Files, 1957-1990",
        "Bureau of Public Affairs, Office of the Historian, Advisory Committee on Historical"
        " Diplomatic Documentation Files, 1972-2007",
    ]
    assert all(u.startswith(prefix) and len(u) - len(prefix) <= SLUG_MAX for u in series)
