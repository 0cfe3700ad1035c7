"""Synthetic records for benchmarks: CSV-scrape rows with ~3 KB of text each and entities
(people, places, subjects, archives) shared across records, as in a real archive.

One record in KNOWN_EVERY also takes part in one of the stories the curated queries
(vocab/queries/) ask about: Mao Zedong's telegrams of 1951, Helmut Kohl's conversations in the
Bundesarchiv file B 136/59748, letters to David Trask, APRF fonds 45, Chiang Ching-kuo in
Taiwan and the Xinjiang collection, each with a classification level. Without them those
queries would look up names the records lack and time an empty answer. Their choices come from
a second random stream, so every other record is the same as without them."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

WORDS = (
    "telegram ministry army comrade committee report meeting border treaty delegation "
    "conference embassy question policy government secret urgent copy division troops "
    "negotiation agreement economic cooperation visit minister premier"
).split()
ARCHIVES = ["APRF", "AVPRF", "RGASPI", "RGANI", "GARF"]
TYPES = ["Telegram", "Letter", "Memorandum", "Minutes", "Report"]
LANGUAGES = ["Russian", "Chinese", "German", "English", "Japanese"]
KNOWN_EVERY = 25


@dataclass(frozen=True)
class Story:
    """A record as a curated query expects to find it (vocab/queries/)."""

    title: str
    doc_type: str
    authors: tuple[str, ...]
    places: tuple[str, ...]
    people: tuple[str, ...]
    source: str
    language: str
    classification: str
    year: int | None = None
    date: str = ""
    """When given, the date as written, {year} the record's year."""
    collections: tuple[str, ...] = ()


STORIES = (
    Story(
        "Telegram from Mao Zedong to Joseph Stalin about {word} {i}",
        "Telegram",
        ("Mao Zedong",),
        ("China", "Moscow"),
        ("Mao Zedong", "Joseph Stalin"),
        "APRF, f. 45, op. 1, d. {n}, ll. {leaf}-{last}.",
        "Chinese",
        "Top Secret",
        year=1951,
    ),
    Story(
        "Conversation between Helmut Kohl and {person} about {word} {i}",
        "Memorandum",
        (),
        ("Germany", "Bonn"),
        ("Helmut Kohl",),
        "BArch, B 136/59748, {leaf}-{last}.",
        "German",
        "Confidential",
        year=1990,
    ),
    Story(
        "Letter from {person} to David Trask about {word} {i}",
        "Letter",
        ("{full}",),
        ("Washington",),
        ("David Trask",),
        "NARA, RG 59, box {n}.",
        "English",
        "Secret",
    ),
    Story(
        "Memorandum of Conversation with Chiang Ching-kuo about {word} {i}",
        "Memorandum",
        (),
        ("Taiwan", "China", "Xinjiang"),
        ("Chiang Ching-kuo",),
        "APRF, f. 45, op. 1, d. {n}, ll. {leaf}-{last}.",
        "Russian",
        "Secret",
        date="ca. {year}",
        collections=("Xinjiang in the Cold War",),
    ),
)
"""What the curated queries ask about, one story a known record; {person} (a family name),
{full}, {word}, {i}, {n}, {leaf} and {last} are filled in per record."""
HEADER = [
    "record_id",
    "title",
    "original_publication_date",
    "text_body",
    "summary",
    "authors",
    "associated_places",
    "subjects_discussed",
    "associated_people_orgs",
    "source",
    "original_upload_date",
    "language",
    "rights",
    "type",
    "original_classification",
    "collections",
]


def generate(count: int, folder: Path, seed: int = 1951, per_file: int = 10_000) -> Path:
    """Write `count` records into CSV files of `per_file` rows under `folder`."""
    rng = random.Random(seed)
    known = random.Random(seed + 1)
    people = [f"Person{i}, Given{i}" for i in range(2_000)]
    places = [f"Place {i}" for i in range(500)]
    subjects = [f"Topic {i}--Foreign relations" for i in range(800)]
    folder.mkdir(parents=True, exist_ok=True)
    for start in range(0, count, per_file):
        with (folder / f"synthetic-{start // per_file:05d}.csv").open(
            "w", encoding="utf-8", newline=""
        ) as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for i in range(start, min(count, start + per_file)):
                text = " ".join(rng.choice(WORDS) for _ in range(450))
                year = rng.randint(1945, 1991)
                row = [
                    f"syn-{i}",
                    f"{rng.choice(TYPES)} from {rng.choice(people).split(',')[0]} about {rng.choice(WORDS)} {i}",
                    f"{rng.choice(['January', 'March', 'July', 'November'])} {rng.randint(1, 28)}, {year}",
                    text,
                    " ".join(rng.choice(WORDS) for _ in range(40)),
                    json.dumps(rng.sample(people, 2)),
                    json.dumps(rng.sample(places, 2)),
                    json.dumps(rng.sample(subjects, 2)),
                    json.dumps(rng.sample(people, 2)),
                    f"{rng.choice(ARCHIVES)}, f. {rng.randint(1, 20)}, op. {rng.randint(1, 3)}, "
                    f"d. {rng.randint(1, 30)}, ll. {rng.randint(1, 50)}-{rng.randint(51, 99)}.",
                    f"20{rng.randint(10, 23)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                    json.dumps([rng.choice(LANGUAGES)]),
                    "The History and Public Policy Program welcomes reuse of Digital Archive materials.",
                    rng.choice(TYPES),
                    "",
                    "",
                ]
                if i % KNOWN_EVERY == KNOWN_EVERY - 1:
                    row = _known(row, i, known, people)
                writer.writerow(row)
    return folder


def _known(row: list[str], i: int, rng: random.Random, people: list[str]) -> list[str]:
    """`row` retold as one of the STORIES, its date, text and subjects kept."""
    story = STORIES[(i // KNOWN_EVERY) % len(STORIES)]
    person = rng.choice(people)
    leaf = rng.randint(1, 300)
    values = {
        "person": person.split(",")[0],
        "full": person,
        "word": rng.choice(WORDS),
        "i": i,
        "n": rng.randint(1, 400),
        "leaf": leaf,
        "last": leaf + rng.randint(1, 9),
    }
    fields = dict(zip(HEADER, row, strict=True))
    date = fields["original_publication_date"]
    if story.date:
        date = story.date.format(year=date.rsplit(" ", 1)[1])
    elif story.year:
        date = f"{date.rsplit(' ', 1)[0]} {story.year}"
    fields.update(
        title=story.title.format(**values),
        original_publication_date=date,
        authors=_names(story.authors, values),
        associated_places=_names(story.places, values),
        associated_people_orgs=_names((*story.people, "{full}"), values),
        source=story.source.format(**values),
        language=json.dumps([story.language]),
        type=story.doc_type,
        original_classification=story.classification,
        collections=_names(story.collections, values),
    )
    return [str(fields[name]) for name in HEADER]


def _names(templates: tuple[str, ...], values: dict[str, object]) -> str:
    """A list column's JSON, each name filled in from `values`; "" for none."""
    return json.dumps([t.format(**values) for t in templates]) if templates else ""
