"""Verbatim date strings -> EDTF -> typed XSD values, keeping all three.

Archivists write dates many ways ("January 16, 1951", "November 1967", "ca. 1951", "1950s",
"November 5-6, 1965"); librarians query typed values and ranges. So each date keeps its verbatim
text, a normalized EDTF string (Library of Congress EDTF, level 0/1) and begin/end days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

from lod.errors import MappingError

XSD = "http://www.w3.org/2001/XMLSchema#"
EDTF_DATATYPE = "http://id.loc.gov/datatypes/edtf/EDTF"

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

SEASONS = {
    "spring": (21, 3, 5),
    "summer": (22, 6, 8),
    "autumn": (23, 9, 11),
    "winter": (24, 12, 14),
}
"""Season -> (EDTF level 1 code, first month, last month; 13-14 are the next year's January
and February): "Winter 1951" runs from December 1951 into February 1952."""
SEASONS["fall"] = SEASONS["autumn"]
SEASON_OF_CODE = {code: name for name, (code, _, _) in SEASONS.items() if name != "fall"}

MIN_YEAR = 100
"""Years below this are placeholders ("0000", "0001-01-01"), not archival dates."""

_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    # EDTF seasons ("1951-21"), before ISO months, which they resemble
    ("season", re.compile(r"(?P<year>\d{4})-(?P<code>2[1-4])")),
    ("iso", re.compile(r"(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})(?:[T ][\d:.+Z-]*)?")),
    ("iso_month", re.compile(r"(?P<year>\d{4})-(?P<m>\d{2})")),
    ("year", re.compile(r"(?P<year>\d{4})")),
    ("compact", re.compile(r"(?P<year>\d{4})(?P<m>\d{2})(?P<day>\d{2})")),
    ("mdy", re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})")),
    ("dmy", re.compile(r"(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})")),
    (
        "season",
        re.compile(r"(?P<season>spring|summer|autumn|fall|winter),?\s+(?P<year>\d{4})", re.I),
    ),
    ("my", re.compile(_MONTH + r",?\s+(?P<year>\d{4})")),
    ("dotted", re.compile(r"(?P<day>\d{1,2})\.(?P<m>\d{1,2})\.(?P<year>\d{4})")),
    (
        "mdy_range",
        re.compile(_MONTH + r"\s+(?P<day>\d{1,2})\s*[-–]\s*(?P<day2>\d{1,2}),?\s+(?P<year>\d{4})"),
    ),
    ("decade", re.compile(r"(?P<decade>\d{3})0s")),
    # EDTF as lod writes it (oai_dc dates), so a date read back parses to the same value.
    ("decade", re.compile(r"(?P<decade>\d{3})X")),
    (
        "mdy_range",
        re.compile(r"(?P<year>\d{4})-(?P<m>\d{2})-(?P<day>\d{2})/(?P=year)-(?P=m)-(?P<day2>\d{2})"),
    ),
    ("year_range", re.compile(r"(?P<year>\d{4})\s*[-–/]\s*(?P<year2>\d{4})")),
]
_APPROX = re.compile(r"^(?:ca?\.|circa|approx(?:imately|\.)?|about)\s*", re.IGNORECASE)
_UNDATED = re.compile(
    r"\[?\s*(?:undated|no date|date unknown|n\.\s?d|s\.\s?d)\.?\s*\]?", re.IGNORECASE
)
"""What archivists write for a document that bears no date ("undated", "n.d.", "[n.d.]"): a
statement about the document, to keep verbatim, not a date that failed to parse."""


@dataclass(frozen=True, slots=True)
class DateValue:
    """A parsed date: `precision` is day, month, year, or edtf (ranges, approximate, decades)."""

    verbatim: str
    edtf: str
    precision: str
    begin: str
    end: str

    @property
    def xsd_datatype(self) -> str:
        return {
            "day": XSD + "date",
            "month": XSD + "gYearMonth",
            "year": XSD + "gYear",
        }.get(self.precision, EDTF_DATATYPE)

    @property
    def typed_value(self) -> str:
        """The lexical form for `xsd_datatype` (the EDTF string itself for fuzzy dates)."""
        return self.edtf


def is_undated(verbatim: str) -> bool:
    """Whether the text states that the document has no date ("undated", "n.d.")."""
    return bool(_UNDATED.fullmatch(" ".join(verbatim.split())))


def looks_like_date(verbatim: str) -> bool:
    """Whether the text has the shape of a date lod reads, possible or not ("2010-02-50" has,
    "the day after the war" has not), or says there is none ("undated"): a reader can then
    tell a bad date from a title."""
    if is_undated(verbatim):
        return True
    try:
        parse_date(verbatim)
        return True
    except MappingError:
        pass
    text = _APPROX.sub("", " ".join(verbatim.split()).strip().rstrip(".")).rstrip("~")
    for _, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match and (match.groupdict().get("month") or "jan").lower() in MONTHS:
            return True
    return False


def parse_date(verbatim: str, field: str = "date") -> DateValue:
    """Parse a verbatim date; raise MappingError naming the field for impossible or unknown ones."""
    text, mark = _qualifier(" ".join(verbatim.split()).strip().rstrip(".").strip("[]").strip())
    value = _single(text, verbatim, field) or _range(text, verbatim, field)
    if value is None:
        raise MappingError(
            "unrecognized date",
            field=field,
            value=verbatim,
            hint="write it as 'January 16, 1951', '1951-01-16', 'November 1967', '1951', "
            "'ca. 1951' or a range of two such dates",
        )
    if mark:
        return DateValue(verbatim, _qualified(value.edtf, mark), "edtf", value.begin, value.end)
    return value


def _qualifier(text: str) -> tuple[str, str]:
    """The text without its EDTF qualifier, and the qualifier: "~" for approximate ("ca. 1951",
    "1951~"), "?" for uncertain ("1951?"); on a range, each end may carry it."""
    stripped = _APPROX.sub("", text)
    if stripped != text:
        return stripped, "~"
    for mark in QUALIFIERS:
        if text.endswith(mark):
            return "/".join(part.removesuffix(mark) for part in text.split("/")), mark
    return text, ""


QUALIFIERS = ("~", "?")


def _single(text: str, verbatim: str, field: str) -> DateValue | None:
    for name, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return _build(name, match.groupdict(), verbatim, field)
    return None


_RANGE_SEPARATOR = re.compile(r"\s*[-–—/]\s*|\s+to\s+")
SIMPLE = ("day", "month", "year")
"""The precisions an end of a range may have: EDTF intervals join dates, not intervals."""


def _range(text: str, verbatim: str, field: str) -> DateValue | None:
    """Two dates lod reads, as a range ("November 30-December 1, 1965", "January 1951 - March
    1951", "5-6 November 1965", EDTF's "1965-11-30/1965-12-01"). The first may leave to the
    second what they share: its year, or its month and year. Each place a separator could
    split the text is tried; None when no split gives two dates."""
    for separator in _RANGE_SEPARATOR.finditer(text):
        first, last = text[: separator.start()], text[separator.end() :]
        end = _quiet(last, verbatim, field)
        if not first or end is None or end.precision not in SIMPLE:
            continue
        borrowed = [first, f"{first}, {end.begin[:4]}"]
        if first.isdigit() and end.precision == "day":
            borrowed.append(end.begin[:8] + first.zfill(2))
        start = next((v for c in borrowed if (v := _quiet(c, verbatim, field))), None)
        if start is None or start.precision not in SIMPLE:
            continue
        if start.begin > end.end:
            raise MappingError(
                "range ends before it begins",
                field=field,
                value=verbatim,
                hint="write the earlier date first",
            )
        return DateValue(verbatim, f"{start.edtf}/{end.edtf}", "edtf", start.begin, end.end)
    return None


def _quiet(text: str, verbatim: str, field: str) -> DateValue | None:
    """A date, or None for a piece that is none: a split in the wrong place ("1951-13")."""
    try:
        return _single(text, verbatim, field)
    except MappingError:
        return None


def _qualified(edtf: str, mark: str) -> str:
    """The EDTF value qualified: "1951~"; a range on each end, "1950~/1953~" (EDTF level 1
    qualifies dates, not intervals: "1950/1953~" is no valid EDTF)."""
    return "/".join(f"{part}{mark}" for part in edtf.split("/"))


def _build(name: str, g: dict[str, str | None], verbatim: str, field: str) -> DateValue:
    if name == "decade":
        decade = int(g["decade"] or 0) * 10
        _check_year(decade, verbatim, field)
        return DateValue(
            verbatim, f"{decade // 10}X", "edtf", f"{decade:04d}-01-01", f"{decade + 9:04d}-12-31"
        )
    year = int(g["year"] or 0)
    _check_year(year, verbatim, field)
    if name == "year_range":
        year2 = int(g["year2"] or 0)
        _check_year(year2, verbatim, field)
        if year2 < year:
            raise MappingError(
                "range ends before it begins",
                field=field,
                value=verbatim,
                hint="write the earlier year first",
            )
        return DateValue(
            verbatim, f"{year}/{year2}", "edtf", f"{year:04d}-01-01", f"{year2:04d}-12-31"
        )
    if name == "year":
        return DateValue(verbatim, f"{year:04d}", "year", f"{year:04d}-01-01", f"{year:04d}-12-31")
    if name == "season":
        return _season(year, g, verbatim)
    month = _month(g, verbatim, field)
    if name in ("iso_month", "my"):
        last = calendar.monthrange(year, month)[1]
        iso = f"{year:04d}-{month:02d}"
        return DateValue(verbatim, iso, "month", f"{iso}-01", f"{iso}-{last:02d}")
    day = _day(year, month, g["day"], verbatim, field)
    iso = f"{year:04d}-{month:02d}-{day:02d}"
    if name == "mdy_range":
        day2 = _day(year, month, g["day2"], verbatim, field)
        if day2 < day:
            raise MappingError(
                "range ends before it begins",
                field=field,
                value=verbatim,
                hint="write the earlier day first",
            )
        iso2 = f"{year:04d}-{month:02d}-{day2:02d}"
        return DateValue(verbatim, f"{iso}/{iso2}", "edtf", iso, iso2)
    return DateValue(verbatim, iso, "day", iso, iso)


def _season(year: int, g: dict[str, str | None], verbatim: str) -> DateValue:
    """A season of a year, as EDTF writes it ("1951-21" for spring 1951), from its first day
    to its last (northern seasons, by month)."""
    season = (g.get("season") or SEASON_OF_CODE[int(g.get("code") or 0)]).lower()
    code, first, last = SEASONS[season]
    end_year, end_month = year + (last - 1) // 12, (last - 1) % 12 + 1
    end_day = calendar.monthrange(end_year, end_month)[1]
    return DateValue(
        verbatim,
        f"{year:04d}-{code}",
        "edtf",
        f"{year:04d}-{first:02d}-01",
        f"{end_year:04d}-{end_month:02d}-{end_day:02d}",
    )


def _check_year(year: int, verbatim: str, field: str) -> None:
    if year < MIN_YEAR:
        raise MappingError(
            "impossible year",
            field=field,
            value=verbatim,
            hint=f"use a real year (>= {MIN_YEAR}) or leave the date empty",
        )


def _month(g: dict[str, str | None], verbatim: str, field: str) -> int:
    if g.get("m"):
        month = int(g["m"] or 0)
    else:
        month = MONTHS.get((g.get("month") or "").lower(), 0)
    if not 1 <= month <= 12:
        raise MappingError(
            "impossible month",
            field=field,
            value=verbatim,
            hint="months run from 1 to 12 (or January to December)",
        )
    return month


def _day(year: int, month: int, raw: str | None, verbatim: str, field: str) -> int:
    day = int(raw or 0)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise MappingError(
            "impossible day",
            field=field,
            value=verbatim,
            hint=f"{calendar.month_name[month]} {year} has "
            f"{calendar.monthrange(year, month)[1]} days",
        )
    return day
