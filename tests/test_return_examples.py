"""The worked example of docs/merge-rules.md "Returns and voids at several tills": two real
till ledgers of one store, offline from each other, exchanging their logs afterwards (as
the hub would relay them) and showing the same sale, returns, alerts and stock."""

from __future__ import annotations

import pytest

from node import users
from node.errors import NodeError
from node.sales import ReturnLine, basket_line, post_return, post_sale, return_alerts, returnable
from node.service import Node
from protocol.basket import Basket
from protocol.events import Tender
from replication.clock import wall_ms


def exchange(a: Node, b: Node) -> None:
    """Each till ingests what the other wrote (what sync through the hub amounts to)."""
    for src, dst in ((a, b), (b, a)):
        origin = src.config.node
        dst.store.ingest([raw for _, raw in src.store.log.raw_events(origin, 0)], wall_ms())


@pytest.fixture
def tills(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    t1 = Node.init(tmp_path / "t1.db", "S01-T1", "S01", "nats://127.0.0.1:1")
    t2 = Node.init(tmp_path / "t2.db", "S01-T2", "S01", "nats://127.0.0.1:1")
    t1.add_product("COLA", "Cola", price="3.00")
    t1.add_product("SOAP", "Soap", price="5.00")
    t1.receive("COLA", "10", cost="2.00")
    t1.receive("SOAP", "8", cost="3.00")
    users.add_user(t1, "zhao", None, "manager", None)
    users.add_user(t1, "li", None, "cashier", None)
    users.add_user(t1, "wu", None, "cashier", None)
    # T1 sells 3 Cola (1.00 off: 8.00) and 2 Soap (10.00): 18.00, card 10.00 and cash
    t1.user, t2.user = "li", "wu"
    b = Basket()
    for code in ("COLA 3", "SOAP 2"):
        b, _ = b.add(basket_line(t1, code))
    sale = post_sale(t1, b.discount(0, 100, approved_by="zhao"), ["card:10.00", "cash:10.00"])
    assert (sale.total, sale.change) == (1800, 200)
    exchange(t1, t2)  # T2 knows the sale; then both go offline
    return t1, t2, sale.doc


def figures(node: Node, doc: str) -> list[tuple[str, int, int, int, bool]]:
    return [(x.sku, x.sold, x.returned, x.left, x.returned_twice) for x in returnable(node, doc)]


def stock(node: Node) -> dict[str, int]:
    return {r.sku: r.qty for r in node.stock(location="S01")}


def test_two_tills_offline_each_return_the_whole_receipt(tills):
    t1, t2, doc = tills
    assert figures(t2, doc) == [("COLA", 3000, 0, 3000, False), ("SOAP", 2000, 0, 2000, False)]
    assert stock(t2) == {"COLA": 7000, "SOAP": 6000}
    whole = [ReturnLine("COLA", 3000), ReturnLine("SOAP", 2000)]
    at_t1 = post_return(t1, doc, whole)
    at_t2 = post_return(t2, doc, whole)  # T2 did not know of T1's return: it checks what it knows
    for done in (at_t1, at_t2):
        assert done.refund == 1800
        assert done.tenders == [
            Tender(method="card", amount=1000),
            Tender(method="cash", amount=800),
        ]
    assert figures(t1, doc) == [("COLA", 3000, 3000, 0, False), ("SOAP", 2000, 2000, 0, False)]
    assert stock(t1) == {"COLA": 10_000, "SOAP": 8000}

    exchange(t1, t2)
    for node in (t1, t2):  # both returns stand; every replica shows the same
        assert figures(node, doc) == [("COLA", 3000, 6000, 0, True), ("SOAP", 2000, 4000, 0, True)]
        assert [(a.kind, a.sku) for a in return_alerts(node, doc)] == [
            ("returned_twice", "COLA"),
            ("returned_twice", "SOAP"),
        ]
        assert stock(node) == {"COLA": 13_000, "SOAP": 10_000}  # a count sets the shelf right
    assert return_alerts(t1, doc) == return_alerts(t2, doc)
    with pytest.raises(NodeError, match=r"at most 0\.000 is left"):
        post_return(t1, doc, [ReturnLine("COLA", 1000)])


def test_two_tills_offline_each_return_part_of_a_line(tills):
    t1, t2, doc = tills
    one = post_return(t1, doc, [ReturnLine("COLA", 1000)])
    two = post_return(t2, doc, [ReturnLine("COLA", 2000)])
    assert (one.refund, two.refund) == (267, 533)  # 8.00 × 1/3 and 8.00 × 2/3, half-up
    assert one.tenders == [Tender(method="card", amount=267)]
    assert two.tenders == [Tender(method="card", amount=533)]
    exchange(t1, t2)
    for node in (t1, t2):
        assert figures(node, doc) == [
            ("COLA", 3000, 3000, 0, False),
            ("SOAP", 2000, 0, 2000, False),
        ]
        assert return_alerts(node, doc) == []
    # the next return at either till knows both: card has 2.00 left, the rest is cash
    rest = post_return(t2, doc, [ReturnLine("SOAP", 2000)])
    assert rest.tenders == [Tender(method="card", amount=200), Tender(method="cash", amount=800)]
    assert stock(t2) == {"COLA": 10_000, "SOAP": 8000}
