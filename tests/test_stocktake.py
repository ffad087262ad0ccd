"""Stocktake sessions: tallies of places summed, a recount replacing the clerk's own
figure, review against stock, approval posting counts true at posting time although
selling went on, a second approval refused. Real SQLite ledgers."""

from __future__ import annotations

import pytest

from node import stocktake, users
from node.errors import NodeError
from node.service import Node
from node.stocktake import Counted
from protocol import stocktake as pure
from protocol.events import Count, DocLine, Document

Q = 1000


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("KUCUN_LANG", "en")
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", price="3.00")
    node.add_product("SOAP", "Soap", price="5.00")
    node.receive("COLA", "10", cost="2.00")
    node.receive("SOAP", "8", cost="3.00")
    users.add_user(node, "zhao", None, "manager", "4821")
    users.add_user(node, "chen", None, "clerk", "1111")
    users.add_user(node, "liu", None, "clerk", "2222")
    users.add_user(node, "li", None, "cashier", "3333")
    return node


def opened(node: Node, skus=()) -> str:
    (event,) = stocktake.open_stocktake(node, skus)
    assert isinstance(event.body, Document)
    return event.body.doc


def level(node: Node, sku: str) -> int:
    return sum(r.qty for r in node.stock(sku=sku, location="S01"))


def test_places_and_clerks_are_summed_and_a_recount_replaces(store):
    doc = opened(store)
    store.user = "chen"
    stocktake.tally(store, doc, "shelf", [Counted("COLA", 5 * Q)])
    stocktake.tally(store, doc, "back store", [Counted("COLA", 3 * Q)])
    stocktake.tally(store, doc, "shelf", [Counted("COLA", 6 * Q)])  # recount: replaces 5
    store.user = "liu"
    stocktake.tally(store, doc, "shelf", [Counted("SOAP", 8 * Q)])
    session = stocktake.status(store, doc)
    assert session.status == "open"
    assert session.counted == {("COLA", None): 9 * Q, ("SOAP", None): 8 * Q}
    assert [(p.user, p.place, p.sku, p.qty) for p in session.places] == [
        ("chen", "back store", "COLA", 3 * Q),
        ("chen", "shelf", "COLA", 6 * Q),
        ("liu", "shelf", "SOAP", 8 * Q),
    ]
    rows = stocktake.review(store, doc)
    assert [(r.sku, r.expected, r.counted, r.variance, r.value) for r in rows] == [
        ("COLA", 10 * Q, 9 * Q, -1 * Q, -200),
        ("SOAP", 8 * Q, 8 * Q, 0, 0),
    ]


def test_review_shows_lines_in_scope_not_counted(store):
    doc = opened(store, ["COLA", "SOAP"])
    store.user = "chen"
    stocktake.tally(store, doc, "shelf", [Counted("COLA", 10 * Q)])
    rows = stocktake.review(store, doc)
    assert [(r.sku, r.counted, r.variance) for r in rows] == [
        ("COLA", 10 * Q, 0),
        ("SOAP", None, None),
    ]


def test_out_of_scope_and_bad_input_write_nothing(store):
    store.add_product("TEA", "Tea", price="9.00")
    doc = opened(store, ["COLA"])
    store.user = "chen"
    head = store.store.log.head_seq("S01")
    with pytest.raises(NodeError, match="not in the scope"):
        stocktake.tally(store, doc, "shelf", [Counted("TEA", Q)])
    with pytest.raises(NodeError, match="name the place"):
        stocktake.tally(store, doc, "  ", [Counted("COLA", Q)])
    with pytest.raises(NodeError, match="no stocktake"):
        stocktake.tally(store, "S01-999", "shelf", [Counted("COLA", Q)])
    with pytest.raises(NodeError, match="nothing is counted"):
        stocktake.approve(store, doc, "zhao", "4821")
    assert store.store.log.head_seq("S01") == head


def test_a_cashier_may_not_count(store):
    store.user = "li"
    with pytest.raises(NodeError, match="may not"):
        stocktake.open_stocktake(store)


def test_approval_counts_what_was_sold_after_the_tally(store):
    doc = opened(store)
    store.user = "chen"
    stocktake.tally(store, doc, "shelf", [Counted("COLA", 9 * Q)])  # one missing
    store.user = "li"
    store.sell("COLA", "2")  # sold after the count: 10 - 2 = 8 on the books
    store.user = "chen"
    row, soap = stocktake.review(store, doc)  # 9 counted before 2 sold: 7 there, 8 booked
    assert (row.expected, row.counted, row.variance, row.value) == (8 * Q, 9 * Q, -Q, -200)
    assert (soap.sku, soap.counted) == ("SOAP", None)  # not counted yet
    with pytest.raises(NodeError, match="manager"):
        stocktake.approve(store, doc)
    with pytest.raises(NodeError, match="only a manager or admin"):
        stocktake.approve(store, doc, "liu", "2222")
    events = stocktake.approve(store, doc, "zhao", "4821")
    close = events[0].body
    assert isinstance(close, Document) and close.approved_by == "zhao"
    counts = [e.body for e in events[1:]]
    assert counts == [Count(location="S01", sku="COLA", qty=7 * Q, doc=close.doc)]
    assert level(store, "COLA") == 7 * Q  # 9 counted − 2 sold after
    assert stocktake.status(store, doc).status == "approved"
    with pytest.raises(NodeError, match="already approved by zhao"):
        stocktake.approve(store, doc, "zhao", "4821")
    with pytest.raises(NodeError, match="already approved"):
        stocktake.tally(store, doc, "shelf", [Counted("COLA", Q)])


def test_a_manager_approves_their_own_session(store):
    doc = opened(store)
    store.user = "zhao"
    stocktake.tally(store, doc, "shelf", [Counted("SOAP", 7 * Q)])
    stocktake.approve(store, doc)
    assert level(store, "SOAP") == 7 * Q
    assert stocktake.current(store) is None


def test_current_is_the_open_session(store):
    doc = opened(store)
    current = stocktake.current(store)
    assert current is not None and current.doc == doc
    assert [s.doc for s in stocktake.sessions(store)] == [doc]


# ---- the pure part --------------------------------------------------------------------------


def tally(doc: str, user: str, place: str, pos: int, **lines: int) -> pure.Tally:
    header = Document(
        doc=doc,
        type="tally",
        location="S01",
        ref="ST",
        note=place,
        lines=[DocLine(sku=s, qty=q) for s, q in lines.items()],
    )
    return pure.Tally(header, user, (pos, "S01-T1", pos))


def test_a_later_tally_of_a_place_replaces_the_whole_earlier_one():
    places = pure.latest_tallies(
        [tally("t2", "chen", "shelf", 2, A=4), tally("t1", "chen", "shelf", 1, A=5, B=1)]
    )
    assert pure.counted_totals(places) == {("A", None): 4}


def test_two_clerks_in_one_place_both_count():
    places = pure.latest_tallies(
        [tally("t1", "chen", "shelf", 1, A=5), tally("t2", "liu", "shelf", 2, A=5)]
    )
    assert pure.counted_totals(places) == {("A", None): 10}
    assert {p.user for p in places} == {"chen", "liu"}


def test_status_and_scope():
    header = Document(doc="ST", type="stocktake", location="S01", note="category:drinks")
    close = Document(doc="C1", type="stocktake_close", location="S01", ref="ST", approved_by="z")
    close2 = Document(doc="C2", type="stocktake_close", location="S01", ref="ST", approved_by="w")
    assert pure.stocktake_status(header, [], []).status == "open"
    assert pure.stocktake_status(header, [], []).category == "drinks"
    one = pure.stocktake_status(header, [], [pure.Close(close, "z", (5, "b", 1))])
    assert one.status == "approved"
    two = pure.stocktake_status(
        header, [], [pure.Close(close2, "w", (6, "a", 1)), pure.Close(close, "z", (5, "b", 1))]
    )
    assert two.status == "approved_twice"
    assert [a.approved_by for a in two.approvals] == ["z", "w"]


@pytest.mark.parametrize(
    ("tallied", "moved", "posted"), [(9, -2, 7), (9, 0, 9), (1, -3, 0), (4, 5, 9)]
)
def test_count_at_approval(tallied, moved, posted):
    assert pure.count_at_approval(tallied, moved) == posted


def test_review_value_rounds_half_up():
    rows = pure.review([], {("A", None): 1000}, {("A", None): 500}, {"A": 3})
    assert rows == [pure.ReviewLine("A", None, 1000, 500, -500, -2)]


# ---- the command line -----------------------------------------------------------------------


def run_cli(*argv: str) -> None:
    """`kucun node stocktake …` through its own parser (node.cli registers the same)."""
    import argparse

    from node import cli_stocktake

    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", required=True)
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true")
    parser = argparse.ArgumentParser()
    cli_stocktake.register(parser.add_subparsers(), db=db, as_json=as_json)
    args = parser.parse_args(["stocktake", *argv])
    assert args.func(args) == 0


def test_cli_open_tally_review_approve_list(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.setenv("KUCUN_LANG", "en")
    path = tmp_path / "store.db"
    node = Node.init(path, "S01", None, "nats://127.0.0.1:1")
    node.add_product("COLA", "Cola", barcode="6901234567892", price="3.00")
    node.receive("COLA", "10", cost="2.00")
    node.close()
    db = ["--db", str(path), "--json"]
    run_cli("open", *db)
    doc = json.loads(capsys.readouterr().out)["doc"]
    run_cli("tally", "--place", "shelf", "6901234567892=4", *db)
    run_cli("tally", "--place", "back store", "COLA=5", *db)
    capsys.readouterr()
    run_cli("review", *db)
    review = json.loads(capsys.readouterr().out)
    assert review["lines"] == [
        {"sku": "COLA", "lot": None, "expected": "10.000", "counted": "9.000",
         "variance": "-1.000", "value": "-2.00"}
    ]  # fmt: skip
    run_cli("approve", doc, *db)
    assert json.loads(capsys.readouterr().out)["status"] == "approved"
    run_cli("list", "--db", str(path))
    assert "approved" in capsys.readouterr().out
    with pytest.raises(NodeError, match="no stocktake is open"):
        run_cli("review", "--db", str(path))
    with pytest.raises(NodeError, match="write each line"):
        run_cli("tally", "--doc", doc, "--place", "shelf", "COLA", "--db", str(path))


def test_parse_scan(store):
    store.add_product("RICE", "Rice", price="6.00", unit="kg")
    assert stocktake.parse_scan(store, "COLA") == Counted("COLA", Q)
    assert stocktake.parse_scan(store, "COLA 3") == Counted("COLA", 3 * Q)
    assert stocktake.parse_scan(store, "RICE", weight=1250) == Counted("RICE", 1250)
    with pytest.raises(NodeError, match="scan a code"):
        stocktake.parse_scan(store, "COLA 3 4")
    with pytest.raises(NodeError, match="whole number"):
        stocktake.parse_scan(store, "COLA 1.5")


def test_a_category_scope(store):
    from protocol.events import Upsert
    from replication.clock import wall_ms

    store.store.append(
        [Upsert(entity="product", key="COLA", fields={"category": "drinks"})], "admin", wall_ms()
    )
    (event,) = stocktake.open_stocktake(store, category="drinks")
    assert isinstance(event.body, Document) and event.body.note == "category:drinks"
    doc = event.body.doc
    store.user = "chen"
    with pytest.raises(NodeError, match="not in the scope"):
        stocktake.tally(store, doc, "shelf", [Counted("SOAP", Q)])
    stocktake.tally(store, doc, "shelf", [Counted("COLA", 10 * Q)])
    assert [(r.sku, r.variance) for r in stocktake.review(store, doc)] == [("COLA", 0)]


def test_lots_are_counted_and_posted_per_lot(store):
    store.add_product("MILK", "Milk", price="4.00")
    store.receive("MILK", "5", cost="3.00", lot="L1", expiry="2027-01-01")
    store.receive("MILK", "5", cost="3.00", lot="L2", expiry="2027-02-01")
    doc = opened(store, ["MILK"])
    store.user = "chen"
    lines = stocktake.parse_lines(store, ["MILK=4:L1", "MILK=5:L2"])
    stocktake.tally(store, doc, "fridge", lines)
    rows = stocktake.review(store, doc)
    assert [(r.lot, r.expected, r.counted, r.variance, r.value) for r in rows] == [
        ("L1", 5 * Q, 4 * Q, -Q, -300),
        ("L2", 5 * Q, 5 * Q, 0, 0),
    ]
    stocktake.approve(store, doc, "zhao", "4821")
    assert {r.lot: r.qty for r in store.stock(sku="MILK", location="S01")} == {
        "L1": 4 * Q,
        "L2": 5 * Q,
    }


def test_counting_posts_every_n_scans_and_the_latest_replaces(store):
    counting = stocktake.Counting(store, "chen", post_every=2)
    doc, opened_now = counting.join()
    assert opened_now
    with pytest.raises(NodeError, match="name the place"):
        counting.scan("COLA")
    counting.choose_place("shelf")
    for code in ("COLA", "COLA", "COLA"):
        counting.scan(code)
    assert stocktake.status(store, doc).counted == {("COLA", None): 2 * Q}  # posted at 2
    counting.finish()
    session = stocktake.status(store, doc)
    assert session.counted == {("COLA", None): 3 * Q}  # the latest of the place replaces
    assert stocktake.Counting(store, "liu").join() == (doc, False)  # a second clerk joins
