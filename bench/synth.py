"""Synthetic records for benchmarks: CSV-scrape rows with ~3 KB of text each and entities
(people, places, subjects, archives) shared across records, as in a real archive."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

WORDS = (
    "telegram ministry army comrade committee report meeting border treaty delegation "
    "conference embassy question policy government secret urgent copy division troops "
    "negotiation agreement economic cooperation visit minister premier"
).split()
ARCHIVES = ["APRF", "AVPRF", "RGASPI", "RGANI", "GARF"]
TYPES = ["Telegram", "Letter", "Memorandum", "Minutes", "Report"]
LANGUAGES = ["Russian", "Chinese", "German", "English", "Japanese"]
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
]


def generate(count: int, folder: Path, seed: int = 1951, per_file: int = 10_000) -> Path:
    """Write `count` records into CSV files of `per_file` rows under `folder`."""
    rng = random.Random(seed)
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
                writer.writerow(
                    [
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
                    ]
                )
    return folder
