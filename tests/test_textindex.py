"""The keyword index: ranking, snippets, query syntax users may type, kinds, errors, and the
index `lod build` writes for the sample records and the shared corpus."""

from __future__ import annotations

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lod.errors import PublishError
from lod.textindex import (
    INDEX_FILE,
    MARK_END,
    MARK_START,
    SearchResult,
    TextIndex,
    TextIndexWriter,
    fts_query,
)
from tests.conftest import BASE

FILLER = "The delegation met at the ministry and discussed the agenda at length. " * 3


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TextIndex]:
    path = tmp_path / INDEX_FILE
    with TextIndexWriter(path) as writer:
        writer.add(
            "r:title",
            "record",
            "Telegram on the armistice talks",
            summary="Mao reports to Moscow.",
            text=FILLER,
        )
        writer.add(
            "r:text",
            "record",
            "Minutes of a meeting",
            summary="Routine business.",
            text=FILLER + "An armistice was mentioned once.",
        )
        writer.add(
            "r:phrase",
            "record",
            "Letter",
            text="They signed the peace treaty. Negotiations went on for weeks.",
        )
        writer.add(
            "r:apart", "record", "Note", text="The treaty was not about peace at all, he said."
        )
        writer.add(
            "r:russian",
            "record",
            "Запись беседы",
            text="По указанию министра иностранных дел СССР тов. ВЫШИНСКОГО 1 января посетил.",
        )
        writer.add("r:french", "record", "Café society", text="Un naïve résumé of the Élysée.")
        writer.add("a:stalin", "agent", "Joseph Stalin", labels=["FILIPPOV", "Сталин, И. В."])
        writer.add(
            "r:mentions",
            "record",
            "Report on the harvest",
            text="Stalin was informed.",
            labels=["Joseph Stalin", "FILIPPOV"],
        )
        writer.add("p:moscow", "place", "Moscow")
        writer.add("r:marks", "record", "Control \x02characters\x03", text="x\x02y\x03z")
    text_index = TextIndex(path)
    yield text_index
    text_index.close()


def uris(result: SearchResult) -> list[str]:
    return [hit.uri for hit in result.hits]


def test_title_match_ranks_above_a_full_text_match(index: TextIndex) -> None:
    result = index.search("armistice")
    assert uris(result) == ["r:title", "r:text"] and result.total == 2
    assert result.hits[0].score > result.hits[1].score > 0
    assert result.hits[0].title == "Telegram on the armistice talks"
    assert result.hits[0].kind == "record"


def test_snippets_mark_the_matched_words(index: TextIndex) -> None:
    hit = index.search("armistice").hits[1]
    assert f"{MARK_START}armistice{MARK_END} was mentioned once" in hit.snippet
    assert hit.snippet.startswith("…")  # cut from a longer text
    phrase = index.search('"peace treaty"').hits[0]
    assert f"{MARK_START}peace treaty{MARK_END}" in phrase.snippet


def test_marker_characters_in_the_data_cannot_fake_a_match(index: TextIndex) -> None:
    hit = index.search("characters").hits[0]
    assert hit.title == "Control  characters " and MARK_START not in hit.title
    assert index.search("xyz").total == 0 and index.search("y").total == 1


def test_phrase_and_words(index: TextIndex) -> None:
    assert uris(index.search('"peace treaty"')) == ["r:phrase"]
    assert sorted(uris(index.search("peace treaty"))) == ["r:apart", "r:phrase"]
    assert uris(index.search('treaty "went on"')) == ["r:phrase"]


def test_prefix_search(index: TextIndex) -> None:
    assert index.search("negotiat").total == 0  # whole words only...
    assert uris(index.search("negotiat*")) == ["r:phrase"]  # ...unless truncated
    assert uris(index.search('"peace tre"*')) == ["r:phrase"]
    assert uris(index.search("Neg* weeks")) == ["r:phrase"]


@pytest.mark.parametrize(
    ("query", "uri"),
    [
        ("Вышинского", "r:russian"),
        ("вышинского", "r:russian"),
        ("министр*", "r:russian"),
        ("беседы", "r:russian"),
        ("cafe", "r:french"),
        ("CAFÉ", "r:french"),
        ("resume", "r:french"),
        ("résumé", "r:french"),
        ("elysee", "r:french"),
        ("naive", "r:french"),
        ("Сталин", "a:stalin"),
        ("Cafe\u0301", "r:french"),  # decomposed é, as some keyboards send it
    ],
)
def test_cyrillic_and_diacritics(index: TextIndex, query: str, uri: str) -> None:
    assert uris(index.search(query)) == [uri]


HOSTILE = [
    '"',
    '""',
    '"""',
    "*",
    "**",
    "NEAR(",
    "NEAR(a b, 2)",
    "OR",
    "AND",
    "NOT",
    "a OR",
    "OR treaty",
    "-",
    "-treaty",
    ":",
    "title:treaty",
    "{title}: treaty",
    "^treaty",
    "treaty +peace",
    '"unbalanced quote',
    'peace "treaty',
    "(treaty",
    "treaty)",
    "\\",
    "'; DROP TABLE docs; --",
    "\x00",
    "tre\x00aty",
    "\ud800",
    "\udcff treaty",
    "\x02treaty\x03",
    "   ",
    "",
    "*treaty",
    "tr*aty",
    "treaty" * 2000,
    "treaty " * 2000,
    "x" * 10_000,
    '" * ( ) : ^ + - NEAR OR AND NOT { } [ ]',
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_gives_results_or_nothing(index: TextIndex, query: str) -> None:
    result = index.search(query)
    assert result.query == query and result.total == len(result.hits)
    assert all(isinstance(uri, str) for uri, _score in index.uris(query, 10))
    assert index.search(query, kind="agent").total >= 0


def test_words_in_hostile_input_still_count(index: TextIndex) -> None:
    assert uris(index.search("OR treaty")) == []  # "or" is a word here, and no text has it
    assert sorted(uris(index.search("-treaty"))) == ["r:apart", "r:phrase"]
    assert sorted(uris(index.search("(treaty"))) == ["r:apart", "r:phrase"]
    assert sorted(uris(index.search('peace "treaty'))) == ["r:apart", "r:phrase"]
    assert sorted(uris(index.search("\ud800treaty"))) == ["r:apart", "r:phrase"]
    assert index.search("treaty " * 2000).total == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stalin", '"stalin"'),
        ("Mao Zedong", '"Mao" AND "Zedong"'),
        ('"peace treaty" signed', '"peace treaty" AND "signed"'),
        ('"peace tre"*', '"peace tre" *'),
        ("negotiat*", '"negotiat" *'),
        ("NEAR(a b)", '"NEAR(a" AND "b)"'),
        ('"', ""),
        ("- : *", ""),
        ('say "hi', '"say" AND "hi"'),
        ("OR", '"OR"'),
        ('a"b', '"a" AND "b"'),
    ],
)
def test_fts_query(text: str, expected: str) -> None:
    assert fts_query(text) == expected


def test_kind_filter(index: TextIndex) -> None:
    assert uris(index.search("stalin")) == ["a:stalin", "r:mentions"]
    assert uris(index.search("stalin", kind="agent")) == ["a:stalin"]
    assert index.search("stalin", kind="agent").hits[0].kind == "agent"
    assert uris(index.search("stalin", kind="record")) == ["r:mentions"]
    assert index.search("stalin", kind="record").total == 1
    assert index.search("stalin", kind="place").total == 0
    assert index.search("stalin", kind="nonsense").total == 0
    assert uris(index.search("moscow", kind="place")) == ["p:moscow"]
    assert index.kinds == (
        "agent",
        "place",
        "subject",
        "archive",
        "collection",
        "record",
        "vocab",
    )


def test_labels_find_a_record_by_the_names_it_links_to(index: TextIndex) -> None:
    result = index.search("filippov")
    assert uris(result) == ["a:stalin", "r:mentions"]


def test_paging_and_uris(index: TextIndex) -> None:
    both = index.search("the")
    assert both.total >= 4
    assert (
        uris(index.search("the", limit=2)) + uris(index.search("the", limit=2, offset=2))
        == (uris(both)[:4])
    )
    assert index.search("the", offset=1000).hits == [] and index.search("the", limit=0).hits == []
    assert index.search("the", offset=10**30).total == both.total  # a hostile page number
    assert index.search("the", limit=-5, offset=-5).hits == []
    assert len(index.uris("the", 10**30)) == both.total
    assert [uri for uri, _ in index.uris("the", 1000)] == uris(both)
    assert index.uris("armistice", 1) == [("r:title", index.search("armistice").hits[0].score)]
    assert index.uris("armistice", 0) == []


def test_threads_share_an_index(index: TextIndex) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: uris(index.search("armistice")), range(64)))
    assert results == [["r:title", "r:text"]] * 64


def test_missing_index_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site" / INDEX_FILE
    with pytest.raises(PublishError, match="no keyword index at .*site/search.sqlite"):
        TextIndex(path)


def test_corrupt_index_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / INDEX_FILE
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(PublishError, match=f"{path}.*cannot be read"):
        TextIndex(path)
    (tmp_path / "empty.sqlite").write_bytes(b"")
    with pytest.raises(PublishError, match="empty.sqlite"):
        TextIndex(tmp_path / "empty.sqlite")


def test_writer_refuses_an_existing_file_and_abort_removes_its_own(tmp_path: Path) -> None:
    path = tmp_path / INDEX_FILE
    path.write_text("keep me")
    with pytest.raises(PublishError, match="already exists"):
        TextIndexWriter(path)
    assert path.read_text() == "keep me"
    other = tmp_path / "other.sqlite"
    with pytest.raises(RuntimeError), TextIndexWriter(other) as writer:
        writer.add("r:1", "record", "Title")
        raise RuntimeError("the build failed")
    assert not other.exists()
    with pytest.raises(ValueError), TextIndexWriter(other) as writer:
        writer.add("r:1", "nonsense", "Title")
    assert not other.exists()
    with pytest.raises(PublishError, match="cannot create the keyword index .*/no/such/folder"):
        TextIndexWriter(tmp_path / "no" / "such" / "folder" / INDEX_FILE)


def test_same_input_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        with TextIndexWriter(tmp_path / name) as writer:
            for number in range(2000):
                writer.add(f"r:{number}", "record", f"Record {number}", text=FILLER * 2)
            writer.add("a:1", "agent", "Someone", labels=["Someone, A."])
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


# --- the index `lod build` writes -------------------------------------------------------------


def test_build_indexes_the_sample_records(records_site: Path) -> None:
    text_index = TextIndex(records_site / INDEX_FILE)
    try:
        for query in ("Filippov", "Stalin", "Korean troops", '"Peng Dehuai"', "Kim Il*"):
            assert BASE + "record/112095" in uris(text_index.search(query)), query
        record = next(h for h in text_index.search("Filippov").hits if h.kind == "record")
        assert record.title.startswith("Telegram from Mao Zedong to I.V. Stalin")
        molotov = text_index.search("Vyacheslav Molotov", kind="agent")
        assert uris(molotov) == [BASE + "agent/vyacheslav-molotov"]
        assert uris(text_index.search("Beijing", kind="place")) == [BASE + "place/beijing"]
        archive = text_index.search("APRF", kind="archive")
        assert BASE + "archive/aprf" in uris(archive)
        # The country of a record's archive is not a name the record itself links to.
        assert uris(text_index.search("Russia", kind="record")) == []
    finally:
        text_index.close()


@pytest.mark.corpus
def test_build_indexes_the_corpus(corpus_site: Path) -> None:
    text_index = TextIndex(corpus_site / INDEX_FILE)
    try:
        # "Arbenz" occurs once in the corpus, in the text of these HAC minutes (TEI).
        assert uris(text_index.search("Arbenz")) == [BASE + "record/1988-12-08-hac-meeting-minutes"]
        # Russian text of a transcript read from the Digital Archive's JSON API.
        russian = text_index.search("Вышинского")
        assert uris(russian) == [BASE + "record/transcript-33548"]
        assert f"{MARK_START}Вышинского{MARK_END}" in russian.hits[0].snippet
        nehru = text_index.search("Nehru")
        assert BASE + "agent/jawaharlal-nehru" in uris(nehru)
        assert any(hit.kind == "record" for hit in nehru.hits)
    finally:
        text_index.close()


def test_random_input_never_raises(index: TextIndex) -> None:
    rng = random.Random(1951)
    alphabet = ['"', "*", "(", ")", ":", "^", "+", "-", "{", "}", " ", "NEAR", "OR", "AND"]
    alphabet += ["NOT", "treaty", "peace", "é", "Ж", "\x00", "\\", "'", ",", "."]
    for _ in range(500):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert index.search(query).total >= 0, query
        index.uris(query, 5)
