"""OAI-PMH 2.0 harvesting (ListRecords) from any provider into a folder of record files.

Each record is written as its own `<record>` element (header and metadata) to a file named from
its identifier (lod.harvest.files); a deleted record (`<header status="deleted">`, section 2.5.1)
removes its file. The folder's state file remembers two things:

- after a complete harvest, the `responseDate` of its first response, cut to the granularity
  Identify announces: the next harvest asks only for records changed since (`from`), as the
  specification advises incremental harvesters to do (section 3.3.1 and appendix);
- during a harvest, the last resumption token (section 3.5): a harvest stopped by an error or
  Ctrl-C resumes where it stopped. A token the provider no longer accepts (badResumptionToken)
  restarts the interrupted harvest from its beginning; files are replaced, never duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError, register_namespace, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from lod.errors import HarvestError, TooLargeError
from lod.harvest.files import prepare, read_json, record_name, remove, write_atomic, write_json
from lod.harvest.http import PoliteSession
from lod.namespaces import PREFIXES
from lod.sources.text import check_depth

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI = "{" + OAI_NS + "}"
STATE_FILE = ".oai-harvest.json"
RECORD_SUFFIX = ".xml"

EMPTY_HARVEST = "noRecordsMatch"
"""The one error code that is an answer: nothing changed in the range asked (section 3.6)."""

HINTS = {
    "badArgument": "check --set, --from and --until (dates as YYYY-MM-DD)",
    "badResumptionToken": "the provider no longer knows where the harvest was; harvest again",
    "badVerb": "the URL may not be an OAI-PMH base URL",
    "cannotDisseminateFormat": "the provider does not offer this --metadata-prefix; "
    "ask it with ?verb=ListMetadataFormats",
    "noSetHierarchy": "the provider has no sets; leave out --set",
    "noMetadataFormats": "the provider offers no metadata formats",
}
"""OAI-PMH error code -> what to do about it (section 3.6)."""

FORBIDDEN_CHARACTERS = re.compile(
    rb"[\x00-\x08\x0b\x0c\x0e-\x1f]"
    rb"|&#(?:0*(?:[0-8]|1[124-9]|2[0-9]|3[01])|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]));"
)
"""C0 control characters, raw or as references, that XML 1.0 does not allow (section 2.2 of
XML 1.0): catalogue text pasted from word processors carries them, and one makes a whole page
unreadable. Matched in bytes, which is sound for UTF-8 and the single-byte charsets only, so it
is tried only after a page failed to parse (a UTF-16 page then still fails, with its error)."""

NAMESPACES = {
    "oai": OAI_NS,
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    **PREFIXES,
}
"""Prefixes for the record files: ElementTree rewrites prefixes when it writes an element, and
these usual ones read better than its ns0, ns1 (its registry is process-wide, set once here)."""


def _register_prefixes() -> None:
    for prefix, namespace in NAMESPACES.items():
        register_namespace(prefix, namespace)


_register_prefixes()


@dataclass(frozen=True, slots=True)
class Request:
    """What to harvest: a provider's base URL and the ListRecords arguments (section 3.1)."""

    url: str
    metadata_prefix: str = "oai_dc"
    set_spec: str = ""
    from_date: str = ""
    until: str = ""


@dataclass(slots=True)
class Page:
    """One ListRecords response."""

    url: str
    response_date: str
    records: list[Element]
    token: str


@dataclass(slots=True)
class Report:
    written: int = 0
    deleted: int = 0
    skipped: int = 0
    """Records without an identifier: no file can be named for them."""
    pages: int = 0
    from_date: str = ""
    next_from: str = ""
    resumed: bool = False


class OAIClient:
    """The protocol: one provider, its requests parsed and its errors raised as HarvestErrors."""

    def __init__(
        self,
        url: str,
        session: PoliteSession,
        notice: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.url = url
        self.session = session
        self.notice = notice

    def identify(self) -> dict[str, str]:
        """Identify's fields (repositoryName, granularity, earliestDatestamp, ...)."""
        root, _url = self._request({"verb": "Identify"})
        identify = root.find(OAI + "Identify")
        if identify is None:
            raise HarvestError(f"{_url}: the answer to Identify has no <Identify> element")
        return {
            child.tag[len(OAI) :]: (child.text or "").strip()
            for child in identify
            if isinstance(child.tag, str) and child.tag.startswith(OAI)
        }

    def list_records(self, params: dict[str, str]) -> Page:
        root, url = self._request({"verb": "ListRecords", **params})
        date = (root.findtext(OAI + "responseDate") or "").strip()
        error = root.find(OAI + "error")
        if error is not None:
            code = error.get("code", "")
            if code == EMPTY_HARVEST:
                return Page(url, date, [], "")
            message = " ".join((error.text or "").split())
            hint = HINTS.get(code, "")
            raise HarvestError(
                f"{url}: the provider answered OAI-PMH error {code}"
                + (f": {message}" if message else "")
                + (f"; {hint}" if hint else ""),
                code=code,
            )
        body = root.find(OAI + "ListRecords")
        if body is None:
            raise HarvestError(f"{url}: the answer to ListRecords has no <ListRecords> element")
        token = body.find(OAI + "resumptionToken")
        return Page(
            url,
            date,
            body.findall(OAI + "record"),
            (token.text or "").strip() if token is not None else "",
        )

    def _request(self, params: dict[str, str]) -> tuple[Element, str]:
        response = self.session.get(self.url, params)
        url = response.url
        try:
            root = _parse(response.content, url)
        except ParseError as exc:
            root = self._parse_without_forbidden(response.content, url, exc)
        try:
            check_depth(root, url)  # records are written back by ElementTree, which recurses
        except TooLargeError as exc:
            raise HarvestError(f"{url}: {exc.message}; {exc.hint}") from None
        if root.tag != OAI + "OAI-PMH":
            raise HarvestError(
                f"{url}: the answer is XML but no OAI-PMH response (root <{_local(root.tag)}>); "
                "is this the provider's base URL?"
            )
        return root, url

    def _parse_without_forbidden(self, content: bytes, url: str, error: ParseError) -> Element:
        """The page read again without the characters XML forbids, so that one record's stray
        control character costs that character, not the page and every page after it."""
        cleaned, removed = FORBIDDEN_CHARACTERS.subn(b"", content)
        try:
            root = _parse(cleaned, url) if removed else None
        except ParseError:
            root = None
        if root is None:
            raise HarvestError(f"{url}: the answer is not well-formed XML ({error})") from None
        self.notice(f"notice: {url}: removed {removed} characters XML does not allow")
        return root


def _parse(content: bytes, url: str) -> Element:
    try:
        return fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise HarvestError(
            f"{url}: the answer declares a DTD or entities, which lod refuses"
        ) from None


def harvest(
    request: Request,
    out: Path,
    session: PoliteSession,
    notice: Callable[[str], None] = lambda _m: None,
) -> Report:
    """Harvest into `out`, incrementally and resumably (see the module docstring)."""
    prepare(out)
    state_path = out / STATE_FILE
    state = read_json(state_path)
    _check_same_harvest(state, request, out)
    state.update(_identity(request))
    client = OAIClient(request.url, session, notice)
    granularity = client.identify().get("granularity", "YYYY-MM-DD")
    report = Report(from_date=request.from_date or str(state.get("last_harvest") or ""))
    saved: dict[str, Any] = state.get("interrupted") or {}
    if saved.get("resumptionToken") and (saved.get("from"), saved.get("until")) == (
        report.from_date,
        request.until,
    ):
        notice(f"resuming the interrupted harvest saved in {state_path}")
        report.resumed = True
    else:
        saved = {}
    started = str(saved.get("started", ""))
    for page in _pages(
        client, request, report.from_date, str(saved.get("resumptionToken", "")), notice
    ):
        started = started or page.response_date
        report.pages += 1
        for number, record in enumerate(page.records, 1):
            _store(record, f"{page.url}: record {number}", out, report, notice)
        if page.token:
            state["interrupted"] = {
                "started": started,
                "from": report.from_date,
                "until": request.until,
                "resumptionToken": page.token,
            }
            write_json(state_path, state)
    report.next_from = request.until or _cut(started, granularity)
    previous = str(state.get("last_harvest") or "")
    if previous and report.from_date > previous:  # ISO 8601 in UTC: strings sort as dates
        notice(
            f"notice: --from {report.from_date} is after the last harvest ({previous}); the "
            f"changes between them are not harvested yet, so the next harvest asks from {previous}"
        )
        report.next_from = previous
    state["last_harvest"] = report.next_from
    state["interrupted"] = None
    write_json(state_path, state)
    return report


def interrupted(out: Path) -> bool:
    """Whether `out` holds a harvest that stopped before its end (and can resume)."""
    try:
        return bool(read_json(out / STATE_FILE).get("interrupted"))
    except HarvestError:
        return False


def _pages(
    client: OAIClient,
    request: Request,
    from_date: str,
    saved_token: str,
    notice: Callable[[str], None],
) -> Iterator[Page]:
    """Pages of one ListRecords list, following resumption tokens; starting from a saved token
    when resuming, and from the beginning again if the provider no longer accepts that one."""
    first = {"metadataPrefix": request.metadata_prefix}
    for name, value in (("set", request.set_spec), ("from", from_date), ("until", request.until)):
        if value:
            first[name] = value
    params = {"resumptionToken": saved_token} if saved_token else first
    followed: set[str] = set()
    while True:
        try:
            page = client.list_records(params)
        except HarvestError as exc:
            if exc.code != "badResumptionToken" or params.get("resumptionToken") != saved_token:
                raise
            notice("the provider no longer accepts the saved resumption token; starting over")
            saved_token, params = "", first
            continue
        yield page
        if not page.token:
            return
        _check_new_token(page, followed)
        params = {"resumptionToken": page.token}


def _check_new_token(page: Page, followed: set[str]) -> None:
    """A token is idempotent (section 3.5.1: the same token, the same part of the list), so a
    provider that hands back one it was already asked with would be followed forever."""
    if page.token in followed:
        raise HarvestError(
            f"{page.url}: the provider answered the resumption token {page.token!r} again, so "
            "the list would never end; the records up to here are kept. The provider's list "
            "is broken: tell its administrators"
        )
    followed.add(page.token)


def _store(
    record: Element, where: str, out: Path, report: Report, notice: Callable[[str], None]
) -> None:
    """Write (or, when deleted, remove) a record's file. One without an identifier is skipped,
    not fatal: its neighbours are good, and a harvest that stopped there would stop there on
    every run, as it resumes at that page."""
    header = record.find(OAI + "header")
    identifier = (header.findtext(OAI + "identifier") or "").strip() if header is not None else ""
    if header is None or not identifier:
        notice(f"notice: {where} has no header identifier; skipped")
        report.skipped += 1
        return
    path = out / record_name(identifier, RECORD_SUFFIX)
    if header.get("status") == "deleted":
        report.deleted += remove(path)
        return
    write_atomic(path, _record_bytes(record))
    report.written += 1


def _record_bytes(record: Element) -> bytes:
    body = tostring(record, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")


def _cut(response_date: str, granularity: str) -> str:
    """A responseDate at the provider's datestamp granularity (section 3.3.2)."""
    if granularity.upper() == "YYYY-MM-DD" or not re.match(r"\d{4}-\d{2}-\d{2}T", response_date):
        return response_date[:10]
    return response_date[:19] + "Z"


def _identity(request: Request) -> dict[str, str]:
    return {"url": request.url, "metadataPrefix": request.metadata_prefix, "set": request.set_spec}


def _check_same_harvest(state: dict[str, Any], request: Request, out: Path) -> None:
    """One folder holds one harvest: records of two providers or formats in one folder would
    publish twice, and one state cannot say where each stands."""
    if not state:
        return
    known = {k: state.get(k, "") for k in ("url", "metadataPrefix", "set")}
    if known != _identity(request):
        raise HarvestError(
            f"{out} holds a harvest of {known['url']} (metadataPrefix {known['metadataPrefix']}"
            + (f", set {known['set']}" if known["set"] else "")
            + "); harvest into another --out folder"
        )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


__all__ = ["STATE_FILE", "OAIClient", "Report", "Request", "harvest", "interrupted"]
