"""OAI-PMH 2.0 at /oai: the six verbs over the change log, for aggregators that harvest often.

Everything a harvester sees comes from the build's change log (changes.sqlite): identifiers are
the record URIs, datestamps the times their content last changed, deletions persistent, sets the
log's set specs. A list is paged over a snapshot of the log (its last entry at the first
request), so a harvest that spans republishes sees each record once; a record changed since the
snapshot comes with its new state, as section 3.5 allows. Metadata comes from the record's
files: `rdf` is its RDF/XML document, `oai_dc` a crosswalk of its N-Triples.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, replace
from datetime import datetime
from http import HTTPStatus
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import RdfFormat, parse

from lod.changelog import DELETED, Change, ChangeLog, stamp
from lod.errors import LodError, OAIError
from lod.oaidc import OAI_DC_NS, OAI_DC_SCHEMA, oai_dc_xml
from lod.serve.http import Request, Response, error
from lod.uris import file_path

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_SCHEMA = "http://www.openarchives.org/OAI/2.0/rdf.xsd"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
RECORD = "record"
"""The change log's kind of the resources harvested here (entities have kinds of their own)."""
PLACEHOLDER_EMAIL = "nobody@example.org"
"""Identify must name an adminEmail; this stands in until `admin_email` is set."""
CONTENT_TYPE = "text/xml; charset=utf-8"
FORM = "application/x-www-form-urlencoded"
RETRY_AFTER = "2"
"""Seconds a harvester waits when a republish is being swapped in (the app checks every 1 s)."""

BAD_VERB = "badVerb"
BAD_ARGUMENT = "badArgument"
BAD_TOKEN = "badResumptionToken"
NO_FORMAT = "cannotDisseminateFormat"
NO_ID = "idDoesNotExist"
NO_RECORDS = "noRecordsMatch"
NO_SETS = "noSetHierarchy"

SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
"""setSpecType of the OAI-PMH schema."""
METADATA_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
"""metadataPrefixType of the OAI-PMH schema: a prefix outside it is illegal syntax (badArgument),
and echoing it in <request> would make the response invalid against the schema."""
DATES = {
    "day": (re.compile(r"\d{4}-\d{2}-\d{2}"), "%Y-%m-%d"),
    "second": (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"), "%Y-%m-%dT%H:%M:%SZ"),
}
"""The two granularities of section 3.3.2: a day `from` starts at 00:00:00, a day `until`
covers the whole day."""
DAY_BOUNDS = {"from": "T00:00:00Z", "until": "T23:59:59Z"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Repository:
    """What answering needs: the log, where the record files are, and the settings."""

    log: ChangeLog
    folder: str
    base: str
    """The build's base URI: a record `{base}record/ID` has its files at `doc/record/ID.*`,
    ID decoded (lod.uris.file_path)."""
    name: str
    base_url: str
    admin_email: str
    page_size: int
    publisher: str = ""
    """Fills dc:publisher in oai_dc when a record's graph names none."""


@dataclass(frozen=True, slots=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    write: Callable[[Repository, str, str], str]
    """(repository, file stem of the record's documents, record URI) -> the child of
    <metadata>."""


@dataclass(frozen=True, slots=True)
class Verb:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    exclusive: str
    """The argument that must stand alone (resumptionToken), or ''."""
    answer: Callable[[Repository, str, dict[str, str]], str]

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.required, *self.optional, *((self.exclusive,) if self.exclusive else ()))


@dataclass(frozen=True, slots=True)
class Page:
    """Where a list stands: what a resumption token carries. `snapshot` is the last log entry
    at the first request, `after` the last entry returned, `size` the completeListSize."""

    verb: str
    log: str
    snapshot: int
    after: int
    cursor: int
    size: int
    prefix: str
    start: str
    end: str
    set_spec: str


def _oai_dc(repo: Repository, stem: str, uri: str) -> str:
    """Simple Dublin Core crosswalked from the record's graph (its N-Triples document)."""
    triples = [quad.triple for quad in parse(path=stem + ".nt", format=RdfFormat.N_TRIPLES)]
    return oai_dc_xml(triples, uri, publisher=repo.publisher)


def _rdf(repo: Repository, stem: str, uri: str) -> str:
    """The record's whole graph: its RDF/XML document without the XML declaration."""
    with open(stem + ".rdf", encoding="utf-8") as handle:
        text = handle.read()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    return text.strip()


METADATA_FORMATS: dict[str, MetadataFormat] = {
    f.prefix: f
    for f in (
        MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS, _oai_dc),
        MetadataFormat("rdf", RDF_SCHEMA, RDF_NS, _rdf),
    )
}


def answer(repo: Repository, request: Request) -> Response:
    """The HTTP side (section 3.1.1): GET, or POST with a form; every OAI-PMH answer, errors
    included, is a 200 with XML. A record file missing under a live log entry means a rebuild
    is being swapped in: 503 with Retry-After, which harvesters honour (section 3.1.1.1)."""
    if request.method in ("GET", "HEAD"):
        params = request.params
    elif request.method == "POST":
        kind = request.header("content-type").split(";")[0].strip().lower()
        if request.body and kind != FORM:
            return error(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"POST the OAI-PMH arguments as {FORM}",
            )
        try:
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return error(HTTPStatus.BAD_REQUEST, "the request body is not valid UTF-8")
        params = request.params
        for key, values in form.items():
            params[key] = params.get(key, []) + values
    else:
        return error(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{request.method} is not allowed for OAI-PMH; use GET or POST",
            Allow="GET, HEAD, POST, OPTIONS",
        )
    try:
        body = respond(repo, params)
    except FileNotFoundError:
        return error(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "the site is being republished; try again in a moment",
            **{"Retry-After": RETRY_AFTER},
        )
    return Response(HTTPStatus.OK, {"Content-Type": CONTENT_TYPE}, body.encode("utf-8"))


def respond(repo: Repository, params: dict[str, list[str]]) -> str:
    """The OAI-PMH response document for one request's arguments."""
    now = stamp(time.time())
    names = params.get("verb", [])
    verb = VERBS.get(names[0]) if len(names) == 1 else None
    if verb is None:
        problem = OAIError(BAD_VERB, _bad_verb(names))
        return _envelope(now, repo.base_url, {}, _error(problem))
    name = names[0]
    try:
        args = _arguments(name, verb, params)
        body = verb.answer(repo, name, args)
    except OAIError as problem:
        echo = {} if problem.code in (BAD_VERB, BAD_ARGUMENT) else {"verb": name, **args}
        return _envelope(now, repo.base_url, echo, _error(problem))
    return _envelope(now, repo.base_url, {"verb": name, **args}, body)


def _bad_verb(names: list[str]) -> str:
    if not names:
        return f"no verb; use one of {', '.join(VERBS)}"
    if len(names) > 1:
        return "the verb argument is repeated"
    return f"{names[0]!r} is no OAI-PMH verb; use one of {', '.join(VERBS)}"


def _arguments(name: str, verb: Verb, params: dict[str, list[str]]) -> dict[str, str]:
    """The verb's arguments once section 3.6's rules hold: none unknown, repeated or empty,
    the exclusive one alone, the required ones there."""
    args: dict[str, str] = {}
    for key, values in params.items():
        if key == "verb":
            continue
        if key not in verb.allowed:
            takes = ", ".join(verb.allowed) or "no arguments"
            raise OAIError(BAD_ARGUMENT, f"{key!r} is no argument of {name}; it takes {takes}")
        if len(values) > 1:
            raise OAIError(BAD_ARGUMENT, f"the argument {key} is repeated")
        if not values[0]:
            raise OAIError(BAD_ARGUMENT, f"the argument {key} is empty")
        args[key] = values[0]
    if verb.exclusive in args:
        if len(args) > 1:
            raise OAIError(
                BAD_ARGUMENT, f"{verb.exclusive} is exclusive: give it with the verb alone"
            )
        return args
    missing = [key for key in verb.required if key not in args]
    if missing:
        raise OAIError(BAD_ARGUMENT, f"{name} needs the argument(s) {', '.join(missing)}")
    return args


# --- verbs -------------------------------------------------------------------------------


def _identify(repo: Repository, verb: str, args: dict[str, str]) -> str:
    earliest = repo.log.first_time() or stamp(time.time())
    return _element(
        "Identify",
        _text_element("repositoryName", repo.name)
        + _text_element("baseURL", repo.base_url)
        + _text_element("protocolVersion", "2.0")
        + _text_element("adminEmail", repo.admin_email or PLACEHOLDER_EMAIL)
        + _text_element("earliestDatestamp", earliest)
        + _text_element("deletedRecord", "persistent")
        + _text_element("granularity", GRANULARITY)
        + _text_element("compression", "gzip"),
    )


def _list_metadata_formats(repo: Repository, verb: str, args: dict[str, str]) -> str:
    """Every record, deleted ones too (as deleted headers), has both formats, so
    noMetadataFormats never applies."""
    if "identifier" in args:
        _record_state(repo, args["identifier"])
    return _element(
        verb,
        "".join(
            _element(
                "metadataFormat",
                _text_element("metadataPrefix", f.prefix)
                + _text_element("schema", f.schema)
                + _text_element("metadataNamespace", f.namespace),
            )
            for f in METADATA_FORMATS.values()
        ),
    )


def _list_sets(repo: Repository, verb: str, args: dict[str, str]) -> str:
    if "resumptionToken" in args:
        raise OAIError(BAD_TOKEN, "ListSets answers in one response and issues no tokens")
    sets = repo.log.set_names()
    if not sets:
        raise OAIError(NO_SETS, "this build's change log names no sets")
    return _element(
        verb,
        "".join(
            _element("set", _text_element("setSpec", spec) + _text_element("setName", name))
            for spec, name in sets
        ),
    )


def _get_record(repo: Repository, verb: str, args: dict[str, str]) -> str:
    fmt = _format(args["metadataPrefix"])
    change = _record_state(repo, args["identifier"])
    return _element(verb, _record(repo, change, fmt))


def _list_identifiers(repo: Repository, verb: str, args: dict[str, str]) -> str:
    return _list(repo, verb, args, lambda change, fmt: _header(change))


def _list_records(repo: Repository, verb: str, args: dict[str, str]) -> str:
    return _list(repo, verb, args, lambda change, fmt: _record(repo, change, fmt))


def _list(
    repo: Repository,
    verb: str,
    args: dict[str, str],
    item: Callable[[Change, MetadataFormat], str],
) -> str:
    """One page of a list over the page's snapshot; a token for the next page, and an empty
    one on the last page of a list that took more than one (section 3.5)."""
    log = repo.log
    page = _decode(args["resumptionToken"], verb, log) if "resumptionToken" in args else None
    if page is None:
        page = _first_page(repo, verb, args)
    fmt = METADATA_FORMATS[page.prefix]
    changes = log.listing(
        kind=RECORD,
        snapshot=page.snapshot,
        after=page.after,
        limit=repo.page_size + 1,
        start=page.start,
        end=page.end,
        set_spec=page.set_spec,
    )
    if not changes:
        raise OAIError(BAD_TOKEN, "this resumption token points past the end of its list")
    shown = changes[: repo.page_size]
    more = len(changes) > repo.page_size
    following = replace(page, after=shown[-1].seq, cursor=page.cursor + len(shown))
    if log.last_seq() != page.snapshot:
        shown = [_latest(log, change) for change in shown]
    items = "".join(item(change, fmt) for change in shown)
    if more or page.cursor:
        items += (
            f'<resumptionToken completeListSize="{page.size}" cursor="{page.cursor}">'
            f"{_encode(following) if more else ''}</resumptionToken>"
        )
    return _element(verb, items)


def _first_page(repo: Repository, verb: str, args: dict[str, str]) -> Page:
    fmt = _format(args["metadataPrefix"])
    start, end = _bounds(args.get("from", ""), args.get("until", ""))
    set_spec = args.get("set", "")
    if set_spec and not SET_SPEC.fullmatch(set_spec):
        raise OAIError(BAD_ARGUMENT, f"{set_spec!r} is no set spec (see ListSets)")
    snapshot = repo.log.last_seq()
    size = repo.log.listing_size(
        kind=RECORD, snapshot=snapshot, start=start, end=end, set_spec=set_spec
    )
    if not size:
        raise OAIError(NO_RECORDS, "no record matches these from, until and set arguments")
    return Page(verb, repo.log.log_id, snapshot, 0, 0, size, fmt.prefix, start, end, set_spec)


def _latest(log: ChangeLog, change: Change) -> Change:
    """A record changed since the page's snapshot is shown as it is now (section 3.5)."""
    now = log.state_as_of(change.uri, kind=RECORD)
    return now if now is not None else change


def _format(prefix: str) -> MetadataFormat:
    if not METADATA_PREFIX.fullmatch(prefix):
        raise OAIError(BAD_ARGUMENT, f"{prefix!r} is no metadata prefix (see ListMetadataFormats)")
    fmt = METADATA_FORMATS.get(prefix)
    if fmt is None:
        offered = ", ".join(METADATA_FORMATS)
        raise OAIError(
            NO_FORMAT, f"no metadata format {prefix!r}; this repository offers {offered}"
        )
    return fmt


def _record_state(repo: Repository, identifier: str) -> Change:
    change = repo.log.state_as_of(identifier, kind=RECORD)
    if change is None:
        raise OAIError(NO_ID, f"no record {identifier!r} in this repository")
    return change


def _bounds(start: str, end: str) -> tuple[str, str]:
    """`from` and `until` as inclusive second-granularity bounds (section 3.3.1)."""
    given = {name: value for name, value in (("from", start), ("until", end)) if value}
    grains = {name: _granularity(name, value) for name, value in given.items()}
    if len(set(grains.values())) > 1:
        raise OAIError(BAD_ARGUMENT, "from and until must have the same granularity")
    bounds = {
        name: value + DAY_BOUNDS[name] if grains[name] == "day" else value
        for name, value in given.items()
    }
    lower, upper = bounds.get("from", ""), bounds.get("until", "")
    if lower and upper and lower > upper:
        raise OAIError(BAD_ARGUMENT, f"from ({start}) is later than until ({end})")
    return lower, upper


def _granularity(name: str, value: str) -> str:
    for grain, (pattern, layout) in DATES.items():
        if pattern.fullmatch(value):
            try:
                datetime.strptime(value, layout)
            except ValueError:
                break
            return grain
    raise OAIError(
        BAD_ARGUMENT, f"{name} {value!r} is no date; use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ"
    )


# --- resumption tokens -------------------------------------------------------------------


def _encode(page: Page) -> str:
    data = json.dumps(astuple(page), separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _decode(token: str, verb: str, log: ChangeLog) -> Page:
    """The page a token names, refused unless it is this verb's and this log history's."""
    try:
        data = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        fields = json.loads(data)
    except (binascii.Error, ValueError):
        fields = None
    kinds = (str, str, int, int, int, int, str, str, str, str)
    if not (
        isinstance(fields, list)
        and len(fields) == len(kinds)
        and all(type(value) is kind for value, kind in zip(fields, kinds, strict=True))
    ):
        raise OAIError(BAD_TOKEN, "this is no resumption token of this repository")
    page = Page(*fields)
    if page.log != log.log_id:
        raise OAIError(
            BAD_TOKEN,
            "this resumption token is from another history of the repository; "
            "start the harvest again without it",
        )
    if page.verb != verb:
        raise OAIError(BAD_TOKEN, f"this resumption token continues {page.verb}, not {verb}")
    if (
        page.prefix not in METADATA_FORMATS
        or not 0 <= page.after <= page.snapshot <= log.last_seq()
        or not 0 < page.cursor < page.size
    ):
        raise OAIError(BAD_TOKEN, "this resumption token is damaged")
    return page


# --- XML ---------------------------------------------------------------------------------


def _record(repo: Repository, change: Change, fmt: MetadataFormat) -> str:
    """A record: its header, and its metadata unless it is deleted (section 2.5.1)."""
    if change.change == DELETED:
        return _element("record", _header(change))
    if not change.uri.startswith(repo.base):
        raise LodError(f"the change log names {change.uri}, which is not under {repo.base}")
    stem = f"{repo.folder}/doc/{file_path(change.uri[len(repo.base) :])}"
    metadata = fmt.write(repo, stem, change.uri)
    return _element("record", _header(change) + _element("metadata", metadata))


def _header(change: Change) -> str:
    status = ' status="deleted"' if change.change == DELETED else ""
    specs = "".join(_text_element("setSpec", spec) for spec in change.sets)
    return (
        f"<header{status}>{_text_element('identifier', change.uri)}"
        f"{_text_element('datestamp', change.time)}{specs}</header>"
    )


def _error(problem: OAIError) -> str:
    return f"<error code={quoteattr(problem.code)}>{_text(str(problem))}</error>"


def _envelope(now: str, base_url: str, echo: dict[str, str], body: str) -> str:
    """The response document (section 3.2): the request element echoes only valid arguments,
    and none at all after badVerb or badArgument."""
    attributes = "".join(
        f" {key}={quoteattr(_clean(value))}" for key, value in sorted(echo.items())
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{OAI_NS} {OAI_SCHEMA}">'
        f"<responseDate>{now}</responseDate>"
        f"<request{attributes}>{_text(base_url)}</request>{body}</OAI-PMH>\n"
    )


def _element(name: str, content: str) -> str:
    return f"<{name}>{content}</{name}>"


def _text_element(name: str, text: str) -> str:
    return f"<{name}>{_text(text)}</{name}>"


def _text(value: str) -> str:
    return escape(_clean(value))


def _clean(value: str) -> str:
    """Characters XML 1.0 cannot carry (control characters a client may send) as U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


VERBS: dict[str, Verb] = {
    "Identify": Verb((), (), "", _identify),
    "ListMetadataFormats": Verb((), ("identifier",), "", _list_metadata_formats),
    "ListSets": Verb((), (), "resumptionToken", _list_sets),
    "GetRecord": Verb(("identifier", "metadataPrefix"), (), "", _get_record),
    "ListIdentifiers": Verb(
        ("metadataPrefix",), ("from", "until", "set"), "resumptionToken", _list_identifiers
    ),
    "ListRecords": Verb(
        ("metadataPrefix",), ("from", "until", "set"), "resumptionToken", _list_records
    ),
}
