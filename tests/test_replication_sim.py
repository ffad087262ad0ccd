"""Deterministic simulation of replication, many seeded schedules a second.

One node (a real `Replica` on in-memory SQLite) publishes its log through the real
`replication.publisher.Publisher`; the hub (a real `HubStore`) takes it in through the real
`replication.ingest.IngestLoop`, folds it, puts watermarks; the node reads its watermark
into `safe_seq` and pulls the hub's own logs back. Between them sits
`replication.memory.MemoryBroker`, and at every request the seed decides what goes wrong:
requests and replies lost (a publish stored whose ack never came back), connections
dropped, the node or the hub killed (after a commit, before its ack), fetched messages
handed over shuffled and redelivered after the ack wait, resends of old batches, a second
publisher with a stale idea of the stream, streams lost and recreated empty.

After every step: the stream holds each log's events exactly once, in order, each the
writer's own bytes; the hub never holds an event the node did not write, nor one twice,
and its verified head never passes the node's; the node's `safe_seq` and the watermark
never pass what the hub stored. At the end the faults stop, and within a bounded number
of rounds everything must arrive (liveness): the hub's log equals the node's byte for
byte, and the hub's, the node's and the reference fold's snapshots are equal.

Nothing waits: time is a `ManualClock`, and each step is a coroutine run to completion in
one `send` (the in-memory transport never suspends; if anything did, the driver fails).
Replay one seed with its trace: KUCUN_SIM_SEED=<seed> pytest -s -k sim. More seeds:
KUCUN_SIM_SEEDS=<n> (default 300).
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import nats
import pytest

from hub.routing import route_transfers
from hub.store import HubStore
from ledger.outbox import Outbox
from ledger.replica import Replica
from ledger.sqlite import connect
from protocol import codec, subjects
from protocol.events import (
    COUNT,
    CUSTOMER,
    SUPPLIER,
    TRANSIT,
    Body,
    Count,
    DocLine,
    Document,
    Movement,
    Tender,
    Upsert,
    is_hub_origin,
)
from protocol.fold import fold_events
from replication.clock import ManualClock
from replication.ingest import FETCH_BATCH, IngestLoop
from replication.memory import Faults, Lost, MemoryBroker, MemoryTransport
from replication.nats_transport import NatsTransport
from replication.publisher import Publisher
from replication.pull import (
    Watermark,
    apply_hub_logs,
    open_hub_consumer,
    read_watermark,
    record_safe,
)
from replication.setup import ACK_WAIT_S, HUB_INGEST, NODE_ACK_WAIT_S, ensure_streams
from replication.transport import (
    ConsumerSpec,
    Disconnected,
    PubAck,
    StreamMissing,
    TransportError,
    TransportTimeout,
    WrongLastSequence,
)
from tests.test_merge_properties import comparable

T = TypeVar("T")

NODE = "S01"
SUBJECT = subjects.events_subject(NODE)
START_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC
SKUS = ("A", "B", "C")
LOTS = (None, None, "L1", "L2")
SEEDS = int(os.environ.get("KUCUN_SIM_SEEDS") or 300)
ONE_SEED = os.environ.get("KUCUN_SIM_SEED")


class Crash(BaseException):
    """The process dies here: none of its `except Exception` handlers run (a unit of work
    open at the time rolls back, as SQLite's journal would after a real kill)."""


def lost(point: str) -> BaseException:
    return Lost(point)


def dropped(point: str) -> BaseException:
    return Disconnected(point)


def crash(point: str) -> BaseException:
    return Crash(point)


Make = Callable[[str], BaseException]
#: (when, point) -> [(probability at intensity 1, what is raised)]
NODE_FAULTS: dict[tuple[str, str], list[tuple[float, Make]]] = {
    ("before", "publish"): [(0.04, lost), (0.02, dropped), (0.02, crash)],
    ("after", "publish"): [(0.10, lost), (0.04, crash)],  # stored, the ack never arrives
    ("before", "last_message"): [(0.04, lost), (0.01, crash)],
    ("after", "last_message"): [(0.03, lost)],
    ("before", "setup"): [(0.03, lost)],
    ("after", "fetch"): [(0.04, lost), (0.03, crash)],
    ("before", "ack"): [(0.08, lost), (0.03, crash)],  # the pull's commit done, ack not
    ("before", "kv_get"): [(0.05, lost)],
}
HUB_FAULTS: dict[tuple[str, str], list[tuple[float, Make]]] = {
    ("before", "setup"): [(0.03, lost), (0.01, crash)],
    ("before", "fetch"): [(0.04, lost), (0.02, dropped)],
    ("after", "fetch"): [(0.04, lost), (0.03, crash)],  # delivered, never processed
    ("before", "ack"): [(0.08, lost), (0.04, crash)],  # committed, not acknowledged
    ("before", "kv_put"): [(0.04, lost), (0.02, crash)],
    ("after", "kv_put"): [(0.04, lost)],
    ("before", "publish"): [(0.04, lost), (0.02, crash)],
    ("after", "publish"): [(0.08, lost), (0.03, crash)],
    ("before", "last_message"): [(0.03, lost)],
}


class Chaos(Faults):
    """Seeded faults at `intensity` times the table's rates, until switched off."""

    def __init__(
        self,
        rng: random.Random,
        table: dict[tuple[str, str], list[tuple[float, Make]]],
        intensity: float,
    ) -> None:
        self.rng = rng
        self.table = table
        self.intensity = intensity
        self.on = True
        self.injected: Counter[str] = Counter()

    def _roll(self, when: str, point: str) -> None:
        if not self.on:
            return
        for chance, make in self.table.get((when, point), ()):
            if self.rng.random() < chance * self.intensity:
                self.injected[f"{when} {point}: {make.__name__}"] += 1
                raise make(f"{when} {point}")

    def before(self, point: str) -> None:
        self._roll("before", point)

    def after(self, point: str) -> None:
        self._roll("after", point)

    def reorder(self, items: list[T]) -> list[T]:
        if self.on and self.intensity and len(items) > 1 and self.rng.random() < 0.3:
            items = items[:]
            self.rng.shuffle(items)
            self.injected["fetch reordered"] += 1
        return items


def run(step: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that must never wait: the in-memory transport answers at once."""
    try:
        step.send(None)
    except StopIteration as done:
        return done.value
    step.close()
    raise AssertionError("a step waited on something: the simulation must never wait")


# ---- the replicas ------------------------------------------------------------------------


def _template(make: Callable[[sqlite3.Connection], object]) -> sqlite3.Connection:
    conn = connect(":memory:")
    make(conn)
    return conn


_TEMPLATES: dict[str, sqlite3.Connection] = {}


def fresh(kind: str) -> sqlite3.Connection:
    """An empty, migrated database (copied from a template: migrating costs ~4 ms)."""
    if kind not in _TEMPLATES:
        _TEMPLATES[kind] = _template(HubStore if kind == "hub" else lambda c: Replica(c, NODE))
    conn = connect(":memory:")
    _TEMPLATES[kind].backup(conn)
    return conn


def operation(rng: random.Random, seq: int) -> list[Body]:
    """A till operation whose header is event `seq`: mostly sales, then receipts (some
    with lots), counts, product edits and, rarely, a transfer the hub must route."""
    doc, sku, roll = f"{NODE}-{seq}", rng.choice(SKUS), rng.random()
    if roll < 0.2:
        lot = rng.choice(LOTS)
        return [
            Document(doc=doc, type="receipt", location=NODE, counterparty="ACME"),
            Movement(
                sku=sku,
                qty=rng.randint(1, 50) * 1000,
                src=SUPPLIER,
                dst=NODE,
                doc=doc,
                lot=lot,
                expiry=rng.choice(("2026-03-01", "2026-04-01")) if lot else None,
                unit_cost=rng.randint(100, 900),
            ),
        ]
    if roll < 0.3:
        return [
            Document(doc=doc, type="count", location=NODE),
            Count(location=NODE, sku=sku, qty=rng.randint(0, 40) * 1000, doc=doc),
        ]
    if roll < 0.35:
        return [Upsert(entity="product", key=sku, fields={"name": f"n{seq}", "unit": "pcs"})]
    if roll < 0.38:  # to its own location: the routed header comes back on hub-S01
        qty = rng.randint(1, 5) * 1000
        return [
            Document(
                doc=doc,
                type="transfer",
                location=NODE,
                counterparty=NODE,
                lines=[DocLine(sku=sku, qty=qty)],
            ),
            Movement(sku=sku, qty=qty, src=NODE, dst=TRANSIT, doc=doc),
        ]
    qty, price = rng.randint(1, 3) * 1000, 100 * rng.randint(3, 30)
    return [
        Document(
            doc=doc,
            type="sale",
            location=NODE,
            tenders=[Tender(method=rng.choice(("cash", "wechat")), amount=price * qty // 1000)],
        ),
        Movement(sku=sku, qty=qty, src=NODE, dst=CUSTOMER, doc=doc, unit_price=price),
    ]


# ---- one schedule --------------------------------------------------------------------------


class Sim:
    """One seed's world: a node, a hub, a broker between them, and a manual clock."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = rng = random.Random(seed)
        self.clock = ManualClock(START_MS)
        self.broker = MemoryBroker(self.clock)
        intensity = rng.choice((0.0, 0.5, 1.0, 1.0, 2.0, 3.0))
        self.node_faults = Chaos(rng, NODE_FAULTS, intensity)
        self.hub_faults = Chaos(rng, HUB_FAULTS, intensity)
        self.node_net = MemoryTransport(self.broker, self.node_faults)
        self.hub_net = MemoryTransport(self.broker, self.hub_faults)
        run(ensure_streams(MemoryTransport(self.broker)))  # the hub's first start
        self.node_conn, self.hub_conn = fresh("node"), fresh("hub")
        self.node = Replica(self.node_conn, NODE)
        self.hub = HubStore(self.hub_conn)
        self.publisher: Publisher | None = None
        self.second: Publisher | None = None  # another `node sync` on the same ledger
        self.loop: IngestLoop | None = None
        self.outbox: dict[str, Publisher] = {}
        self.node_raws: list[bytes] = []
        self.hub_raws: dict[str, list[bytes]] = {}
        #: (stream, subject) -> (the stream object, messages checked, next seq due)
        self.checked: dict[tuple[str, str], tuple[object, int, int]] = {}
        self.last_checked: tuple = ()
        self.trace: list[str] = []
        self.steps = 0
        self.crashes = Counter[str]()

    # ---- steps ---------------------------------------------------------------------------

    def sell(self) -> None:
        bodies: list[Body] = []
        head = self.node.log.head_seq(NODE)
        for _ in range(self.rng.randint(1, 3)):
            bodies += operation(self.rng, head + len(bodies) + 1)
        self.node.append(bodies, "till", self.clock.wall_ms())

    def new_publisher(self, replica: Replica) -> Publisher:
        size = self.rng.choice((300, 700, 2000, 64 * 1024))  # a few events a batch, or all
        return Publisher(replica, self.node_net, NODE, max_batch_bytes=size, clock=self.clock)

    def node_publish(self) -> None:
        """The node's publishing round; a failed connection means a new Publisher."""
        self.publisher = self.publisher or self.new_publisher(self.node)
        try:
            sent = run(self.publisher.publish_backlog())
        except TransportError as exc:
            self.note(f"  node link: {type(exc).__name__} {exc}")
            self.publisher = None
        else:
            self.note(f"  sent {sent}, published_seq {self.publisher.state.published_seq}")

    def second_publish(self) -> None:
        """A second process on the same ledger, reconciled once and then left stale."""
        if self.second is None:
            self.second = self.new_publisher(Replica(self.node_conn, NODE))
        try:
            run(self.second.publish_backlog())
        except TransportError:
            self.second = None

    def resend(self) -> None:
        """An old batch sent again as it was first sent (same msg-id and expectation)."""
        held = self.broker.streams.get(subjects.EVENTS_STREAM)
        msgs = [m for m in held.messages if m.subject == SUBJECT] if held else []
        if not msgs:
            return
        msg = self.rng.choice(msgs)
        try:
            ack = run(
                self.node_net.publish(
                    SUBJECT,
                    msg.data,
                    msg_id=msg.headers["Nats-Msg-Id"],
                    expected_last_subject_seq=int(
                        msg.headers["Nats-Expected-Last-Subject-Sequence"]
                    ),
                    timeout=1.0,
                )
            )
        except TransportError as exc:
            self.note(f"  resend refused: {type(exc).__name__}")
        else:  # nats-server refuses it (the subject moved on); a duplicate ack would do
            assert ack.duplicate, f"a resend of {msg.headers} was stored again"
            self.note("  resend: duplicate")

    def node_pull(self) -> None:
        try:
            consumer = run(open_hub_consumer(self.node_net, NODE, NODE))
            if consumer is not None:
                applied = run(apply_hub_logs(self.node, consumer, self.clock))
                self.note(f"  applied {applied}")
        except TransportError as exc:
            self.note(f"  pull: {type(exc).__name__}")

    def node_watermark(self) -> None:
        state = self.publisher.state if self.publisher else Outbox(self.node_conn).load(NODE)
        try:
            safe = run(read_watermark(self.node_net, NODE))
        except TransportError:
            return
        record_safe(self.node, NODE, state, safe, self.clock)
        self.note(f"  watermark {safe}")

    def hub_start(self) -> IngestLoop | None:
        """The hub's NATS loop after a (re)connect: streams ensured, consumer bound."""
        if self.loop is None:
            try:
                run(ensure_streams(self.hub_net))
                self.loop = run(
                    IngestLoop.start(
                        self.hub.events,
                        self.hub.tables,
                        self.hub_net,
                        after_projection=route_transfers,
                        batch=self.rng.randint(1, FETCH_BATCH),
                        clock=self.clock,
                    )
                )
            except TransportError as exc:
                self.note(f"  hub start: {type(exc).__name__}")
        return self.loop

    def hub_ingest(self) -> None:
        loop = self.hub_start()
        if loop is None:
            return
        try:
            run(loop.step())
        except TransportError as exc:
            self.note(f"  hub link: {type(exc).__name__} {exc}")
            self.loop = None
        else:
            self.note(f"  hub has {self.hub.events.log.head_seq(NODE)}")

    def hub_write(self) -> None:
        sku, wall = self.rng.choice(SKUS), self.clock.wall_ms()
        if self.rng.random() < 0.6:
            price = Upsert(entity="product", key=sku, fields={"price": self.rng.randint(1, 99)})
            self.hub.events.append([price], "api", wall)
            return
        origin = f"hub-{NODE}"
        doc = f"ADJ-{NODE}-{self.hub.events.log.head_seq(origin) + 1}"
        qty = self.rng.randint(1, 4) * 1000
        src, dst = (COUNT, NODE) if self.rng.random() < 0.5 else (NODE, COUNT)
        correction: list[Body] = [
            Document(doc=doc, type="count", location=NODE, note="breakage"),
            Movement(sku=sku, qty=qty, src=src, dst=dst, doc=doc),
        ]
        self.hub.events.append(correction, "api", wall, origin=origin)

    def hub_outbox(self) -> None:
        """The hub publishing its own logs, as hub/server.py's HubOutbox does: a failure
        there restarts the hub's whole NATS loop (and so recreates lost streams)."""
        if self.hub_start() is None:
            return
        try:
            for origin in self.hub.events.log.heads():
                if is_hub_origin(origin):
                    if origin not in self.outbox:
                        self.outbox[origin] = Publisher(
                            self.hub.events, self.hub_net, origin, clock=self.clock
                        )
                    run(self.outbox[origin].publish_backlog())
        except TransportError as exc:
            self.note(f"  hub outbox: {type(exc).__name__}")
            self.outbox = {}
            self.loop = None

    def tick(self) -> None:
        roll = self.rng.random()
        if roll < 0.75:
            ms = self.rng.randint(1, 3000)
        elif roll < 0.97:  # past an ack wait: what was not acknowledged comes back
            ms = self.rng.randint(ACK_WAIT_S * 1000, (NODE_ACK_WAIT_S + 30) * 1000)
        else:  # hours offline: past the six-hour duplicate window
            ms = self.rng.randint(3600_000, 8 * 3600_000)
        self.clock.advance(ms)

    def lose_stream(self) -> None:
        """NATS comes back on an empty directory: the stream (and its consumers) gone,
        until the hub's next start recreates it."""
        name = self.rng.choice((subjects.EVENTS_STREAM, subjects.HUB_STREAM))
        self.broker.delete_stream(name)
        self.note(f"  stream {name} lost")

    def crash_node(self) -> None:
        self.crashes["node"] += 1
        self.publisher = None
        self.second = None
        self.node = Replica(self.node_conn, NODE)  # the process starts again on its file

    def crash_hub(self) -> None:
        self.crashes["hub"] += 1
        self.loop = None
        self.outbox = {}
        self.hub = HubStore(self.hub_conn)

    STEPS: tuple[tuple[str, float], ...] = (
        ("sell", 18),
        ("node_publish", 14),
        ("hub_ingest", 22),
        ("tick", 10),
        ("node_watermark", 5),
        ("node_pull", 4),
        ("hub_write", 3),
        ("hub_outbox", 4),
        ("second_publish", 1.5),
        ("resend", 1.5),
        ("crash_node", 0.7),
        ("crash_hub", 0.7),
        ("lose_stream", 0.25),
    )

    def act(self, name: str) -> None:
        """One step; a Crash anywhere in it kills the side that was acting."""
        self.steps += 1
        self.note(name)
        try:
            getattr(self, name)()
        except Crash as exc:
            self.note(f"  crashed at {exc}")
            if name.startswith("hub"):
                self.crash_hub()
            else:
                self.crash_node()
        for conn in (self.node_conn, self.hub_conn):
            assert not conn.in_transaction, f"{name} left a unit of work open"
        self.check()

    def note(self, line: str) -> None:
        self.trace.append(f"{self.clock.now_ms - START_MS:>10} ms  {line}")

    # ---- invariants ----------------------------------------------------------------------

    def node_log(self) -> list[bytes]:
        """The node's own log, read incrementally (index seq - 1)."""
        new = self.node.log.raw_events(NODE, len(self.node_raws), limit=10**9)
        self.node_raws += [raw for _, raw in new]
        return self.node_raws

    def check_stream(self, stream: str, subject: str, origin: str, log: list[bytes]) -> None:
        """The subject holds `origin`'s events 1..k, each once, in order, the writer's own
        bytes, in batches named after what they hold. Messages already checked in this
        stream (the same stream object: a lost one starts again) are not read again."""
        held = self.broker.streams.get(stream)
        if held is None:
            return
        key = (stream, subject)
        seen, done, expected = self.checked.get(key, (None, 0, 1))
        if seen is not held:
            done, expected = 0, 1
        for msg in held.messages[done:]:
            if msg.subject != subject:
                continue
            raws = codec.decode_batch(msg.data)
            assert raws, f"an empty batch on {subject}"
            first, last = expected, expected + len(raws) - 1
            assert msg.headers["Nats-Msg-Id"] == subjects.batch_msg_id(origin, first, last), (
                f"{subject} at stream seq {msg.seq}: {msg.headers['Nats-Msg-Id']} where "
                f"{origin}:{first}-{last} was due (a gap or an event twice in the stream)"
            )
            assert raws == log[first - 1 : last], f"{subject} holds bytes {origin} never wrote"
            expected = last + 1
        self.checked[key] = (held, len(held.messages), expected)

    def hub_repeats(self, origin: str) -> int:
        """Events of `origin` the hub stores more than once: a row inside a stored batch,
        or two batches that overlap (rows are unique by their primary key)."""
        (in_batch,) = self.hub_conn.execute(
            "SELECT count(*) FROM events e JOIN verified_batches b ON b.origin = e.origin "
            "AND e.seq BETWEEN b.first_seq AND b.last_seq WHERE e.origin = ?",
            (origin,),
        ).fetchone()
        (overlapping,) = self.hub_conn.execute(
            "SELECT count(*) FROM verified_batches a JOIN verified_batches b "
            "ON b.origin = a.origin AND a.first_seq < b.first_seq AND b.first_seq <= a.last_seq "
            "WHERE a.origin = ?",
            (origin,),
        ).fetchone()
        return in_batch + overlapping

    def state(self) -> tuple:
        """Changes whenever anything checked could have: rows written, messages stored,
        streams lost, watermarks put."""
        streams = tuple((n, id(h), len(h.messages)) for n, h in self.broker.streams.items())
        marks = self.broker.buckets.get(subjects.WATERMARK_BUCKET, {}).get(NODE)
        return (self.node_conn.total_changes, self.hub_conn.total_changes, streams, marks)

    def check(self) -> None:
        seen = self.state()
        if seen == self.last_checked:
            return
        self.last_checked = seen
        log = self.node_log()
        hub_log = self.hub.events.log
        self.check_stream(subjects.EVENTS_STREAM, SUBJECT, NODE, log)
        # the hub never holds an event the node did not write, nor one twice
        head, digest = hub_log.head(NODE)
        assert head <= len(log), f"the hub's head {head} is past the node's {len(log)}"
        if head:
            assert digest == codec.event_hash(log[head - 1]), "the hub's chain is not the node's"
        for seq, raw in self.hub_conn.execute(
            "SELECT seq, raw FROM events WHERE origin = ? AND seq > ?", (NODE, head)
        ):
            assert seq <= len(log) and raw == log[seq - 1], f"the hub waits on a foreign {seq}"
        assert not self.hub_repeats(NODE), f"the hub stores events of {NODE} twice"
        (rejected,) = self.hub_conn.execute("SELECT count(*) FROM rejected").fetchone()
        assert not rejected, f"the hub rejected {self.hub.events.quarantine.rejected()}"
        # nobody counts as safe what the hub has not stored
        state = Outbox(self.node_conn).load(NODE)
        assert state.safe_seq <= head, f"safe_seq {state.safe_seq} but the hub has {head}"
        mark = self.broker.buckets.get(subjects.WATERMARK_BUCKET, {}).get(NODE)
        confirmed = None if mark is None else Watermark.decode(mark).seq
        assert confirmed is None or confirmed <= head, f"watermark {mark} but the hub has {head}"
        # and the other way: the node's copy of each hub log is a prefix of the hub's
        for origin, hub_head in hub_log.heads().items():
            if not is_hub_origin(origin):
                continue
            hub_raws = self.hub_raws.setdefault(origin, [])
            hub_raws += [r for _, r in hub_log.raw_events(origin, len(hub_raws), limit=10**9)]
            stream, subject = subjects.publish_target(origin)
            self.check_stream(stream, subject, origin, hub_raws)
            mine, mine_digest = self.node.log.head(origin)
            assert mine <= hub_head, f"the node has {origin}:{mine}, the hub {hub_head}"
            if mine:
                assert mine_digest == codec.event_hash(hub_raws[mine - 1])

    # ---- liveness --------------------------------------------------------------------------

    def settle(self) -> None:
        """Faults stop; everything must arrive within a few rounds."""
        self.node_faults.on = self.hub_faults.on = False
        # the second process stops; the node's sync restarts, reading its outbox afresh
        self.second = self.publisher = None
        self.note("---- faults off ----")
        for _ in range(6):
            self.act("node_publish")
            self.clock.advance(ACK_WAIT_S * 1000 + 1)  # a dead hub's fetches come back
            for _ in range(500):
                self.act("hub_ingest")
                loop = self.loop
                if (
                    loop is not None
                    and self.broker.unacknowledged(subjects.EVENTS_STREAM, HUB_INGEST.durable) == 0
                    and self.hub.events.projector.unfolded() == 0
                ):
                    break
            self.act("hub_outbox")
            self.clock.advance(NODE_ACK_WAIT_S * 1000 + 1)
            self.act("node_pull")
            self.act("node_watermark")
            if self.converged():
                return

    def converged(self) -> bool:
        state = Outbox(self.node_conn).load(NODE)
        hub_heads = self.hub.events.log.heads()
        return (
            state.safe_seq == len(self.node_log())
            and self.hub.events.projector.unfolded() == 0
            and all(
                self.node.log.head_seq(origin) == seq
                for origin, seq in hub_heads.items()
                if is_hub_origin(origin)
            )
        )

    def assert_converged(self) -> None:
        assert self.converged(), "replication did not finish after the faults stopped"
        hub_log, node_log = self.hub.events.log, self.node.log
        assert hub_log.heads() == node_log.heads()
        for origin in node_log.heads():  # byte for byte, whichever form the hub keeps
            assert hub_log.raw_events(origin, 0, 10**9) == node_log.raw_events(origin, 0, 10**9)
        reference = comparable(fold_events(list(node_log.events())))
        assert comparable(self.node.read.snapshot()) == reference, "the node's fold is off"
        assert comparable(self.hub.events.read.snapshot()) == reference, "the hub's fold is off"

    def play(self) -> None:
        names, weights = zip(*self.STEPS, strict=True)
        for _ in range(self.rng.randint(10, 70)):
            self.act(self.rng.choices(names, weights)[0])
        self.settle()
        self.assert_converged()


def simulate(seed: int) -> Sim:
    sim = Sim(seed)
    try:
        sim.play()
    except (Exception, Crash) as exc:
        trace = "\n".join(sim.trace if ONE_SEED else sim.trace[-25:])
        raise AssertionError(
            f"seed {seed} failed after {sim.steps} steps: {type(exc).__name__}: {exc}\n"
            f"replay: KUCUN_SIM_SEED={seed} pytest -s tests/test_replication_sim.py\n"
            f"trace{'' if ONE_SEED else ' (last 25)'}:\n{trace}"
        ) from exc
    if ONE_SEED:
        print("\n".join(sim.trace))
    return sim


def test_replication_converges_exactly_once_under_seeded_faults():
    seeds = [int(ONE_SEED)] if ONE_SEED else range(SEEDS)
    started = time.perf_counter()
    steps, events, crashes, faults = 0, 0, Counter[str](), Counter[str]()
    for seed in seeds:
        sim = simulate(seed)
        steps += sim.steps
        events += len(sim.node_raws)
        crashes += sim.crashes
        faults += sim.node_faults.injected + sim.hub_faults.injected
    print(
        f"\n{len(seeds)} seeds, {steps} steps, {events} node events, "
        f"{sum(faults.values())} faults injected, crashes {dict(crashes)}, "
        f"{time.perf_counter() - started:.1f} s"
    )
    print("  " + "\n  ".join(f"{n:>6} {what}" for what, n in faults.most_common()))


# ---- the model against the real thing --------------------------------------------------------


@pytest.fixture(params=["memory", "nats-server"])
async def transport(request):
    """The same contract, over the in-memory broker and over a real nats-server."""
    if request.param == "memory":
        yield MemoryTransport(MemoryBroker(ManualClock(START_MS)))
        return
    server = request.getfixturevalue("nats_server")
    nc = await nats.connect(server.url)
    yield NatsTransport(nc.jetstream())
    await nc.close()


async def test_the_in_memory_broker_keeps_the_contract_nats_server_keeps(transport):
    """What the simulation relies on, checked against nats-server itself: per-subject
    expected last sequence, deduplication by msg-id, last message, missing streams, the
    watermark bucket, a durable consumer's fetch and ack."""
    await ensure_streams(transport)
    one, two = subjects.events_subject("C1"), subjects.events_subject("C2")

    async def publish(subject: str, data: bytes, msg_id: str, expected: int):
        return await transport.publish(
            subject, data, msg_id=msg_id, expected_last_subject_seq=expected, timeout=5
        )

    assert await transport.last_message(subjects.EVENTS_STREAM, one) is None
    first = await publish(one, b"a", "C1:1-1", 0)
    assert not first.duplicate
    with pytest.raises(WrongLastSequence):  # the expectation is checked before the msg-id
        await publish(one, b"a", "C1:1-1", 0)
    assert await publish(one, b"a", "C1:1-1", first.seq) == PubAck(first.seq, duplicate=True)
    with pytest.raises(WrongLastSequence):
        await publish(one, b"b", "C1:2-2", 0)
    other = await publish(two, b"x", "C2:1-1", 0)  # the expectation is per subject
    second = await publish(one, b"b", "C1:2-2", first.seq)
    assert first.seq < other.seq < second.seq
    with pytest.raises(WrongLastSequence):
        await publish(one, b"c", "C1:3-3", first.seq)
    last = await transport.last_message(subjects.EVENTS_STREAM, one)
    assert last is not None and (last.seq, last.data) == (second.seq, b"b")
    assert last.headers["Nats-Msg-Id"] == "C1:2-2"
    with pytest.raises(StreamMissing):
        await publish("nowhere.at.all", b"z", "Z:1-1", 0)
    with pytest.raises(StreamMissing):
        await transport.last_message("NO_SUCH_STREAM", "nowhere")

    assert await transport.kv_get(subjects.WATERMARK_BUCKET, "C1") is None
    await transport.kv_put(subjects.WATERMARK_BUCKET, "C1", b"2")
    assert await transport.kv_get(subjects.WATERMARK_BUCKET, "C1") == b"2"

    assert await transport.ensure_consumer(HUB_INGEST) is True
    assert await transport.ensure_consumer(HUB_INGEST) is False
    consumer = await transport.pull_consumer(HUB_INGEST)
    got = await consumer.fetch(10, 2.0)
    assert [(m.subject, m.data) for m in got] == [(one, b"a"), (two, b"x"), (one, b"b")]
    for msg in got:
        await msg.ack()
    assert list(await consumer.fetch(10, 0.2)) == []
    await consumer.close()
    with pytest.raises(StreamMissing):
        await transport.ensure_consumer(
            ConsumerSpec("NO_SUCH_STREAM", "d", ("nowhere",), ack_wait_s=30)
        )


def test_in_memory_time_is_the_clocks():
    """The duplicate window and the ack wait pass on the manual clock, and only then."""
    clock = ManualClock(START_MS)
    broker = MemoryBroker(clock)
    net = MemoryTransport(broker)
    run(ensure_streams(net))

    def publish(data: bytes, msg_id: str, expected: int) -> PubAck:
        return run(
            net.publish(SUBJECT, data, msg_id=msg_id, expected_last_subject_seq=expected, timeout=1)
        )

    first = publish(b"a", "S01:1-1", 0)
    with pytest.raises(WrongLastSequence):  # our publisher's resend: refused, window or not
        publish(b"a", "S01:1-1", 0)
    clock.advance(subjects.DUPLICATE_WINDOW_S * 1000 - 1)
    assert publish(b"a", "S01:1-1", first.seq) == PubAck(first.seq, duplicate=True)
    clock.advance(1)  # out of the window: a resend that expects the current last is stored
    assert publish(b"a", "S01:1-1", first.seq) == PubAck(first.seq + 1)
    publish(b"b", "S01:2-2", first.seq + 1)

    run(net.ensure_consumer(HUB_INGEST))
    consumer = run(net.pull_consumer(HUB_INGEST))
    assert [m.data for m in run(consumer.fetch(1, 1))] == [b"a"]
    rest = run(consumer.fetch(5, 1))  # the first is pending, not handed out again
    assert [m.data for m in rest] == [b"a", b"b"]
    for msg in rest:
        run(msg.ack())
    clock.advance(ACK_WAIT_S * 1000 - 1)
    assert list(run(consumer.fetch(5, 1))) == []
    clock.advance(1)  # "a" was never acknowledged: it comes back, once
    (again,) = run(consumer.fetch(5, 1))
    assert again.data == b"a"
    run(again.ack())
    clock.advance(ACK_WAIT_S * 1000)
    assert list(run(consumer.fetch(5, 1))) == []


def test_a_lost_reply_still_stored_and_a_lost_ack_comes_back():
    """`after` faults: the broker acted, the caller never heard."""

    class Once(Faults):
        def __init__(self, when: str, point: str) -> None:
            self.armed = {(when, point)}

        def before(self, point: str) -> None:
            if ("before", point) in self.armed:
                self.armed.clear()
                raise Lost(point)

        def after(self, point: str) -> None:
            if ("after", point) in self.armed:
                self.armed.clear()
                raise Lost(point)

    clock = ManualClock(START_MS)
    broker = MemoryBroker(clock)
    run(ensure_streams(MemoryTransport(broker)))
    net = MemoryTransport(broker, Once("after", "publish"))
    with pytest.raises(TransportTimeout):
        run(net.publish(SUBJECT, b"a", msg_id="S01:1-1", expected_last_subject_seq=0, timeout=1))
    assert [m.data for m in broker.messages(subjects.EVENTS_STREAM)] == [b"a"]

    net = MemoryTransport(broker, Once("before", "ack"))
    run(net.ensure_consumer(HUB_INGEST))
    consumer = run(net.pull_consumer(HUB_INGEST))
    (msg,) = run(consumer.fetch(1, 1))
    run(msg.ack())  # lost on the way: no error, and the message is still pending
    clock.advance(ACK_WAIT_S * 1000)
    (again,) = run(consumer.fetch(1, 1))
    run(again.ack())
    assert broker.unacknowledged(subjects.EVENTS_STREAM, HUB_INGEST.durable) == 0
