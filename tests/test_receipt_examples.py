"""The worked examples of docs/merge-rules.md "Receiving twice", each delivered in every
order: receipts, reversals and acceptances give the same status, receipts, alerts and
stock at every replica whatever arrived first."""

from __future__ import annotations

from protocol.documents import DocumentStatus
from protocol.events import Body, DocLine, Document, Movement
from tests.test_merge_examples import deliver_in_every_order, log

ORDER = Document(
    doc="PO-S01-1",
    type="purchase_order",
    location="S01",
    counterparty="ACME",
    lines=[DocLine(sku="A", qty=20_000, unit_cost=230)],
)
HEAD_OFFICE = log("hub-S01", ("08:00:00", ORDER))


def receipt(doc: str, qty: int = 20) -> list[Body]:
    """A till's receipt header (`doc` is its own number) and its movement citing the PO."""
    return [
        Document(
            doc=doc,
            type="receipt",
            location="S01",
            ref="PO-S01-1",
            lines=[DocLine(sku="A", qty=qty * 1000, unit_cost=230)],
        ),
        Movement(
            sku="A", qty=qty * 1000, src="@supplier", dst="S01", doc="PO-S01-1", unit_cost=230
        ),
    ]


def reversal(doc: str, of: str) -> list[Body]:
    return [
        Document(
            doc=doc,
            type="reversal",
            location="S01",
            ref=of,
            lines=[DocLine(sku="A", qty=20_000, unit_cost=230)],
            approved_by="wang",
        ),
        Movement(sku="A", qty=20_000, src="S01", dst="@supplier", doc="PO-S01-1"),
    ]


def acceptance(doc: str, qty: int = 40) -> Document:
    return Document(
        doc=doc,
        type="acceptance",
        location="S01",
        ref="PO-S01-1",
        lines=[DocLine(sku="A", qty=qty * 1000)],
        approved_by="zhao",
    )


def at(clock: str, bodies: list[Body]) -> list[tuple[str, object]]:
    return [(clock, body) for body in bodies]


T1_RECEIVES = at("10:00:00", receipt("S01-T1-1"))
T2_RECEIVES = at("10:05:00", receipt("S01-T2-1"))


def status_of(hub) -> DocumentStatus:
    status = hub.read.document("PO-S01-1")
    assert status is not None
    return status


def outcome(hub) -> tuple:
    status = status_of(hub)
    # listing all documents in one pass derives the same as reading this one
    assert [s for _, s in hub.read.document_statuses(("purchase_order",))] == [status]
    stock = {r.location: r.qty for r in hub.read.stock(location="S01")}.get("S01", 0)
    return (
        status.status,
        [(r.doc, r.reversed_by) for r in status.receipts],
        [a.kind for a in status.alerts],
        stock,
    )


def test_two_tills_receive_the_same_order_offline():
    for hub in deliver_in_every_order(
        HEAD_OFFICE, log("S01-T1", *T1_RECEIVES), log("S01-T2", *T2_RECEIVES)
    ):
        assert outcome(hub) == (
            "over_received",
            [("S01-T1-1", []), ("S01-T2-1", [])],
            ["received_twice"],
            40_000,
        )
        (alert,) = status_of(hub).alerts
        assert "S01-T1-1" in alert.message and "S01-T2-1" in alert.message
        assert "A 40 of 20" in alert.message


def test_a_manager_reverses_one_receipt():
    t1 = log("S01-T1", *T1_RECEIVES, *at("11:00:00", reversal("S01-T1-3", of="S01-T2-1")))
    for hub in deliver_in_every_order(HEAD_OFFICE, t1, log("S01-T2", *T2_RECEIVES)):
        assert outcome(hub) == (
            "received",
            [("S01-T1-1", []), ("S01-T2-1", ["S01-T1-3"])],
            [],
            20_000,
        )
        (cost,) = hub.read.cost("S01", "A")
        assert (cost.qty, cost.value) == (20_000, 4600)  # 20 at 2.30 remain


def test_a_manager_accepts_both_receipts():
    t2 = log("S01-T2", *T2_RECEIVES, ("11:00:00", acceptance("S01-T2-3")))
    for hub in deliver_in_every_order(HEAD_OFFICE, log("S01-T1", *T1_RECEIVES), t2):
        assert outcome(hub) == (
            "over_received",
            [("S01-T1-1", []), ("S01-T2-1", [])],
            [],
            40_000,
        )
        assert status_of(hub).accepted == ["S01-T2-3 (zhao)"]


def test_two_managers_offline_one_reverses_one_accepts():
    t1 = log("S01-T1", *T1_RECEIVES, *at("11:00:00", reversal("S01-T1-3", of="S01-T2-1")))
    t2 = log("S01-T2", *T2_RECEIVES, ("11:01:00", acceptance("S01-T2-3")))
    for hub in deliver_in_every_order(HEAD_OFFICE, t1, t2):
        # the reversal took 20 back out; the acceptance kept up to 40, so nothing is open
        assert outcome(hub) == (
            "received",
            [("S01-T1-1", []), ("S01-T2-1", ["S01-T1-3"])],
            [],
            20_000,
        )


def test_two_managers_offline_each_reverse_a_different_receipt():
    t1 = log("S01-T1", *T1_RECEIVES, *at("11:00:00", reversal("S01-T1-3", of="S01-T2-1")))
    t2 = log("S01-T2", *T2_RECEIVES, *at("11:01:00", reversal("S01-T2-3", of="S01-T1-1")))
    for hub in deliver_in_every_order(HEAD_OFFICE, t1, t2):
        assert outcome(hub) == (
            "ordered",
            [("S01-T1-1", ["S01-T2-3"]), ("S01-T2-1", ["S01-T1-3"])],
            ["reversed_twice"],
            0,
        )


def test_the_same_receipt_reversed_twice():
    t1 = log("S01-T1", *T1_RECEIVES, *at("11:00:00", reversal("S01-T1-3", of="S01-T2-1")))
    t2 = log("S01-T2", *T2_RECEIVES, *at("11:01:00", reversal("S01-T2-3", of="S01-T2-1")))
    for hub in deliver_in_every_order(HEAD_OFFICE, t1, t2):
        assert outcome(hub) == (
            "ordered",
            [("S01-T1-1", []), ("S01-T2-1", ["S01-T1-3", "S01-T2-3"])],
            ["reversed_twice"],
            0,
        )
