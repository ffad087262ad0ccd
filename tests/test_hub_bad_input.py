"""Input the hub's API must refuse: 400 or 404 naming the field, never a 500, nothing written.

The real app (aiohttp test client) on a real SQLite file; the outbox case runs against a
real nats-server.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import nats
import pytest
from aiohttp.test_utils import TestClient, TestServer

from hub.api import make_app
from hub.identities import add_node
from hub.ingest import registered_nodes
from hub.schemas import ProductIn
from hub.server import HubOutbox
from hub.service import HubService
from hub.store import HubStore
from ledger.sqlite import transaction
from protocol import codec, subjects
from protocol.events import Document, Upsert
from replication.nats_transport import NatsTransport
from replication.setup import ensure_streams

BIG = "9" * 5000
#: a number short enough for the decoder (40 characters) and too large for any line
LARGE = "9" * 30
HUGE = "x" * 100_000
#: JSON number literals written into the body as they are (5,000 digits is no Python int)
RAW_BIG = "__raw_big__"


@dataclass
class Api:
    client: TestClient
    token: str
    store: HubStore


@pytest.fixture
async def api(tmp_path):
    store, token = HubStore.init(tmp_path / "hub.db")
    HubService(store).put_product(ProductIn(sku="A", name="Apple"))  # what the orders order
    async with TestClient(TestServer(make_app(store))) as client:
        yield Api(client, token, store)


#: what the fixture wrote (the product the orders order): nothing else is in the log
SEEDED = {"hub": 1}


def heads(api: Api) -> dict[str, int]:
    """Events written since the fixture's: {} when a request wrote nothing."""
    now = api.store.events.log.heads()
    return {o: seq - SEEDED.get(o, 0) for o, seq in now.items() if seq > SEEDED.get(o, 0)}


def encode(body) -> bytes:
    return json.dumps(body).replace(f'"{RAW_BIG}"', BIG).encode()


def po(**line) -> dict:
    return {"location": "S01", "supplier": "ACME", "lines": [{"sku": "A", "qty": "1", **line}]}


def po_with(**fields) -> dict:
    return {**po(), **fields}


def correction(**fields) -> dict:
    return {"location": "S01", "sku": "A", "qty": "1", "reason": "found", **fields}


def product(**fields) -> dict:
    return {"sku": "A", "name": "Apple", **fields}


def user(**fields) -> dict:
    return {"user": "wang", "name": "Wang", **fields}


PO = "/api/v1/purchase-orders"
ADJ = "/api/v1/corrections"
PRODUCTS = "/api/v1/products"
USERS = "/api/v1/users"

# (path, body, words the error must hold: the field first)
POST_CASES = [
    # ids matched whole: "S09\n" became a subject the hub could never publish on
    (PO, po_with(location="S09\n"), ["location", "'S09\\n'", "not a valid location id"]),
    (PO, po_with(location=HUGE), ["$.location is too long: at most 32 characters"]),
    (PO, po_with(location="S 1"), ["$.location is not a valid location id"]),
    (ADJ, correction(location="S09\n"), ["location", "not a valid location id"]),
    # 5,000-digit quantities and prices: a ValueError past the parser, a 500, before;
    # the decoder refuses them now, and the service what is short but too large
    (PO, po(qty=BIG), ["$.lines[0].qty is too long: at most 40 characters"]),
    (PO, po(qty=LARGE), ["line 1 qty", "is too large: at most 10,000,000"]),
    (PO, po(unit_cost=LARGE), ["line 1 unit_cost", "is too large: at most 100,000,000"]),
    (ADJ, correction(qty=LARGE), ["qty", "is too large: at most 10,000,000"]),
    (ADJ, correction(qty="-" + LARGE), ["qty", "is too large"]),
    (ADJ, correction(qty="-" + BIG), ["$.qty is too long"]),
    (PO, po(qty=HUGE), ["$.lines[0].qty is too long"]),
    (PO, po(qty="1,5"), ['$.lines[0].qty must be a decimal string like "1.250"']),
    (PO, po(qty="1.2345"), ["line 1 qty", "decimal places"]),
    # JSON numbers where decimal strings belong, a 5,000-digit one too
    (PO, po(qty=RAW_BIG), ["$.lines[0].qty", "decimal strings"]),
    (PO, po(qty=1.5), ["$.lines[0].qty", "decimal strings"]),
    (ADJ, correction(qty=RAW_BIG), ["$.qty", "decimal strings"]),
    (PRODUCTS, product(price=12), ["$.price", "decimal strings"]),
    (USERS, user(active=RAW_BIG), ["$.active"]),
    # empty, blank and unprintable SKUs and lots
    (PO, po(sku=""), ["$.lines[0].sku must not be empty"]),
    (PO, po(sku="  "), ["line 1 sku must not be empty"]),
    (PO, po(sku="A\n"), ["line 1 sku", "control character"]),
    (PO, po(sku=HUGE), ["$.lines[0].sku is too long: at most 64 characters"]),
    (ADJ, correction(sku=""), ["$.sku must not be empty"]),
    (ADJ, correction(sku="A\x00"), ["sku", "control character"]),
    (ADJ, correction(lot=""), ["$.lot must not be empty"]),
    (ADJ, correction(lot=" "), ["lot must not be empty"]),
    (ADJ, correction(lot=HUGE), ["$.lot is too long"]),
    (PRODUCTS, product(sku="A\n"), ["sku", "control character"]),
    (PRODUCTS, product(sku=HUGE), ["sku is too long"]),
    (USERS, user(user=HUGE), ["$.user is too long"]),
    (USERS, user(user="wang\n"), ["user", "control character"]),
    # free text: an empty supplier, and text too long for its event to be published
    (PO, po_with(supplier=""), ["supplier must not be empty"]),
    (PO, po_with(supplier=HUGE), ["$.supplier is too long: at most 200 characters"]),
    (PO, po_with(note=HUGE), ["$.note is too long: at most 1,000 characters"]),
    (ADJ, correction(reason=HUGE), ["$.reason is too long"]),
    (PRODUCTS, product(name=HUGE), ["name is too long"]),
    (USERS, user(locations=HUGE), ["$.locations is too long"]),
    (USERS, user(pin="12"), ["$.pin", "4 to 12 digits"]),
    (PRODUCTS, product(name="Apple\nPear"), ["name", "control character"]),
    (PO, po_with(supplier="ACME\r"), ["supplier", "control character"]),
    (PO, po_with(lines=[{"sku": f"A{i}", "qty": "1"} for i in range(1001)]), ["$.lines", "1,000"]),
    (PO, po_with(lines=[]), ["$.lines must not be empty"]),
    # wrong types and zero or negative numbers
    (PO, po_with(lines="A"), ["$.lines"]),
    (PO, po(qty="0"), ["line 1 qty", "more than zero"]),
    (PO, po(qty="-1"), ["line 1 qty", "more than zero"]),
    (PO, po(unit_cost="-0.01"), ["line 1 unit_cost", "negative"]),
    (ADJ, correction(qty="0"), ["qty", "zero"]),
    (PRODUCTS, product(price="-1"), ["price", "negative"]),
    (USERS, user(role=""), ["role"]),
]


@pytest.mark.parametrize(("path", "body", "words"), POST_CASES, ids=lambda v: str(v)[:40])
async def test_bad_values_are_refused_with_the_field(api, path, body, words):
    before = heads(api)
    response = await api.client.post(
        path,
        data=encode(body),
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    message = (await response.json())["detail"]
    assert response.status == 400, message
    for word in words:
        assert word in message, message
    assert len(message) < 400, message  # a 100 kB value is not echoed whole
    assert heads(api) == before


MALFORMED = [b"", b"{", b"[]", b"null", b"1" * 100_000, b'{"sku": "\xff\xfe"}', b"\xff" * 10]


@pytest.mark.parametrize("path", [PO, ADJ, PRODUCTS, USERS])
@pytest.mark.parametrize("raw", MALFORMED, ids=lambda v: repr(v)[:20])
async def test_malformed_bodies_are_400(api, path, raw):
    response = await api.client.post(
        path,
        data=raw,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"},
    )
    assert response.status == 400
    assert "invalid request body" in (await response.json())["detail"]
    assert heads(api) == {}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stock?location=%ff&sku=%00",
        "/api/v1/cost?location=" + "x" * 4000,
        "/api/v1/documents/%ff%fe",
        "/api/v1/documents/" + "x" * 4000,
        "/api/v1/nodes?x=1",
    ],
)
async def test_odd_reads_are_never_500(api, path):
    response = await api.client.get(path, headers={"Authorization": f"Bearer {api.token}"})
    assert response.status in (200, 400, 404), await response.text()
    body = await response.json()
    assert response.status == 200 or len(body["detail"]) < 200, body


@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", [BIG, "²", "-1", "1.5", "x"])
async def test_audit_paging_parameters_are_400(api, param, value):
    """int() of 5,000 digits, or of "²" (a digit to str.isdigit), was a 500."""
    response = await api.client.get(
        f"/api/v1/audit?{param}={value}", headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status == 400, await response.text()
    message = (await response.json())["detail"]
    assert message.startswith(f"{param} must be a whole number"), message
    assert len(message) < 200, message


async def test_a_good_order_still_goes_through(api):
    """The checks above refuse what is wrong, not what is unusual but right."""
    body = po_with(note="deliver\nbefore noon", supplier="供应商 A")
    body["lines"][0].update(sku="苹果-1", qty="10000000", unit_cost="100000000")
    HubService(api.store).put_product(ProductIn(sku="苹果-1", name="苹果"))
    response = await api.client.post(
        PO, json=body, headers={"Authorization": f"Bearer {api.token}"}
    )
    assert response.status == 201, await response.text()
    assert heads(api) == {"hub": 1, "hub-S01": 1}  # the product, then the order


# ---- one log that cannot be published stops no other ----------------------------------


async def _subject_events(js, subject: str) -> list[str]:
    """The docs/skus of every event stored on `subject` of the hub stream."""
    found: list[str] = []
    sub = await js.pull_subscribe(subject, stream=subjects.HUB_STREAM)
    try:
        while True:
            try:
                msgs = await sub.fetch(10, timeout=1)
            except TimeoutError:  # nats-py raises its own or asyncio's: both are this
                return found
            for msg in msgs:
                for raw in codec.decode_batch(msg.data):
                    body = codec.decode(raw).body
                    if isinstance(body, Document):
                        found.append(body.doc)
                    elif isinstance(body, Upsert):
                        found.append(body.key)
                await msg.ack()
    finally:
        await sub.unsubscribe()


@pytest.mark.slow
async def test_an_unpublishable_hub_log_is_skipped_and_the_others_flow(tmp_path, nats_server):
    """A PO stored for "S09\\n" (before ids were matched whole) made every outbox round fail
    with BadSubjectError, so later POs for other stores never arrived."""
    store, _ = HubStore.init(tmp_path / "hub.db")
    replica = store.events
    bad = "hub-S09\n"
    replica.append(
        [Document(doc="PO-S09-1", type="purchase_order", location="S09\n")],
        "api",
        1_000,
        origin=bad,
    )
    replica.append(
        [Document(doc="PO-S01-1", type="purchase_order", location="S01")],
        "api",
        2_000,
        origin="hub-S01",
    )
    replica.append([Upsert(entity="product", key="A1", fields={"name": "Apple"})], "api", 3_000)
    # an event bigger than one NATS message may be (1 MiB): the server cannot take it
    too_big = Document(doc="PO-S02-1", type="purchase_order", location="S02", note="x" * 2**20)
    replica.append([too_big], "api", 3_500, origin="hub-S02")
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        transport = NatsTransport(js)
        await ensure_streams(transport)
        outbox = HubOutbox(store)
        await outbox.publish_round(transport)
        assert set(outbox.stuck) == {bad, "hub-S02"}
        assert "S09" in outbox.stuck[bad]
        assert "Payload" in outbox.stuck["hub-S02"]
        assert await _subject_events(js, subjects.hub_to_subject("S01")) == ["PO-S01-1"]
        assert await _subject_events(js, subjects.HUB_ALL_SUBJECT) == ["A1"]
        # later writes keep flowing, round after round, while the bad log stays set aside
        replica.append(
            [Document(doc="PO-S01-2", type="purchase_order", location="S01")],
            "api",
            4_000,
            origin="hub-S01",
        )
        stop = asyncio.Event()
        task = asyncio.create_task(outbox.run(transport, stop))
        for _ in range(100):
            if len(await _subject_events(js, subjects.hub_to_subject("S01"))) == 2:
                break
            await asyncio.sleep(0.1)
        stop.set()
        outbox.wake()
        await asyncio.wait_for(task, 10)
        assert await _subject_events(js, subjects.hub_to_subject("S01")) == [
            "PO-S01-1",
            "PO-S01-2",
        ]
        assert set(outbox.stuck) == {bad, "hub-S02"}
    finally:
        await nc.close()
        store.conn.close()


def test_a_node_registered_with_a_bad_id_gets_no_consumer(tmp_path):
    """A node registered as "S09\\n" (before ids were matched whole) would make creating its
    consumer fail every round, restarting ingest and publishing for every other node."""
    store, _ = HubStore.init(tmp_path / "hub.db")
    add_node(store, "S02")
    with transaction(store.conn):
        store.tables.add_node_identity("S09\n", "S09\n", "U" + "A" * 55)
    assert registered_nodes(store) == [("S02", "S02")]
    store.conn.close()
