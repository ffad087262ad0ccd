"""What a store's till warns about, gathered in one list, and acknowledging an alert.

The facts come from the replica (stock and lots from the fold, document statuses, reorder
points from head office's master data, the outbox, held events); the rules that make them
alerts are `protocol.alerts`. Nothing here is stored: the list is derived each time, so
every till of a store holding the same events shows the same alerts. An acknowledgement
is an `alert_ack` document (`ref` = the alert's key) written by the acting user and
replicated like any document; the alert stays listed, marked acknowledged (who, when),
until its condition changes and with it its key.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from ledger.outbox import unsent_documents
from ledger.readmodel import Alert
from node.errors import NodeError
from node.permissions import User, may
from node.service import Node
from protocol import alerts as rules
from protocol import i18n, limits
from protocol.alerts import Kind, Severity, Thresholds
from protocol.events import Body, Document, DocumentType, is_hub_origin
from protocol.hlc import physical_ms
from protocol.units import parse_qty
from replication.clock import wall_ms

#: the master-data entity of reorder points (key "<location>/<sku>")
REORDER_ENTITY = "reorder"
#: every document type a till writes: any of them unsent is backlog
_ALL_TYPES: tuple[str, ...] = DocumentType.__args__  # type: ignore[attr-defined]
#: who may acknowledge: those who work in the back room
ACK_ACTION = "receive"


@dataclass(frozen=True)
class Ack:
    """Who acknowledged an alert, when (wall ms) and with which document."""

    user: str
    at_ms: int
    doc: str
    note: str | None = None


@dataclass(frozen=True)
class TillAlert:
    key: str
    kind: Kind
    severity: Severity
    sku: str | None
    location: str | None
    message: i18n.Message
    #: when its condition arose (wall ms), None when not known
    since: int | None
    acknowledged: Ack | None = None


def gather(
    node: Node,
    now_ms: int | None = None,
    today: date | None = None,
    thresholds: Thresholds | None = None,
) -> list[TillAlert]:
    """Every alert of this node's store, newest first, each with its acknowledgement."""
    thresholds = thresholds or Thresholds()
    now_ms = wall_ms() if now_ms is None else now_ms
    today = today or datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
    here = node.config.location
    ledger_alerts = node.read.alerts()
    found = (
        _negative_stock(node, here, ledger_alerts)
        + _below_reorder(node, here)
        + _expiring(node, here, today, thresholds.expiring_days)
        + _documents(node, here)
        + _backlog(node, now_ms, thresholds.backlog_minutes)
        + _clock(node, now_ms, thresholds.max_skew_ms)
        + _ledger(node, here, ledger_alerts)
    )
    acks = acknowledgements(node)
    found = [replace(a, acknowledged=acks.get(a.key)) for a in found]
    return sorted(found, key=lambda a: rules.newest_first_key(a.since, a.key))


def unacknowledged(alerts: list[TillAlert]) -> int:
    """What the status bar counts."""
    return sum(1 for a in alerts if a.acknowledged is None)


def acknowledge(node: Node, user: User, key: str, note: str | None = None) -> str:
    """Record that `user` saw the alert `key`: an `alert_ack` document, written as the
    node's acting user. Returns its document id; refuses a key no longer listed."""
    if not may(user.role, ACK_ACTION):
        raise NodeError(
            "{user} may not acknowledge alerts: a clerk or a manager does", user=user.id
        )
    current = {a.key: a for a in gather(node)}
    alert = current.get(key)
    if alert is None:
        raise NodeError(
            "alert {key!r} is no longer listed: its condition changed; look at the list again",
            key=key,
        )
    if alert.acknowledged is not None:
        raise NodeError(
            "alert {key!r} was acknowledged already by {user}",
            key=key,
            user=alert.acknowledged.user,
        )
    if note is not None:
        note = note.strip() or None
        if note and limits.text_problem(note, "note", one_line=True):
            raise NodeError(
                "a note is one line of plain text, at most {most:,} characters",
                most=limits.MAX_TEXT,
            )
    here = node.config.location

    def bodies(doc: str) -> list[Body]:
        return [Document(doc=doc, type="alert_ack", location=here, ref=key, note=note)]

    (event,) = node.post(bodies)
    assert isinstance(event.body, Document)
    return event.body.doc


def acknowledgements(node: Node) -> dict[str, Ack]:
    """Per alert key, its first acknowledgement (from any till of the store)."""
    found: dict[str, Ack] = {}
    refs = set()
    for doc in node.read.document_ids(("alert_ack",)):
        header = node.read.document_header(doc)
        if header is not None and header.ref:
            refs.add(header.ref)
    for ref in refs:
        for r in node.read.documents_citing(ref, ("alert_ack",)):
            if ref not in found:
                found[ref] = Ack(r.user, physical_ms(r.hlc), r.header.doc, r.header.note)
    return found


@dataclass(frozen=True)
class ReorderPoint:
    """Head office's reorder point for one product at one store, in milli-units."""

    point: int
    qty: int | None
    #: when head office set the point (wall ms)
    set_ms: int


def reorder_points(node: Node, location: str) -> dict[str, ReorderPoint]:
    """Per SKU, head office's reorder point at `location`. Only hub origins count: a till
    cannot set its own reorder point."""
    fields: dict[str, dict[str, tuple[int, object]]] = defaultdict(dict)
    prefix = f"{location}/"
    for (entity, key, name), (hlc, origin, value) in node.read.registers().items():
        if entity == REORDER_ENTITY and key.startswith(prefix) and is_hub_origin(origin):
            fields[key[len(prefix) :]][name] = (hlc, value)
    out: dict[str, ReorderPoint] = {}
    for sku, values in fields.items():
        hlc, value = values.get("point", (0, None))
        point = _milli(value)
        if point is not None:
            qty = _milli(values.get("qty", (0, None))[1])
            out[sku] = ReorderPoint(point, qty, physical_ms(hlc))
    return out


# ---- the kinds -------------------------------------------------------------------------


def _alert(
    kind: Kind,
    key: str,
    message: i18n.Message,
    since: int | None,
    sku: str | None = None,
    location: str | None = None,
    severity: Severity | None = None,
) -> TillAlert:
    return TillAlert(key, kind, severity or rules.severity(kind), sku, location, message, since)


def _since(node: Node, origin: str, seq: int) -> int | None:
    event = node.store.log.event(origin, seq)
    return physical_ms(event.hlc) if event else None


def _negative_stock(node: Node, here: str, ledger_alerts: list[Alert]) -> list[TillAlert]:
    """Stock keys negative now, each named by the last event that left them negative."""
    latest: dict[tuple[str, str | None], tuple[str, int]] = {}
    for a in ledger_alerts:
        if a.kind == "negative_stock" and a.location == here and a.sku is not None:
            latest[(a.sku, a.lot)] = (a.origin, a.seq)
    out = []
    for row in node.read.stock(location=here):
        if not rules.is_negative(row.qty):
            continue
        origin, seq = latest.get((row.sku, row.lot), ("", 0))
        message = i18n.Message(
            "{sku}{lot} has stock {qty}: count the shelf, or receive what arrived",
            sku=row.sku,
            lot=f" ({row.lot})" if row.lot else "",
            qty=rules.qty_text(row.qty),
        )
        key = rules.key("negative_stock", here, row.sku, row.lot, f"{origin}-{seq}")
        out.append(_alert("negative_stock", key, message, _since(node, origin, seq), row.sku, here))
    return out


def _on_hand(node: Node, here: str) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for row in node.read.stock(location=here):
        totals[row.sku] += row.qty
    return totals


def _below_reorder(node: Node, here: str) -> list[TillAlert]:
    on_hand = _on_hand(node, here)
    out = []
    for sku, reorder in sorted(reorder_points(node, here).items()):
        have, point, qty = on_hand.get(sku, 0), reorder.point, reorder.qty
        if not rules.below_reorder(have, point):
            continue
        message = i18n.Message(
            "{sku}: {have} on hand, at or below the reorder point {point}; order {qty}",
            sku=sku,
            have=rules.qty_text(have),
            point=rules.qty_text(point),
            qty=rules.qty_text(qty) if qty is not None else "-",
        )
        key = rules.key("below_reorder", here, sku, point)
        out.append(_alert("below_reorder", key, message, reorder.set_ms, sku, here))
    return out


def _expiring(node: Node, here: str, today: date, within: int) -> list[TillAlert]:
    out = []
    skus = sorted({row.sku for row in node.read.stock(location=here) if row.lot})
    for sku in skus:
        for level in node.read.lot_levels(here, sku):
            if not rules.expiring(level.expiry, level.qty, today, within):
                continue
            assert level.expiry is not None
            left = rules.days_left(level.expiry, today) or 0
            fields = dict(sku=sku, lot=level.lot or "", qty=rules.qty_text(level.qty))
            if left < 0:
                message = i18n.Message(
                    "{sku} lot {lot}: {qty} expired on {expiry}; take them off the shelf",
                    expiry=level.expiry,
                    **fields,
                )
            else:
                message = i18n.Message(
                    "{sku} lot {lot}: {qty} expire on {expiry}, in {days} days; sell them first",
                    expiry=level.expiry,
                    days=left,
                    **fields,
                )
            key = rules.key("expiring", here, sku, level.lot, level.expiry)
            severity = rules.expiring_severity(left)
            out.append(_alert("expiring", key, message, None, sku, here, severity))
    return out


def _at_ms(text: str) -> int | None:
    """A receipt's `at` text (protocol.documents.at_text) back to wall ms."""
    try:
        moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _documents(node: Node, here: str) -> list[TillAlert]:
    """Receipts that differ from the order or shipment, and documents received twice."""
    out = []
    for header, status in node.read.document_statuses(("purchase_order", "transfer")):
        if here not in (header.location, header.counterparty):
            continue
        is_po = header.type == "purchase_order"
        kind: Kind = "receipt_discrepancy" if is_po else "transfer_discrepancy"
        live = [r for r in status.receipts if not r.reversed_by]
        receipts = "+".join(r.doc for r in live) or "-"
        since = max((m for r in live if (m := _at_ms(r.at)) is not None), default=None)
        differing = [x for x in status.lines if x.discrepancy] if status.differs else []
        lines = i18n.Joined(
            (f"{x.sku} {rules.qty_text(x.done)}/{rules.qty_text(x.target)}" for x in differing),
            ", ",
        )
        twice = [a for a in status.alerts if a.kind == "received_twice"]
        if twice:
            message = i18n.Message(
                "{doc} was received twice ({lines}): a manager reverses one receipt or "
                "accepts them",
                doc=header.doc,
                lines=lines,
            )
            key = rules.key("received_twice", header.doc, receipts)
            out.append(_alert("received_twice", key, message, since, location=header.location))
            continue
        if any(a.kind == "reversed_twice" for a in status.alerts):
            message = i18n.Message(
                "{doc} had receipts reversed more than once: count the shelf and receive it again",
                doc=header.doc,
            )
            key = rules.key(kind, header.doc, "reversed", receipts)
            out.append(_alert(kind, key, message, since, location=header.location))
            continue
        if status.differs and not status.differences_accepted and differing:
            if is_po:
                message = i18n.Message(
                    "{doc}: received differs from the order (received/ordered: {lines})",
                    doc=header.doc,
                    lines=lines,
                )
            else:
                message = i18n.Message(
                    "{doc}: received differs from the shipment (received/shipped: {lines})",
                    doc=header.doc,
                    lines=lines,
                )
            key = rules.key(kind, header.doc, receipts)
            out.append(_alert(kind, key, message, since, location=header.location))
    return out


def _backlog(node: Node, now_ms: int, minutes: int) -> list[TillAlert]:
    unsent = unsent_documents(node.conn, node.config.node, _ALL_TYPES)
    oldest = physical_ms(unsent.oldest_hlc) if unsent.oldest_hlc is not None else None
    if not rules.backlog_overdue(oldest, now_ms, minutes):
        return []
    assert oldest is not None
    message = i18n.Message(
        "{n} documents not sent to head office, the oldest for {age} minutes: check the "
        "network link",
        n=unsent.count,
        age=(now_ms - oldest) // 60_000,
    )
    key = rules.key("backlog", node.config.node, unsent.oldest_hlc)
    return [_alert("backlog", key, message, oldest, location=node.config.location)]


def _clock(node: Node, now_ms: int, limit_ms: int) -> list[TillAlert]:
    """Events held because their clock is ahead of ours, and our own clock behind the
    ledger's (set back since the last event was written)."""
    out = []
    first: dict[str, dict] = {}
    for row in node.store.quarantine.held():
        first.setdefault(row["origin"], row)
    for origin, row in sorted(first.items()):
        event = node.store.log.event(origin, row["seq"])
        ahead = (physical_ms(event.hlc) - now_ms) // 60_000 if event else 0
        message = i18n.Message(
            "events of {origin} are held: its clock is {minutes} minutes ahead of this "
            "till's; check both clocks",
            origin=origin,
            minutes=max(ahead, 0),
        )
        key = rules.key("clock_skew", origin, row["seq"])
        out.append(_alert("clock_skew", key, message, row["since_ms"]))
    ledger_ms = physical_ms(node.store.log.clock())
    if ledger_ms > now_ms and rules.clock_skewed(ledger_ms, now_ms, limit_ms):
        message = i18n.Message(
            "this till's clock is {minutes} minutes behind its ledger: set the clock right",
            minutes=(ledger_ms - now_ms) // 60_000,
        )
        key = rules.key("clock_skew", node.config.node, "behind")
        out.append(_alert("clock_skew", key, message, now_ms))
    return out


def _ledger(node: Node, here: str, ledger_alerts: list[Alert]) -> list[TillAlert]:
    """Sales whose scanned lot was not held, and what the ledger itself reports (a broken
    chain, an event the fold skipped)."""
    out = []
    for a in ledger_alerts:
        if a.kind not in ("lot_mismatch", "chain_broken", "ignored_event"):
            continue
        since = _since(node, a.origin, a.seq)
        if a.kind == "lot_mismatch":
            if a.location != here:
                continue
            message = i18n.Message(
                "a sale took {qty} of {sku} as lot {lot}, which was not held in that "
                "quantity: count that lot",
                qty=rules.qty_text(a.qty or 0),
                sku=a.sku or "",
                lot=a.lot or "",
            )
            key = rules.key("lot_mismatch", a.origin, a.seq)
            out.append(_alert("lot_mismatch", key, message, since, a.sku, here))
        elif a.kind in ("chain_broken", "ignored_event"):
            message = i18n.Message(
                "the log of {origin} at event {seq}: {reason}",
                origin=a.origin,
                seq=a.seq,
                reason=a.message or a.kind,
            )
            key = rules.key("ledger", a.kind, a.origin, a.seq)
            out.append(_alert("ledger", key, message, since))
    return out


def _milli(value: object) -> int | None:
    """A reorder field: milli-units (int), or a quantity as text ("5", "2.5")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return parse_qty(value)
        except ValueError:
            return None
    return None


i18n.register(
    {
        "{sku}{lot} has stock {qty}: count the shelf, or receive what arrived": (
            "{sku}{lot} 库存为 {qty}：请盘点货架，或把到货收进来"
        ),
        "{sku}: {have} on hand, at or below the reorder point {point}; order {qty}": (
            "{sku}：现有 {have}，已到或低于补货点 {point}；请订货 {qty}"
        ),
        "{sku} lot {lot}: {qty} expired on {expiry}; take them off the shelf": (
            "{sku} 批次 {lot}：{qty} 已于 {expiry} 过期；请下架"
        ),
        "{sku} lot {lot}: {qty} expire on {expiry}, in {days} days; sell them first": (
            "{sku} 批次 {lot}：{qty} 将于 {expiry} 过期（还有 {days} 天）；请优先售出"
        ),
        "{doc} was received twice ({lines}): a manager reverses one receipt or accepts them": (
            "{doc} 被重复收货（{lines}）：请店长冲销一张收货单或确认全部接收"
        ),
        "{doc} had receipts reversed more than once: count the shelf and receive it again": (
            "{doc} 的收货单被冲销不止一次：请盘点货架后重新收货"
        ),
        "{doc}: received differs from the order (received/ordered: {lines})": (
            "{doc}：实收与订单不符（实收/订购：{lines}）"
        ),
        "{doc}: received differs from the shipment (received/shipped: {lines})": (
            "{doc}：实收与发货不符（实收/发出：{lines}）"
        ),
        "{n} documents not sent to head office, the oldest for {age} minutes: check the "
        "network link": "{n} 张单据未上传总部，最早的已等 {age} 分钟：请检查网络连接",
        "events of {origin} are held: its clock is {minutes} minutes ahead of this till's; "
        "check both clocks": "{origin} 的事件被暂扣：其时钟比本机快 {minutes} 分钟；请检查两边时钟",
        "this till's clock is {minutes} minutes behind its ledger: set the clock right": (
            "本机时钟比账本慢 {minutes} 分钟：请校正时钟"
        ),
        "a sale took {qty} of {sku} as lot {lot}, which was not held in that quantity: "
        "count that lot": "一笔销售按批次 {lot} 售出 {sku} {qty}，但该批次库存不足：请盘点该批次",
        "the log of {origin} at event {seq}: {reason}": "{origin} 的日志第 {seq} 个事件：{reason}",
        "{user} may not acknowledge alerts: a clerk or a manager does": (
            "{user} 无权确认提醒：请理货员或店长确认"
        ),
        "alert {key!r} is no longer listed: its condition changed; look at the list again": (
            "提醒 {key!r} 已不在列表中：情况已变化，请重新查看列表"
        ),
        "alert {key!r} was acknowledged already by {user}": "提醒 {key!r} 已由 {user} 确认过",
        "a note is one line of plain text, at most {most:,} characters": (
            "备注只能是一行纯文字，最多 {most:,} 个字符"
        ),
    }
)


# ---- what the alerts screen shows ------------------------------------------------------


class AlertList:
    """The alerts screen's state without a screen: the list, the filter by kind and by
    product, and acknowledging the alert chosen. The screen only draws `shown()`."""

    def __init__(self, node: Node, user: User, thresholds: Thresholds | None = None) -> None:
        self.node = node
        self.user = user
        self.thresholds = thresholds
        self.kind: Kind | None = None
        self.sku: str | None = None
        self.items: list[TillAlert] = []

    def refresh(self, now_ms: int | None = None) -> None:
        self.items = gather(self.node, now_ms, thresholds=self.thresholds)
        if self.kind is not None and self.kind not in self.kinds():
            self.kind = None

    def kinds(self) -> list[Kind]:
        """The kinds listed now, in the rules' order: what the filter cycles through."""
        present = {a.kind for a in self.items}
        return [k for k in rules.KINDS if k in present]

    def shown(self) -> list[TillAlert]:
        return [
            a
            for a in self.items
            if (self.kind is None or a.kind == self.kind)
            and (self.sku is None or a.sku == self.sku)
        ]

    def unacknowledged(self) -> int:
        return unacknowledged(self.items)

    def next_kind(self) -> Kind | None:
        """All → each kind listed → all."""
        kinds = self.kinds()
        if self.kind is None:
            self.kind = kinds[0] if kinds else None
        else:
            at = kinds.index(self.kind) if self.kind in kinds else len(kinds) - 1
            self.kind = kinds[at + 1] if at + 1 < len(kinds) else None
        return self.kind

    def find(self, code: str) -> str | None:
        """Only the alerts of the product scanned or typed (SKU or barcode); an empty
        code shows every product again. Returns the SKU, or refuses an unknown code."""
        code = code.strip()
        if not code:
            self.sku = None
            return None
        product = self.node.read.product(code) or self.node.read.product_by_barcode(code)
        if product is None:
            raise NodeError(
                "no product has the code {code!r}: scan it again or type its SKU", code=code
            )
        self.sku = product.sku
        return product.sku

    def acknowledge(self, alert: TillAlert, note: str | None = None) -> str:
        doc = acknowledge(self.node, self.user, alert.key, note)
        self.refresh()
        return doc


class AlertCount:
    """The status bar's count of unacknowledged alerts, gathered at most every `every_s`
    seconds (the bar redraws each second; gathering reads the whole store's state)."""

    def __init__(self, node: Node, every_s: float = 10.0) -> None:
        self.node = node
        self.every_ms = int(every_s * 1000)
        self._at: int | None = None
        self._count = 0

    def count(self, now_ms: int | None = None) -> int:
        now_ms = wall_ms() if now_ms is None else now_ms
        if self._at is None or now_ms - self._at >= self.every_ms:
            self._count = unacknowledged(gather(self.node, now_ms))
            self._at = now_ms
        return self._count

    def stale(self) -> None:
        """Gather again at the next `count` (after an acknowledgement, say)."""
        self._at = None


i18n.register(
    {
        "no product has the code {code!r}: scan it again or type its SKU": (
            "没有编码为 {code!r} 的商品：请重新扫码或输入 SKU"
        ),
    }
)
