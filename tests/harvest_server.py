"""A small OAI-PMH 2.0 provider and JSON record API on 127.0.0.1 for the harvester's tests.

It is a real HTTP server (http.server in a thread) answering from records the test puts in,
with failures the test queues: a status with headers (503 + Retry-After, 429, 500), a dropped
connection, a slow answer, a body that is not XML. Every request is logged with its time,
query and User-Agent, so tests assert on what the harvester actually sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from tests.loopback import loopback

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_TEMPLATE = (
    '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>'
)


@dataclass
class Item:
    identifier: str
    datestamp: str
    metadata: dict[str, str] = field(default_factory=dict)
    """metadataPrefix -> the XML inside <metadata>."""
    deleted: bool = False
    sets: tuple[str, ...] = ()


@dataclass
class Fault:
    """What the server does instead of answering one request."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    body: bytes = b""
    endless: int = 0
    """Bytes sent every `every` seconds, without end (no Content-Length) until the client
    hangs up: a server that never finishes its answer, fast or trickling."""
    every: float = 0.0


@dataclass
class Seen:
    at: float
    path: str
    query: dict[str, str]
    user_agent: str


class Provider:
    """The provider's data and behaviour; tests change them between harvests."""

    def __init__(self) -> None:
        self.items: list[Item] = []
        self.page_size = 2
        self.response_date = "2026-03-01T12:00:00Z"
        self.granularity = "YYYY-MM-DDThh:mm:ssZ"
        self.faults: list[Fault] = []
        self.fault_verbs: set[str] = {"ListRecords"}
        self.expired_tokens: set[str] = set()
        self.json_records: dict[str, bytes] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def dc(self, oai_id: str, datestamp: str, **elements: str | list[str]) -> Item:
        """Add a record in oai_dc with the given DC elements."""
        parts = []
        for name, values in elements.items():
            for value in [values] if isinstance(values, str) else values:
                parts.append(f"<dc:{name}>{escape(value)}</dc:{name}>")
        item = Item(oai_id, datestamp, {"oai_dc": DC_TEMPLATE.format("".join(parts))})
        self.items.append(item)
        return item

    def list_records(self) -> list[Seen]:
        return [s for s in self.seen if s.query.get("verb") == "ListRecords"]

    # --- answers -------------------------------------------------------------------------------
    def answer(self, path: str, query: dict[str, str]) -> tuple[int, bytes, str]:
        if path.startswith("/srv/record/"):
            record_id = path[len("/srv/record/") : -len(".json")]
            if record_id in self.json_records:
                return 200, self.json_records[record_id], "application/json"
            return 404, b'{"error": "not found"}', "application/json"
        verb = query.get("verb", "")
        if verb == "Identify":
            body = (
                "<Identify><repositoryName>test</repositoryName>"
                f"<baseURL>http://127.0.0.1/oai</baseURL><protocolVersion>2.0</protocolVersion>"
                f"<earliestDatestamp>2000-01-01</earliestDatestamp><deletedRecord>persistent"
                f"</deletedRecord><granularity>{self.granularity}</granularity></Identify>"
            )
            return 200, self._envelope(query, body), "text/xml"
        if verb == "ListRecords":
            return 200, self._envelope(query, self._list_records(query)), "text/xml"
        return 200, self._envelope(query, '<error code="badVerb">no such verb</error>'), "text/xml"

    def _list_records(self, query: dict[str, str]) -> str:
        token = query.get("resumptionToken", "")
        if token:
            if token in self.expired_tokens:
                self.expired_tokens.discard(token)  # a list started over issues it anew
                return '<error code="badResumptionToken">expired</error>'
            offset_text, prefix, set_spec, start, end = token.split("|")
            offset = int(offset_text)
        else:
            offset, prefix = 0, query.get("metadataPrefix", "")
            set_spec, start, end = (
                query.get("set", ""),
                query.get("from", ""),
                query.get("until", ""),
            )
        if prefix not in ("oai_dc", "rdf"):
            return f'<error code="cannotDisseminateFormat">{escape(prefix)} is unknown</error>'
        matching = [
            item
            for item in self.items
            if (not start or item.datestamp >= start)
            and (not end or item.datestamp[: len(end)] <= end)
            and (not set_spec or set_spec in item.sets)
            and (item.deleted or prefix in item.metadata)
        ]
        if not matching:
            return '<error code="noRecordsMatch">nothing</error>'
        page = matching[offset : offset + self.page_size]
        records = "".join(self._record(item, prefix) for item in page)
        more = offset + self.page_size < len(matching)
        next_token = "|".join((str(offset + self.page_size), prefix, set_spec, start, end))
        tail = f"<resumptionToken>{escape(next_token)}</resumptionToken>" if more else ""
        if token and not more:
            tail = "<resumptionToken/>"  # the last page of a list ends with an empty token
        return f"<ListRecords>{records}{tail}</ListRecords>"

    def _record(self, item: Item, prefix: str) -> str:
        status = ' status="deleted"' if item.deleted else ""
        header = (
            f"<header{status}><identifier>{escape(item.identifier)}</identifier>"
            f"<datestamp>{item.datestamp}</datestamp></header>"
        )
        if item.deleted:
            return f"<record>{header}</record>"
        return f"<record>{header}<metadata>{item.metadata[prefix]}</metadata></record>"

    def _envelope(self, query: dict[str, str], body: str) -> bytes:
        attributes = "".join(f' {k}="{escape(v)}"' for k, v in sorted(query.items()))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI_NS}"><responseDate>{self.response_date}</responseDate>'
            f"<request{attributes}>http://127.0.0.1/oai</request>{body}</OAI-PMH>"
        ).encode()


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with provider.lock:
                provider.seen.append(
                    Seen(time.monotonic(), parts.path, query, self.headers.get("User-Agent", ""))
                )
                verb = query.get("verb", "json" if parts.path.startswith("/srv/") else "")
                fault = (
                    provider.faults.pop(0)
                    if provider.faults and verb in provider.fault_verbs
                    else None
                )
            if fault is not None and self._fault(fault):
                return
            status, body, media_type = provider.answer(parts.path, query)
            self._send(status, body, media_type, {})

        def _fault(self, fault: Fault) -> bool:
            """Act out a fault; True when the request is answered (or abandoned) by it."""
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b"<?xml version='1.0'?><OAI-PMH")
                self.wfile.flush()
                self.close_connection = True
                return True
            if fault.endless:
                self._endless(fault)
                return True
            if fault.status:
                self._send(fault.status, fault.body or b"failure", "text/plain", fault.headers)
                return True
            if fault.body:
                self._send(200, fault.body, "text/xml", fault.headers)
                return True
            return False

        def _endless(self, fault: Fault) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(b"<?xml version='1.0'?><OAI-PMH><!--")
                while True:
                    self.wfile.write(b"x" * fault.endless)
                    self.wfile.flush()
                    time.sleep(fault.every)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, status: int, body: bytes, media_type: str, headers: dict[str, str]) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout tests)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving(provider: Provider) -> Iterator[str]:
    """Run the provider on a free port of 127.0.0.1; yields its base URL."""
    with loopback(_handler(provider)) as url:
        yield url
