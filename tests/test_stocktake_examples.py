"""The worked example of docs/merge-rules.md "Stocktakes by several clerks": three real
till ledgers of one store exchanging their logs (as the hub would relay them). Two clerks
count two places on two tills, a third till sells during the count, and two managers,
offline from each other, both approve: the stock is counted once, the status says
approved twice and names both."""

from __future__ import annotations

import pytest

from node import stocktake, users
from node.errors import NodeError
from node.service import Node
from node.stocktake import Counted
from protocol.events import Document
from replication.clock import wall_ms

Q = 1000


def exchange(*tills: Node) -> None:
    """Every till ingests what the others wrote (what sync through the hub amounts to)."""
    for src in tills:
        for dst in tills:
            if dst is not src:
                origin = src.config.node
                raws = [raw for _, raw in src.store.log.raw_events(origin, 0)]
                dst.store.ingest(raws, wall_ms())


@pytest.fixture
def tills(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    t1, t2, t3 = (
        Node.init(tmp_path / f"t{i}.db", f"S01-T{i}", "S01", "nats://127.0.0.1:1")
        for i in (1, 2, 3)
    )
    t1.add_product("COLA", "Cola", price="3.00")
    t1.receive("COLA", "10", cost="2.00")  # 10 on the books at 2.00
    for user, role, pin in (
        ("zhao", "manager", "4821"),
        ("wang", "manager", "5930"),
        ("chen", "clerk", "1111"),
        ("liu", "clerk", "2222"),
        ("li", "cashier", "3333"),
    ):
        users.add_user(t1, user, None, role, pin)
    exchange(t1, t2, t3)
    return t1, t2, t3


def stock(node: Node) -> int:
    return sum(r.qty for r in node.stock(sku="COLA", location="S01"))


def test_two_clerks_summed_a_sale_during_the_count_two_managers_offline(tills):
    t1, t2, t3 = tills
    t1.user, t2.user, t3.user = "chen", "liu", "li"
    (opened,) = stocktake.open_stocktake(t1)
    assert isinstance(opened.body, Document)
    doc = opened.body.doc
    exchange(t1, t2, t3)

    stocktake.tally(t1, doc, "shelf", [Counted("COLA", 6 * Q)])  # chen, on T1
    stocktake.tally(t2, doc, "back store", [Counted("COLA", 3 * Q)])  # liu, on T2
    t3.sell("COLA", "2")  # li sells 2 on T3 after both places were counted
    exchange(t1, t2, t3)

    # every till reviews the same: 9 counted (6 + 3) before 2 were sold, so 7 are there;
    # 8 on the books (10 − 2): 1 missing, −2.00 at cost
    for till in (t1, t2, t3):
        session = stocktake.status(till, doc)
        assert session.counted == {("COLA", None): 9 * Q}
        assert [(p.user, p.place, p.qty) for p in session.places] == [
            ("liu", "back store", 3 * Q),
            ("chen", "shelf", 6 * Q),
        ]
        (row,) = stocktake.review(till, doc)
        assert (row.expected, row.counted, row.variance, row.value) == (8 * Q, 9 * Q, -Q, -200)

    # offline from each other, zhao approves on T1 and wang on T2: each posts
    # Count 7 = 9 tallied − 2 sold after the tallies
    t1.user, t2.user = "zhao", "wang"
    c1 = stocktake.approve(t1, doc)
    c2 = stocktake.approve(t2, doc)
    assert [e.body.qty for e in (c1[1], c2[1])] == [7 * Q, 7 * Q]  # type: ignore[union-attr]
    with pytest.raises(NodeError, match="already approved by wang"):
        stocktake.approve(t2, doc)  # a till that knows of an approval refuses another

    exchange(t1, t2, t3)
    for till in (t1, t2, t3):
        till.user = "chen"
        session = stocktake.status(till, doc)
        assert session.status == "approved_twice"
        assert {a.approved_by for a in session.approvals} == {"zhao", "wang"}
        assert session.alert is not None and "zhao" in session.alert and "wang" in session.alert
        first, second = session.approvals
        # the first close carries the variance (8 on the books → 7 counted), the second
        # re-asserts 7: zero, the stock is not counted twice
        assert stocktake.close_variance(till, first) == {("COLA", None): -Q}
        assert stocktake.close_variance(till, second) == {("COLA", None): 0}
        assert stock(till) == 7 * Q
        with pytest.raises(NodeError, match="already approved by"):
            stocktake.approve(till, doc, "zhao", "4821")
