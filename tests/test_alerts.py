"""Alerts at a till: every kind from real ledgers, keys that change with their condition,
acknowledgements recorded and replicated, and the pure rules of protocol.alerts."""

from __future__ import annotations

from datetime import date

import pytest

from node import alerts, logistics, users
from node.errors import NodeError
from node.logistics import Arrived, Confirmation
from node.permissions import User
from node.service import Node
from protocol import alerts as rules
from protocol.events import Document, Upsert
from protocol.hlc import physical_ms
from replication.clock import wall_ms
from tests.test_receiving import hub_log, purchase_order, share

CLERK = User("zhao", "赵敏", "clerk")
CASHIER = User("li", "李娜", "cashier")


@pytest.fixture
def node(tmp_path) -> Node:
    node = Node.init(tmp_path / "store.db", "S01", None, "nats://127.0.0.1:1", user="zhao")
    node.add_product("A1", "Apple", price="3.50")
    node.add_product("B2", "Milk", price="6.00")
    users.add_user(node, "zhao", "赵敏", "clerk", "2222")
    users.add_user(node, "wang", "王芳", "manager", "4821")
    return node


def kinds(found: list[alerts.TillAlert]) -> list[str]:
    return [a.kind for a in found]


# ---- the pure rules ----------------------------------------------------------------------


def test_rules_thresholds():
    today = date(2026, 12, 2)
    assert rules.expiring("2026-12-09", 1000, today, 7)
    assert not rules.expiring("2026-12-10", 1000, today, 7)
    assert rules.expiring("2026-11-30", 1000, today, 7)  # expired counts
    assert not rules.expiring("2026-12-03", 0, today, 7)  # nothing left of it
    assert not rules.expiring(None, 1000, today, 7)
    assert not rules.expiring("soon", 1000, today, 7)
    assert rules.days_left("2026-11-30", today) == -2
    assert rules.expiring_severity(-1) == "high" and rules.expiring_severity(0) == "medium"
    assert rules.below_reorder(5000, 5000) and not rules.below_reorder(5001, 5000)
    assert rules.below_reorder(-1000, 0)
    minute = 60_000
    assert not rules.backlog_overdue(None, 100 * minute, 30)
    assert not rules.backlog_overdue(0, 30 * minute, 30)
    assert rules.backlog_overdue(0, 30 * minute + 1, 30)
    limit = rules.DEFAULT_MAX_SKEW_MS
    assert rules.clock_skewed(0, limit + 1) and rules.clock_skewed(limit + 1, 0)
    assert not rules.clock_skewed(0, limit)
    assert rules.key("negative_stock", "S01", "A1", None, "S01-7") == "negative_stock:S01/A1//S01-7"
    assert set(rules.SEVERITY) == set(rules.KINDS)
    assert sorted([(5, "b"), (None, "a"), (9, "c")], key=lambda x: rules.newest_first_key(*x)) == [
        (9, "c"),
        (5, "b"),
        (None, "a"),
    ]


def test_the_quarantine_limit_is_the_rules_default():
    from ledger.log import DEFAULT_MAX_SKEW_MS

    assert rules.DEFAULT_MAX_SKEW_MS == DEFAULT_MAX_SKEW_MS


# ---- each kind from a real ledger --------------------------------------------------------


def test_a_clean_store_has_no_alerts(node):
    node.receive("A1", "10")
    assert alerts.gather(node) == []


def test_negative_stock_gets_a_new_key_with_each_new_negative_event(node):
    node.sell("A1", "2")
    (first,) = alerts.gather(node)
    assert (first.kind, first.severity, first.sku, first.location) == (
        "negative_stock",
        "high",
        "A1",
        "S01",
    )
    assert "-2" in first.message.text("en") and "-2" in first.message.text("zh-CN")
    doc = alerts.acknowledge(node, CLERK, first.key)
    (acked,) = alerts.gather(node)
    assert acked.key == first.key and acked.acknowledged is not None
    assert (acked.acknowledged.user, acked.acknowledged.doc) == ("zhao", doc)
    assert alerts.unacknowledged([acked]) == 0
    node.sell("A1", "1")  # more negative: news
    (again,) = alerts.gather(node)
    assert again.key != first.key and again.acknowledged is None
    node.receive("A1", "5")  # the condition is gone
    assert alerts.gather(node) == []


def test_below_reorder_point_from_head_office_only(node):
    node.receive("A1", "6")
    raws = hub_log(
        "hub", Upsert(entity="reorder", key="S01/A1", fields={"point": 5000, "qty": 24000})
    )
    node.store.ingest(raws, wall_ms())
    (point,) = alerts.reorder_points(node, "S01").values()
    assert (point.point, point.qty) == (5000, 24000)
    assert alerts.gather(node) == []  # 6 > 5
    node.sell("A1", "1")
    (low,) = alerts.gather(node)
    assert (low.kind, low.sku, low.severity) == ("below_reorder", "A1", "low")
    assert low.message.text("en") == "A1: 5 on hand, at or below the reorder point 5; order 24"
    assert low.since is not None
    # a till cannot set its own reorder point; other stores' points are not ours
    node.store.append(
        [Upsert(entity="reorder", key="S01/B2", fields={"point": 1000, "qty": 1000})],
        "x",
        wall_ms(),
    )
    other = hub_log("hub-S02", Upsert(entity="reorder", key="S02/B2", fields={"point": 1000}))
    node.store.ingest(other, wall_ms())
    assert [a.sku for a in alerts.gather(node)] == ["A1"]


def test_a_product_never_stocked_is_below_its_reorder_point(node):
    raws = hub_log(
        "hub", Upsert(entity="reorder", key="S01/B2", fields={"point": "2", "qty": "12"})
    )
    node.store.ingest(raws, wall_ms())
    (low,) = alerts.gather(node)
    assert low.sku == "B2" and "0 on hand" in low.message.text("en")


def test_lots_expiring_within_the_threshold(node):
    node.receive("A1", "3", lot="L1", expiry="2026-12-05")
    node.receive("A1", "4", lot="L2", expiry="2027-03-01")
    node.receive("B2", "2", lot="M1", expiry="2026-11-30")
    today = date(2026, 12, 2)
    found = alerts.gather(node, today=today)
    assert sorted((a.sku, a.severity) for a in found) == [("A1", "medium"), ("B2", "high")]
    texts = {a.sku: a.message.text("en") for a in found}
    assert texts["A1"] == "A1 lot L1: 3 expire on 2026-12-05, in 3 days; sell them first"
    assert "expired on 2026-11-30" in texts["B2"]
    wider = alerts.gather(node, today=today, thresholds=rules.Thresholds(expiring_days=120))
    assert len(wider) == 3
    node.sell("B2", "2", lot="M1")  # the expired lot is gone
    assert [a.sku for a in alerts.gather(node, today=today)] == ["A1"]


def test_a_receipt_that_differs_from_the_order(node):
    node.store.ingest(hub_log("hub-S01", purchase_order(qty=20)), wall_ms())
    logistics.receive_purchase_order(
        node, "PO-S01-1", [Arrived("A1", 18_000)], Confirmation(approver="wang", pin="4821")
    )
    (alert,) = alerts.gather(node)
    assert alert.kind == "receipt_discrepancy" and alert.severity == "medium"
    assert alert.message.text("en") == (
        "PO-S01-1: received differs from the order (received/ordered: A1 18/20)"
    )
    assert "实收与订单不符" in alert.message.text("zh-CN")
    alerts.acknowledge(node, CLERK, alert.key)
    logistics.receive_purchase_order(node, "PO-S01-1", [Arrived("A1", 2_000)])  # the rest
    assert alerts.gather(node) == []


def test_a_transfer_shortfall_shows_at_the_receiving_store(tmp_path):
    from hub.routing import route_transfers
    from hub.store import HubStore

    sender = Node.init(tmp_path / "s01.db", "S01", None, "nats://127.0.0.1:1")
    receiver = Node.init(tmp_path / "s02.db", "S02", None, "nats://127.0.0.1:1")
    for n in (sender, receiver):
        n.add_product("A1", "Apple")
    sender.receive("A1", "10", cost="2.00")
    (header, *_) = logistics.ship_transfer(sender, "S02", [("A1", 6000)])
    assert isinstance(header.body, Document)
    hub, _ = HubStore.init(tmp_path / "hub.db")
    hub.events.ingest([raw for _, raw in sender.store.log.raw_events("S01", 0)], wall_ms())
    with hub.events.work():
        route_transfers(hub.events, hub.tables, wall_ms())
    receiver.store.ingest([raw for _, raw in hub.events.log.raw_events("hub-S02", 0)], wall_ms())
    users.add_user(receiver, "wang", "王芳", "manager", "4821")
    logistics.receive_transfer(
        receiver, header.body.doc, [Arrived("A1", 5000)], Confirmation(approver="wang", pin="4821")
    )
    (alert,) = alerts.gather(receiver)
    assert alert.kind == "transfer_discrepancy"
    assert "A1 5/6" in alert.message.text("en")


def test_received_twice_and_its_acknowledgement_replicates(tmp_path):
    from tests.test_receiving import till, with_order

    t1, t2 = with_order(till(tmp_path, "S01-T1")), with_order(till(tmp_path, "S01-T2"))
    logistics.receive_purchase_order(t1, "PO-S01-1")
    logistics.receive_purchase_order(t2, "PO-S01-1")  # offline: neither knows the other's
    share(t1, t2)
    (alert,) = alerts.gather(t1)
    assert (alert.kind, alert.severity) == ("received_twice", "high")
    assert alert.key == alerts.gather(t2)[0].key  # both tills name it alike
    t1.user = "wang"
    alerts.acknowledge(t1, User("wang", "王芳", "manager"), alert.key, note="checking with ACME")
    share(t1, t2)
    (seen,) = alerts.gather(t2)
    assert seen.acknowledged is not None
    assert (seen.acknowledged.user, seen.acknowledged.note) == ("wang", "checking with ACME")


def test_backlog_older_than_the_threshold(node):
    node.receive("A1", "5")
    (sold, *_) = node.sell("A1", "1")
    assert alerts.gather(node) == []
    later = physical_ms(sold.hlc) + 31 * 60_000
    (backlog,) = alerts.gather(node, now_ms=later)
    assert backlog.kind == "backlog"
    assert backlog.message.text("en").startswith("2 documents not sent to head office")
    assert alerts.gather(node, now_ms=later, thresholds=rules.Thresholds(backlog_minutes=60)) == []


def test_clock_skew_held_events_and_our_clock_behind(node, tmp_path):
    ahead = wall_ms() + 60 * 60_000
    sibling = Node.init(tmp_path / "t2.db", "S01-T2", "S01", "nats://127.0.0.1:1")
    sibling.store.append([Upsert(entity="product", key="Z9", fields={"name": "Z"})], "x", ahead)
    node.store.ingest([raw for _, raw in sibling.store.log.raw_events("S01-T2", 0)], wall_ms())
    assert node.store.quarantine.held()
    (skew,) = alerts.gather(node)
    assert skew.kind == "clock_skew" and "S01-T2" in skew.message.text("en")
    assert skew.message.text("en").startswith("events of S01-T2 are held: its clock is 59")
    # our own clock set back an hour behind what the ledger has written
    behind = alerts.gather(node, now_ms=wall_ms() - 60 * 60_000)
    assert any("behind its ledger" in a.message.text("en") for a in behind)


def test_lot_mismatch_is_listed(node):
    node.receive("A1", "1", lot="L1", expiry="2027-06-01")
    node.receive("A1", "5", lot="L2", expiry="2027-07-01")
    node.sell("A1", "3", lot="L1")
    found = alerts.gather(node)
    assert kinds(found) == ["lot_mismatch"]
    assert "lot L1" in found[0].message.text("en")


# ---- acknowledging -------------------------------------------------------------------------


def test_acknowledging_refuses_clearly_and_writes_nothing(node):
    node.sell("A1", "1")
    (alert,) = alerts.gather(node)
    head = node.store.log.head_seq("S01")
    cases = [
        (CASHIER, alert.key, None, "may not acknowledge"),
        (CLERK, "negative_stock:S01/NOPE", None, "no longer listed"),
        (CLERK, alert.key, "two\nlines", "one line"),
    ]
    for user, key, note, words in cases:
        with pytest.raises(NodeError) as caught:
            alerts.acknowledge(node, user, key, note)
        assert words in caught.value.text("en")
        assert caught.value.text("zh-CN") != caught.value.text("en")
    assert node.store.log.head_seq("S01") == head
    alerts.acknowledge(node, CLERK, alert.key)
    with pytest.raises(NodeError, match="already"):
        alerts.acknowledge(node, CLERK, alert.key)


def test_newest_first_and_the_unacknowledged_count(node):
    node.sell("A1", "1")
    node.sell("B2", "1")
    found = alerts.gather(node)
    assert [a.sku for a in found] == ["B2", "A1"]
    assert alerts.unacknowledged(found) == 2
    alerts.acknowledge(node, CLERK, found[1].key)
    assert alerts.unacknowledged(alerts.gather(node)) == 1


# ---- the screen's state and the status bar's count -----------------------------------------


def test_alert_list_filters_and_acknowledges(node):
    node.sell("A1", "1")
    node.store.ingest(
        hub_log("hub", Upsert(entity="reorder", key="S01/B2", fields={"point": 1000})), wall_ms()
    )
    view = alerts.AlertList(node, CLERK)
    view.refresh()
    assert view.kinds() == ["negative_stock", "below_reorder"]
    assert view.next_kind() == "negative_stock" and [a.sku for a in view.shown()] == ["A1"]
    assert view.next_kind() == "below_reorder" and [a.sku for a in view.shown()] == ["B2"]
    assert view.next_kind() is None and len(view.shown()) == 2
    assert view.find("B2") == "B2" and [a.sku for a in view.shown()] == ["B2"]
    with pytest.raises(NodeError, match="no product has the code"):
        view.find("ZZZ")
    assert view.find("") is None and len(view.shown()) == 2
    doc = view.acknowledge(view.shown()[0])
    assert view.unacknowledged() == 1 and doc.startswith("S01-")


def test_alert_count_gathers_at_most_every_few_seconds(node):
    counter = alerts.AlertCount(node, every_s=10)
    now = wall_ms()
    assert counter.count(now) == 0
    node.sell("A1", "1")
    assert counter.count(now + 5_000) == 0  # not gathered again yet
    assert counter.count(now + 10_000) == 1
    alerts.acknowledge(node, CLERK, alerts.gather(node)[0].key)
    counter.stale()
    assert counter.count(now + 11_000) == 0


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("width", [80, 100])
def test_the_status_bar_counts_unacknowledged_alerts(lang, width):
    from dataclasses import replace

    from rich.cells import cell_len

    from node.till.status import TillStatus, status_line
    from tests.test_till_shell import BUSY

    quiet = TillStatus(user="王芳", online=True, alerts=3)
    shown = status_line(quiet, width, lang)
    assert ("提醒3" if lang == "zh-CN" else "3 alerts") in shown
    assert "alert" not in status_line(TillStatus(user="w"), width, "en")
    busy = status_line(replace(BUSY, alerts=12), width, lang)
    assert cell_len(busy) <= width - 2
    assert ("提醒12" if lang == "zh-CN" else "12 alerts") in busy


def test_what_the_ledger_sets_aside_is_listed(node):
    event = node.add_product("C3", "Tea")
    with node.store.work():
        node.store.quarantine.ignore("S01", event.seq, event.hlc, "cannot be stored")
    (alert,) = alerts.gather(node)
    assert (alert.kind, alert.severity) == ("ledger", "high")
    assert alert.message.text("en") == f"the log of S01 at event {event.seq}: cannot be stored"
    assert alert.since == physical_ms(event.hlc)


def test_an_acknowledgement_reaches_head_office_as_a_document(node, tmp_path):
    from hub.store import HubStore

    node.sell("A1", "1")
    (alert,) = alerts.gather(node)
    doc = alerts.acknowledge(node, CLERK, alert.key, note="shelf counted")
    hub, _ = HubStore.init(tmp_path / "hub.db")
    hub.events.ingest([raw for _, raw in node.store.log.raw_events("S01", 0)], wall_ms())
    header = hub.events.read.document_header(doc)
    assert header is not None
    assert (header.type, header.ref, header.note) == ("alert_ack", alert.key, "shelf counted")
    status = hub.events.read.document(doc)
    assert status is not None and status.status == "completed"
