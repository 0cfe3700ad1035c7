"""Mentions found in full text: the matching rule case by case, the seed telegram, and precision
and recall over the hand-checked list in tests/data/mentions.csv (corpus records)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from lod.mapping import Mapper
from lod.mentions import MentionFinder
from lod.model import Record
from lod.namespaces import expand
from lod.sources import find_files, read_file
from lod.uris import Minter
from lod.vocab import load_vocab
from tests.conftest import BASE, RECORDS, ROOT

VOCAB = load_vocab()
FINDER = MentionFinder(VOCAB)
SLUGS = {a.label: a.slug for a in VOCAB.authorities.values()}
CHECKED = ROOT / "tests" / "data" / "mentions.csv"

MEASURED_PRECISION = 1.0
MEASURED_RECALL = 0.969
"""Measured on tests/data/mentions.csv (README, "Mentions in full text"): 226 of 233 real
mentions found (0.970), no false one."""


def found(text: str) -> list[str]:
    return [SLUGS[label] for _, label in FINDER.find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MAO ZEDONG", ["mao-zedong"]),
        ("a telegram to Comrade FILIPPOV [Stalin].", ["joseph-stalin"]),
        ("Telegram from Mao Zedong to I.V. Stalin", ["mao-zedong", "joseph-stalin"]),
        ("I. V. Stalin", ["joseph-stalin"]),
        ("Kim Il-sung and Kim Il Sung", ["kim-il-sung"]),
        ("Chou En-lai met Chairman Mao.", ["zhou-enlai", "mao-zedong"]),
        ("Copies: Stalin (2), Molotov", ["joseph-stalin", "vyacheslav-molotov"]),
        ("Marshal Stalin's red pencil", ["joseph-stalin"]),
        ("Roosevelt-Stalin correspondence", ["joseph-stalin"]),
        ("the area of Busan-Daegu", ["busan"]),
        ("He will withdraw from North Korea.", ["north-korea"]),
        ("In China the situation", ["china"]),
        ("Sato visited the Republic of China.", ["taiwan"]),
        ("the People's Republic of China", ["china"]),
        ("Satō Eisaku", ["eisaku-sato"]),
        # negatives
        ("the battle of Stalingrad and Stalinist purges", []),
        ("Maoist thought; the Mao-Lin faction", []),
        ("Kim Hoggard wrote to Kim Roosevelt", []),
        ("Mao alone, Kim alone, Peng alone, Nehru alone", []),
        ("the Stalin Prize", []),
        ("the South China Sea", []),
        ("East Germany and West Germany", ["east-germany", "west-germany"]),
        ("fine china and japanned boxes", []),
        ("Japanese and Chinese troops", []),
        ("Mr. Blair said so", []),
        ("MP Li Peng", []),
        ("the John F. Kennedy School of Government", []),
        ("Kim Il Sung Square", []),
        ("President Kennedy and John F. Kennedy", ["john-f-kennedy"]),
        ("from Bonn to Berlin", ["bonn", "berlin"]),
        ("the Kiev summit, then Kyiv", ["kyiv"]),
        ("the state of New Mexico", []),
    ],
)
def test_rule(text: str, expected: list[str]) -> None:
    assert found(text) == expected


def test_seed_telegram_mentions() -> None:
    (record,) = [r for r in read_file(RECORDS / "112095.txt") if isinstance(r, Record)]
    mapped = Mapper(VOCAB, Minter(BASE)).map(record)
    mentions = {
        t.object.value
        for t in mapped.triples
        if t.subject.value == mapped.uri and t.predicate.value == expand("schema:mentions")
    }
    agents = {"mao-zedong", "joseph-stalin", "peng-dehuai", "kim-il-sung", "vyacheslav-molotov"}
    assert {BASE + "agent/" + slug for slug in agents} <= mentions
    assert BASE + "place/busan" in mentions
    names = {e.uri: e for e in mapped.entities}
    assert all(uri in names for uri in mentions)
    assert isinstance(next(iter(mapped.triples)).subject, NamedNode)


def corpus_records(corpus: Path) -> dict[str, Record]:
    records: dict[str, Record] = {}
    for path in find_files([corpus, RECORDS]):
        for item in read_file(path):
            if isinstance(item, Record):
                records.setdefault(item.id, item)
    return records


def test_precision_and_recall_on_the_hand_checked_list(corpus: Path) -> None:
    """Every mention the finder reports in a listed record must be on the list (so the list
    judges all of them); precision stays 1.0 and recall at least what was measured."""
    with CHECKED.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    truth = {(r["record"], r["entity"]): r["mentioned"] == "yes" for r in rows}
    records = corpus_records(corpus)
    reported = set()
    for record_id in {r["record"] for r in rows}:
        r = records[record_id]
        for slug in found("\n".join((r.title, r.summary, r.text, r.transcript))):
            reported.add((record_id, slug))
    unjudged = reported - truth.keys()
    assert not unjudged, f"add these to {CHECKED.name} with a judgement: {sorted(unjudged)}"
    true_positives = sum(1 for pair in reported if truth[pair])
    precision = true_positives / len(reported)
    recall = true_positives / sum(truth.values())
    assert precision == MEASURED_PRECISION
    assert recall >= MEASURED_RECALL
