"""Receiving orders and transfers: no double counting, second confirmations, receipts as
documents, cost/lot/expiry per line, transit at the shipper's cost. Real SQLite ledgers;
events travel between them as the canonical bytes replication carries."""

from __future__ import annotations

import msgspec
import pytest

from hub.routing import route_transfers
from hub.store import HubStore
from ledger.replica import Replica
from ledger.sqlite import connect
from node import logistics, users
from node.errors import NodeError
from node.logistics import Arrived, Confirmation
from node.service import Node
from protocol import codec
from protocol.events import Body, DocLine, Document, Event, Movement, Upsert, document_header
from protocol.hlc import pack
from replication.clock import wall_ms

MANAGER = Confirmation(approver="wang", pin="4821")


def hub_log(origin: str, *bodies: Body, user: str = "api") -> list[bytes]:
    """A hub log (e.g. "hub-S01") as replication delivers it: chained canonical bytes."""
    raws, prev, now = [], codec.GENESIS, 1_764_000_000_000  # fixed: the same log every time
    for seq, body in enumerate(bodies, start=1):
        event = Event(origin=origin, seq=seq, hlc=pack(now + seq, 0), prev=prev, user=user,
                      body=body)  # fmt: skip
        raw = codec.encode(event)
        prev = codec.event_hash(raw)
        raws.append(raw)
    return raws


def purchase_order(qty: int = 20, cost: int = 230, doc: str = "PO-S01-1") -> Document:
    return Document(
        doc=doc,
        type="purchase_order",
        location="S01",
        counterparty="ACME",
        lines=[DocLine(sku="A1", qty=qty * 1000, unit_cost=cost)],
    )


def till(tmp_path, name: str = "S01-T1", location: str = "S01", user: str = "li") -> Node:
    """A till with product A1 (barcode 6901234567892), manager wang and cashier li."""
    node = Node.init(tmp_path / f"{name}.db", name, location, "nats://127.0.0.1:1", user=user)
    node.add_product("A1", "Apple", barcode="6901234567892", price="3.50")
    users.add_user(node, "wang", "王芳", "manager", "4821")
    users.add_user(node, "li", "李娜", "cashier", "1111")
    return node


def with_order(node: Node, order: Document | None = None) -> Node:
    node.store.ingest(hub_log("hub-S01", order or purchase_order()), wall_ms())
    return node


def level(node: Node, sku: str = "A1") -> int:
    return sum(r.qty for r in node.read.stock(location=node.config.location, sku=sku))


def share(*nodes: Node) -> None:
    """Every node gets every other node's log, as replication would deliver it."""
    for source in nodes:
        raws = [raw for _, raw in source.store.log.raw_events(source.config.node, 0)]
        for target in nodes:
            if target is not source:
                target.store.ingest(raws, wall_ms())


# ---- the event format ---------------------------------------------------------------------


def test_new_document_fields_leave_old_events_bytes_unchanged():
    """Canonical bytes of an event written before ref/approved_by/recounted/expiry existed
    (captured from that version): identical, so every old hash chain still verifies."""
    old = bytes.fromhex(
        "86a66f726967696ea76875622d533031a373657101a3686c63ce075bcd15a470726576c41000000000"
        "000000000000000000000000a475736572a3617069a4626f647987a46b696e64a8646f63756d656e74"
        "a3646f63a8504f2d5330312d31a474797065ae70757263686173655f6f72646572a86c6f636174696f"
        "6ea3533031ac636f756e7465727061727479a441434d45a56c696e65739184a3736b75a24131a37174"
        "79cd4e20a9756e69745f636f7374cce6a36c6f74a24c31a46e6f7465a16e"
    )
    header = Document(
        doc="PO-S01-1",
        type="purchase_order",
        location="S01",
        counterparty="ACME",
        lines=[DocLine(sku="A1", qty=20000, unit_cost=230, lot="L1")],
        note="n",
    )
    event = Event(origin="hub-S01", seq=1, hlc=123456789, prev=bytes(16), user="api", body=header)
    assert codec.encode(event) == old
    assert codec.decode(old) == event
    receipt = msgspec.structs.replace(header, type="receipt", ref="PO-S01-1", recounted=True)
    assert codec.decode(codec.encode(msgspec.structs.replace(event, body=receipt))).body == receipt


# ---- refusing a complete document -----------------------------------------------------------


def test_a_complete_order_is_refused_and_says_which_receipts_exist(tmp_path):
    node = with_order(till(tmp_path))
    first = logistics.receive_purchase_order(node, "PO-S01-1")
    receipt = first[0].body
    assert isinstance(receipt, Document) and receipt.type == "receipt"
    assert receipt.ref == "PO-S01-1"
    head = node.store.log.head_seq("S01-T1")
    for lines in (None, [Arrived("A1", 5000)]):
        with pytest.raises(NodeError) as refused:
            logistics.receive_purchase_order(node, "PO-S01-1", lines)
        message = str(refused.value)
        assert "already received" in message
        assert receipt.doc in message and "li" in message and "S01-T1" in message
        assert "--force --approver" in message
    assert node.store.log.head_seq("S01-T1") == head  # nothing written
    assert level(node) == 20_000
    (status,) = [node.read.document("PO-S01-1")]
    assert status is not None and [r.doc for r in status.receipts] == [receipt.doc]
    assert status.receipts[0].user == "li" and status.receipts[0].origin == "S01-T1"


def test_an_extra_receipt_needs_force_and_a_manager(tmp_path):
    node = with_order(till(tmp_path))
    logistics.receive_purchase_order(node, "PO-S01-1")
    five = [Arrived("A1", 5000)]
    refusals = [
        (Confirmation(force=True), "needs a manager"),
        (Confirmation(force=True, approver="li", pin="1111"), "only a manager or admin"),
        (Confirmation(force=True, approver="wang", pin="0000"), "wrong PIN for wang"),
        (Confirmation(force=True, approver="nobody", pin="1234"), "no user 'nobody'"),
    ]
    for confirm, message in refusals:
        with pytest.raises(NodeError, match=message):
            logistics.receive_purchase_order(node, "PO-S01-1", five, confirm)
    assert level(node) == 20_000
    events = logistics.receive_purchase_order(
        node, "PO-S01-1", five, Confirmation(force=True, approver="wang", pin="4821")
    )
    extra = events[0].body
    assert isinstance(extra, Document) and extra.approved_by == "wang"
    assert level(node) == 25_000
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "over_received"
    assert len(status.receipts) == 2 and status.alerts == []  # deliberate: no alert
    assert status.accepted and "wang" in status.accepted[0]
    assert logistics.open_documents(node) == []  # forced deliberately: nothing to review


def test_a_transfer_cannot_be_received_twice(tmp_path):
    store = till(tmp_path, "S01")
    transfer = Document(
        doc="W01-9",
        type="transfer",
        location="W01",
        counterparty="S01",
        lines=[DocLine(sku="A1", qty=12_000)],
        shipped=[DocLine(sku="A1", qty=12_000, unit_cost=400, lot="L7")],
    )
    store.store.ingest(hub_log("hub-S01", transfer), wall_ms())
    logistics.receive_transfer(store, "W01-9")
    with pytest.raises(NodeError, match="already received"):
        logistics.receive_transfer(store, "W01-9")
    with pytest.raises(NodeError, match="already received"):
        logistics.receive_transfer(store, "W01-9", [Arrived("A1", 12_000)])
    assert level(store) == 12_000


# ---- differences need a second confirmation ---------------------------------------------------


def test_an_over_receipt_needs_a_recount_that_agrees_or_a_manager(tmp_path):
    node = with_order(till(tmp_path))
    over = [Arrived("A1", 25_000)]
    with pytest.raises(NodeError) as refused:
        logistics.receive_purchase_order(node, "PO-S01-1", over)
    assert "A1 25.000 arrived, 20.000 ordered" in str(refused.value)
    assert "--recount A1=25.000" in str(refused.value)
    assert "--approver USER --pin PIN" in str(refused.value)
    with pytest.raises(NodeError, match="does not agree"):
        logistics.receive_purchase_order(
            node, "PO-S01-1", over, Confirmation(recount=[Arrived("A1", 24_000)])
        )
    assert level(node) == 0
    events = logistics.receive_purchase_order(
        node, "PO-S01-1", over, Confirmation(recount=[Arrived("A1", 25_000)])
    )
    receipt = events[0].body
    assert isinstance(receipt, Document) and receipt.recounted and receipt.approved_by is None
    assert receipt.lines == [DocLine(sku="A1", qty=25_000, unit_cost=230)]
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "over_received"
    assert [(x.expected, x.done, x.discrepancy) for x in status.lines] == [(20_000, 25_000, 5000)]
    assert status.alerts == []  # one receipt: a difference, not a double receipt
    assert [s.doc for s in logistics.open_documents(node)] == ["PO-S01-1"]  # to review
    logistics.accept_receipts(node, "PO-S01-1", "wang", "4821")
    status = node.read.document("PO-S01-1")
    assert status is not None and status.differences_accepted
    assert logistics.open_documents(node) == []
    assert [s.doc for s in logistics.open_documents(node, everything=True)] == ["PO-S01-1"]


def test_a_manager_confirms_a_short_transfer_and_is_recorded(tmp_path):
    store = till(tmp_path, "S01")
    transfer = Document(
        doc="W01-9",
        type="transfer",
        location="W01",
        counterparty="S01",
        lines=[DocLine(sku="A1", qty=12_000)],
        shipped=[DocLine(sku="A1", qty=12_000, unit_cost=400)],
    )
    store.store.ingest(hub_log("hub-S01", transfer), wall_ms())
    with pytest.raises(NodeError, match=r"A1 11\.000 arrived, 12\.000 shipped"):
        logistics.receive_transfer(store, "W01-9", [Arrived("A1", 11_000)])
    events = logistics.receive_transfer(store, "W01-9", [Arrived("A1", 11_000)], MANAGER)
    assert document_header(events).approved_by == "wang"
    status = store.read.document("W01-9")
    assert status is not None and status.status == "received_with_discrepancy"


def test_an_order_may_arrive_in_parts_without_a_second_confirmation(tmp_path):
    node = with_order(till(tmp_path))
    logistics.receive_purchase_order(node, "PO-S01-1", [Arrived("A1", 8000)])
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "partly_received"
    logistics.receive_purchase_order(node, "PO-S01-1")  # the rest: 12
    status = node.read.document("PO-S01-1")
    assert status is not None and status.status == "received"
    assert [r.lines[0].qty for r in status.receipts] == [8000, 12_000]
    assert level(node) == 20_000


# ---- cost, lot and expiry per line ------------------------------------------------------------


def test_receipt_lines_take_cost_lot_and_expiry(tmp_path):
    node = with_order(till(tmp_path), purchase_order(qty=30))
    lines = logistics.parse_receipt_lines(
        node,
        [
            "A1=5",
            "A1=5@2.10",
            "A1=5:L1:2027-01-31",
            "(01)06901234567892(10)L2(17)270228=5",
            "(01)06901234567892(10)L3(15)270315=5",
            "6901234567892=5",
        ],
    )
    assert lines == [
        Arrived("A1", 5000),
        Arrived("A1", 5000, 210),
        Arrived("A1", 5000, None, "L1", "2027-01-31"),
        Arrived("A1", 5000, None, "L2", "2027-02-28"),
        Arrived("A1", 5000, None, "L3", "2027-03-15"),
        Arrived("A1", 5000),
    ]
    events = logistics.receive_purchase_order(node, "PO-S01-1", lines)
    moves = [e.body for e in events if isinstance(e.body, Movement)]
    assert [(m.unit_cost, m.lot, m.expiry, m.doc) for m in moves] == [
        (230, None, None, "PO-S01-1"),
        (210, None, None, "PO-S01-1"),
        (230, "L1", "2027-01-31", "PO-S01-1"),
        (230, "L2", "2027-02-28", "PO-S01-1"),
        (230, "L3", "2027-03-15", "PO-S01-1"),
        (230, None, None, "PO-S01-1"),
    ]
    (cost,) = node.read.cost("S01", "A1")
    assert cost.value == 5 * 230 * 5 + 5 * 210
    for bad, message in (("A1=5:L1:31.01.2027", "not a date"), ("ZZ=1", "unknown product")):
        with pytest.raises(NodeError, match=message):
            logistics.parse_receipt_lines(node, [bad])


# ---- transit keeps value ----------------------------------------------------------------------


def test_a_transfer_carries_the_shippers_average_cost_and_lots(tmp_path):
    warehouse = till(tmp_path, "W01", "W01")
    warehouse.receive("A1", "10", cost="3.00", lot="L1", expiry="2027-01-31")
    warehouse.receive("A1", "10", cost="5.00", lot="L2", expiry="2027-06-30")
    events = logistics.ship_transfer(warehouse, "S01", [("A1", 15_000)])
    moves = [e.body for e in events if isinstance(e.body, Movement)]
    assert [(m.lot, m.expiry, m.qty, m.unit_cost) for m in moves] == [
        ("L1", "2027-01-31", 10_000, 400),
        ("L2", "2027-06-30", 5000, 400),
    ]
    doc = document_header(events).doc

    hub = HubStore(connect(tmp_path / "hub.db"))
    share_to_hub = [raw for _, raw in warehouse.store.log.raw_events("W01", 0)]
    hub.events.ingest(share_to_hub, wall_ms())
    with hub.events.work():
        assert route_transfers(hub.events, hub.tables, wall_ms()) == 1
    routed = [raw for _, raw in hub.events.log.raw_events("hub-S01", 0)]
    header = codec.decode(routed[0]).body
    assert isinstance(header, Document)
    assert header.shipped == [
        DocLine(sku="A1", qty=10_000, unit_cost=400, lot="L1", expiry="2027-01-31"),
        DocLine(sku="A1", qty=5000, unit_cost=400, lot="L2", expiry="2027-06-30"),
    ]

    store = till(tmp_path, "S01")
    store.store.ingest(routed, wall_ms())
    logistics.receive_transfer(store, doc)
    lots = {(r.lot, r.qty) for r in store.read.stock(location="S01")}
    assert lots == {("L1", 10_000), ("L2", 5000)}
    assert [(x.lot, x.expiry) for x in store.read.lot_levels("S01", "A1")] == [
        ("L1", "2027-01-31"),
        ("L2", "2027-06-30"),
    ]  # sold first-expiry-first-out at the store too
    (cost,) = store.read.cost("S01", "A1")
    assert (cost.qty, cost.value) == (15_000, 6000)  # 15 at 4.00: the value came along
    transit = {r.lot: r.qty for r in store.read.stock(location="@transit", include_virtual=True)}
    assert transit == {"L1": -10_000, "L2": -5000}  # the shipper's side is not here


# ---- users and PINs ---------------------------------------------------------------------------


def test_a_pin_is_stored_only_as_a_salted_hash(tmp_path):
    node = till(tmp_path)
    fields = node.read.master_fields("user", "wang")
    assert fields["role"] == "manager" and fields["name"] == "王芳"
    encoded = fields["pin_hash"]
    assert isinstance(encoded, str) and encoded.startswith("scrypt$") and "4821" not in encoded
    assert users.pin_matches("4821", encoded) and not users.pin_matches("4822", encoded)
    assert users.hash_pin("4821") != users.hash_pin("4821")  # salted
    raw = b"".join(raw for _, raw in node.store.log.raw_events("S01-T1", 0))
    assert b"4821" not in raw
    assert users.verify_approver(node, "wang", "4821") == "wang"
    for bad in ("12", "12ab", "1234567890123"):
        with pytest.raises(NodeError, match="4 to 12 digits"):
            users.add_user(node, "zhao", None, "clerk", bad)
    with pytest.raises(NodeError, match="role 'pirate'"):
        users.add_user(node, "zhao", None, "pirate", "1234")  # type: ignore[arg-type]


def test_a_deactivated_manager_cannot_approve(tmp_path):
    node = till(tmp_path)
    node.store.append(
        [Upsert(entity="user", key="wang", fields={"active": False})], "admin", wall_ms()
    )
    with pytest.raises(NodeError, match="not active"):
        users.verify_approver(node, "wang", "4821")


# ---- two tills, offline, the same order -------------------------------------------------------


def test_two_tills_receiving_offline_both_stay_and_a_reversal_resolves_it(tmp_path):
    t1 = with_order(till(tmp_path, "S01-T1", user="li"))
    t2 = with_order(till(tmp_path, "S01-T2", user="zhou"))
    r1 = document_header(logistics.receive_purchase_order(t1, "PO-S01-1")).doc
    r2 = document_header(logistics.receive_purchase_order(t2, "PO-S01-1")).doc
    hub = Replica(connect(tmp_path / "hub.db"), "hub")
    for replica in (t1.store, t2.store, hub):
        for node in (t1, t2):
            if replica is not node.store:
                replica.ingest([raw for _, raw in node.store.log.raw_events(node.config.node, 0)],
                               wall_ms())  # fmt: skip
        replica.ingest(hub_log("hub-S01", purchase_order()), wall_ms())
    for replica in (t1.store, t2.store, hub):
        status = replica.read.document("PO-S01-1")
        assert status is not None and status.status == "over_received"
        assert sorted(r.doc for r in status.receipts) == sorted([r1, r2])
        assert [a.kind for a in status.alerts] == ["received_twice"]
        assert r1 in status.alerts[0].message and r2 in status.alerts[0].message
    assert [s.doc for s in logistics.open_documents(t1)] == ["PO-S01-1"]  # listed: alert

    with pytest.raises(NodeError, match="a manager must confirm this"):
        logistics.reverse_receipt(t1, r2, None, None)
    with pytest.raises(NodeError, match="is not a receipt"):
        logistics.reverse_receipt(t1, "PO-S01-1", "wang", "4821")
    logistics.reverse_receipt(t1, r2, "wang", "4821")
    with pytest.raises(NodeError, match="already reversed"):
        logistics.reverse_receipt(t1, r2, "wang", "4821")
    share(t1, t2)
    hub.ingest([raw for _, raw in t1.store.log.raw_events("S01-T1", 0)], wall_ms())
    for replica in (t1.store, t2.store, hub):
        status = replica.read.document("PO-S01-1")
        assert status is not None and status.status == "received" and status.alerts == []
        assert [r.reversed_by != [] for r in status.receipts if r.doc == r2] == [True]
        assert sum(r.qty for r in replica.read.stock(location="S01")) == 20_000
    assert logistics.open_documents(t1) == []


def test_accepting_a_double_receipt_clears_the_alert_until_more_arrives(tmp_path):
    t1 = with_order(till(tmp_path, "S01-T1"))
    t2 = with_order(till(tmp_path, "S01-T2"))
    logistics.receive_purchase_order(t1, "PO-S01-1")
    logistics.receive_purchase_order(t2, "PO-S01-1")
    share(t1, t2)
    with pytest.raises(NodeError, match="only a manager"):
        logistics.accept_receipts(t1, "PO-S01-1", "li", "1111")
    logistics.accept_receipts(t1, "PO-S01-1", "wang", "4821")
    status = t1.read.document("PO-S01-1")
    assert status is not None and status.status == "over_received" and status.alerts == []
    logistics.receive_purchase_order(
        t2, "PO-S01-1", [Arrived("A1", 1000)], Confirmation(force=True, approver="wang", pin="4821")
    )
    t3 = with_order(till(tmp_path, "S01-T3"))
    logistics.receive_purchase_order(t3, "PO-S01-1")  # a third till, offline: 20 more
    share(t1, t2, t3)
    status = t1.read.document("PO-S01-1")
    assert status is not None and [a.kind for a in status.alerts] == ["received_twice"]
    with pytest.raises(NodeError, match="nothing to accept"):
        logistics.accept_receipts(with_order(till(tmp_path, "S01-T4")), "PO-S01-1", "wang", "4821")


def test_a_transfer_received_at_two_tills_is_resolved_by_reversing_one(tmp_path):
    transfer = Document(
        doc="W01-9",
        type="transfer",
        location="W01",
        counterparty="S01",
        lines=[DocLine(sku="A1", qty=12_000)],
        shipped=[DocLine(sku="A1", qty=12_000, unit_cost=400, lot="L7")],
    )
    t1, t2 = till(tmp_path, "S01-T1"), till(tmp_path, "S01-T2")
    for node in (t1, t2):
        node.store.ingest(hub_log("hub-S01", transfer), wall_ms())
    logistics.receive_transfer(t1, "W01-9")
    second = document_header(logistics.receive_transfer(t2, "W01-9")).doc
    share(t1, t2)
    status = t1.read.document("W01-9")
    assert status is not None and status.status == "over_received"
    assert [a.kind for a in status.alerts] == ["received_twice"]
    assert "kucun node transfer reverse" in status.alerts[0].message
    events = logistics.reverse_receipt(t1, second, "wang", "4821")
    back = [e.body for e in events if isinstance(e.body, Movement)]
    assert [(m.src, m.dst, m.lot, m.qty, m.doc) for m in back] == [
        ("S01", "@transit", "L7", 12_000, "W01-9")
    ]
    share(t1, t2)
    for node in (t1, t2):
        status = node.read.document("W01-9")
        assert status is not None and status.status == "received" and status.alerts == []
        assert level(node) == 12_000
