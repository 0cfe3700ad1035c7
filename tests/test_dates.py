import pytest

from lod.dates import EDTF_DATATYPE, XSD, looks_like_date, parse_date
from lod.errors import MappingError

CASES = [
    ("January 16, 1951", "1951-01-16", "day", "1951-01-16", "1951-01-16"),
    ("November 1967", "1967-11", "month", "1967-11-01", "1967-11-30"),
    ("1981-06", "1981-06", "month", "1981-06-01", "1981-06-30"),
    ("1958", "1958", "year", "1958-01-01", "1958-12-31"),
    ("ca. 1951", "1951~", "edtf", "1951-01-01", "1951-12-31"),
    ("1950s", "195X", "edtf", "1950-01-01", "1959-12-31"),
    ("November 5-6, 1965", "1965-11-05/1965-11-06", "edtf", "1965-11-05", "1965-11-06"),
    ("1950-1953", "1950/1953", "edtf", "1950-01-01", "1953-12-31"),
    ("16.1.1951", "1951-01-16", "day", "1951-01-16", "1951-01-16"),
    ("19510116", "1951-01-16", "day", "1951-01-16", "1951-01-16"),
    ("1 April 1949", "1949-04-01", "day", "1949-04-01", "1949-04-01"),
    ("February 29, 1952", "1952-02-29", "day", "1952-02-29", "1952-02-29"),
    # EDTF as lod writes it (oai_dc dates read back), parsed to the same value
    ("1951~", "1951~", "edtf", "1951-01-01", "1951-12-31"),
    ("195X", "195X", "edtf", "1950-01-01", "1959-12-31"),
    ("1965-11-05/1965-11-06", "1965-11-05/1965-11-06", "edtf", "1965-11-05", "1965-11-06"),
    ("1950/1953", "1950/1953", "edtf", "1950-01-01", "1953-12-31"),
    # an approximate range: EDTF qualifies each end ("1950/1953~" is no valid EDTF)
    ("ca. 1950-1953", "1950~/1953~", "edtf", "1950-01-01", "1953-12-31"),
    ("ca. November 5-6, 1965", "1965-11-05~/1965-11-06~", "edtf", "1965-11-05", "1965-11-06"),
    ("1950~/1953~", "1950~/1953~", "edtf", "1950-01-01", "1953-12-31"),
    # ranges of two dates, the first leaving to the second what they share
    ("November 30-December 1, 1965", "1965-11-30/1965-12-01", "edtf", "1965-11-30", "1965-12-01"),
    ("January 1951 - March 1951", "1951-01/1951-03", "edtf", "1951-01-01", "1951-03-31"),
    ("December 1965 - January 1966", "1965-12/1966-01", "edtf", "1965-12-01", "1966-01-31"),
    ("March 1951 to June 1951", "1951-03/1951-06", "edtf", "1951-03-01", "1951-06-30"),
    ("5-6 November 1965", "1965-11-05/1965-11-06", "edtf", "1965-11-05", "1965-11-06"),
    ("1965-11-30/1965-12-01", "1965-11-30/1965-12-01", "edtf", "1965-11-30", "1965-12-01"),
    ("1951-01/1951-03", "1951-01/1951-03", "edtf", "1951-01-01", "1951-03-31"),
    # uncertain (EDTF "?"), and a date the cataloguer supplied in brackets
    ("1951?", "1951?", "edtf", "1951-01-01", "1951-12-31"),
    ("[1951?]", "1951?", "edtf", "1951-01-01", "1951-12-31"),
    ("[March 1951]", "1951-03", "month", "1951-03-01", "1951-03-31"),
    # seasons, as EDTF level 1 codes them (21-24); winter runs into the next year
    ("Spring 1951", "1951-21", "edtf", "1951-03-01", "1951-05-31"),
    ("fall 1949", "1949-23", "edtf", "1949-09-01", "1949-11-30"),
    ("Winter 1951", "1951-24", "edtf", "1951-12-01", "1952-02-29"),
    ("1951-21", "1951-21", "edtf", "1951-03-01", "1951-05-31"),
    ("ca. Summer 1965", "1965-22~", "edtf", "1965-06-01", "1965-08-31"),
]


@pytest.mark.parametrize(("text", "edtf", "precision", "begin", "end"), CASES)
def test_parse(text: str, edtf: str, precision: str, begin: str, end: str) -> None:
    value = parse_date(text)
    assert (value.verbatim, value.edtf, value.precision, value.begin, value.end) == (
        text,
        edtf,
        precision,
        begin,
        end,
    )


def test_datatypes() -> None:
    assert parse_date("January 16, 1951").xsd_datatype == XSD + "date"
    assert parse_date("November 1967").xsd_datatype == XSD + "gYearMonth"
    assert parse_date("1958").xsd_datatype == XSD + "gYear"
    assert parse_date("ca. 1951").xsd_datatype == EDTF_DATATYPE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2010-02-50", "impossible day"),
        ("February 29, 1951", "impossible day"),
        ("2010-13-01", "impossible month"),
        ("0000", "impossible year"),
        ("0001-01-01", "impossible year"),
        ("sometime in spring", "unrecognized date"),
        ("1953-1950", "range ends before it begins"),
        ("March 1952 - January 1951", "range ends before it begins"),
        ("Sprung 1951", "impossible month"),
        ("1951-25", "impossible month"),
        ("January 1951 - Marhc 1951", "unrecognized date"),
    ],
)
def test_impossible_dates_name_field_and_fix(text: str, message: str) -> None:
    with pytest.raises(MappingError) as info:
        parse_date(text, "original_publication_date")
    assert info.value.message == message
    assert info.value.field == "original_publication_date"
    assert info.value.value == text
    assert info.value.hint


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("November 30-December 1, 1965", True),
        ("1951?", True),
        ("2010-02-50", True),
        ("Telegram from Mao Zedong to Stalin", False),
        ("Talks 1950 - 1951 with the Soviets", False),
    ],
)
def test_a_page_tells_a_date_line_from_a_title(text: str, date: bool) -> None:
    """The page reader's test for its date line: every date parse_date reads, and impossible
    dates of a readable shape (reported, not taken for a title)."""
    assert looks_like_date(text) is date
