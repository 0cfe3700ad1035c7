"""Archival citations -> holding archive, fonds, series (opis), file (delo) and leaves.

The verbatim citation is always kept; the parts are added only where the text follows a known
pattern, so "everything from APRF fond 45" becomes a query instead of a string search.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Citation:
    verbatim: str
    archive: str = ""
    fonds: str = ""
    series: str = ""
    file: str = ""
    folder: str = ""
    leaves: str = ""
    remainder: str = ""

    @property
    def parsed(self) -> bool:
        return bool(self.archive and (self.fonds or self.file))


_RUSSIAN = re.compile(
    r"(?P<archive>[A-Z][A-Za-z]{1,12}(?: [A-Z][A-Za-z]{1,12})?),\s*"
    r"f\.\s*(?P<fonds>[\w/-]+),\s*"
    r"op\.\s*(?P<series>[\w/-]+),\s*"
    r"(?:d\.|ed\.\s*khr\.)\s*(?P<file>[\w/-]+)"
    r"(?:,\s*(?:papka|pap\.|p\.)\s*(?P<folder>[\w/-]+))?"
    r"(?:,\s*ll?\.\s*(?P<leaves>\d[\dob.\s,–-]*?))?"
    r"\.?(?=\s|$)"
)
"""Russian archive style: `APRF, f. 45, op. 1, d. 337, ll. 1-3.` (fond/opis/delo/[papka]/listy)."""

_BARCH = re.compile(
    r"(?P<archive>BArch),\s*(?P<file>[A-Z]{1,3}\s?\d+(?:-[IVX]+)?/\d+),\s*"
    r"(?P<leaves>\d+(?:\s*[-–]\s*\d+)?)\.?(?=\s|$)"
)
"""German Federal Archives: `BArch, B 136/59748, 403-410.` (signature/file, pages)."""

_PRC_FMA = re.compile(
    r"(?P<archive>PRC FMA)\s+(?P<file>\d+(?:-\d+){1,3})"
    r"(?:,\s*(?P<leaves>\d+(?:\s*[-–]\s*\d+)?))?\.?(?=\s|$)"
)
"""Chinese Foreign Ministry Archive: `PRC FMA 109-00866-01, 1-5.` (archival number, pages); no
comma follows the abbreviation, so without this form the record had no holding archive."""

_END = r"(?:,\s*|\.\s+|\.?$|\s+(?=\())"
"""Where the structured part of a citation ends: the rest is its remainder (folder titles,
notes, credits)."""

_NARA = re.compile(
    r"(?P<archive>National Archives and Records Administration|NARA),\s*"
    r"(?:Record Group|RG)\s+(?P<fonds>\d+)"
    r"(?:,\s*Entry\s+(?P<series>[\w-]+))?"
    r"(?::[^()]*\((?:Lot File\s+)?(?P<file>\d+\s*D\s*\d+)\))?"
    r"(?:,\s*Box\s+(?P<folder>\d+))?" + _END
)
"""U.S. National Archives: `NARA, Record Group 59, Entry UD-WW-9: ... (83 D 230), Box 2, ...`
(record group, entry, lot file, box)."""

_LOT_FILE = re.compile(
    r"(?P<archive>Department of State),\s*(?P<series>[^()]+?)\s*"
    r"\(Lot File\s+(?P<file>\d+\s*D\s*\d+)\)"
    r"(?:,\s*Box\s+(?P<folder>\d+))?" + _END
)
"""State Department lot files: `Department of State, <office>, <files>, <years> (Lot File 96 D
292), Box 1, <folder>` (the office's files as series, the lot file, its box)."""

_FILE = re.compile(
    r"(?P<archive>[A-Z][^,]{3,100}),\s*File(?:\s+No\.)?\s+(?P<file>[^\s,()]+?)" + _END
)
"""An archive and a file number: `Nehru Memorial Museum and Library, File No. JNSG, vol. 21-1.`,
`Diplomatic Archives of the Ministry of Foreign Affairs of Japan, File A'0392 (Microfilm).`"""

_CABLE = re.compile(
    r"(?:(?:Cable|Telegram)\s+)?(?P<series>(?:19|20)\d\d)\s+"
    r"(?P<post>[A-Z][A-Z]+(?:\s[A-Z]+){0,2})\s+(?P<number>\d{3,7})" + _END
)
"""U.S. State Department cable references: `2002 ATHENS 002867` (year, originating post or
STATE, message number), filed by the Department under the year; the whole reference names the
cable."""

CITATION_PATTERNS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (_RUSSIAN, {}),
    (_BARCH, {}),
    (_PRC_FMA, {}),
    (_NARA, {}),
    (_LOT_FILE, {}),
    (_FILE, {}),
    (_CABLE, {"archive": "Department of State"}),
)
"""Each pattern with the parts its form implies without writing them (a cable reference names
no archive: cables are the State Department's)."""


def parse_citation(text: str) -> Citation:
    """Split a citation into parts where a known pattern matches at its start."""
    verbatim = text.strip()
    for pattern, implied in CITATION_PATTERNS:
        match = pattern.match(verbatim)
        if match:
            parts = {k: (v or "").strip().rstrip(".").strip() for k, v in match.groupdict().items()}
            parts = implied | parts
            if "number" in parts:
                parts["file"] = f"{parts['series']} {parts['post']} {parts['number']}"
            return Citation(
                verbatim=verbatim,
                archive=parts.get("archive", ""),
                fonds=parts.get("fonds", ""),
                series=parts.get("series", ""),
                file=parts.get("file", ""),
                folder=parts.get("folder", ""),
                leaves=parts.get("leaves", ""),
                remainder=verbatim[match.end() :].strip(),
            )
    return Citation(verbatim=verbatim)
