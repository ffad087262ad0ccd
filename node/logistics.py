"""Documents that move stock between parties: transfers and purchase-order receipts.

A transfer is shipped by one store (its stock → @transit) and received by another
(@transit → its stock); the hub routes the header to the receiving store. A receipt
against a purchase order cites the order's document id, so the order's status at every
replica is derived from the receipts that exist, and whatever arrives differently from
what was shipped or ordered stays visible as a discrepancy.

Every receiving act also writes a receipt header (`ref` = the order or transfer), so a
document lists its receipts. A till refuses to receive a document it already shows as
fully received (a manager may force an extra receipt), and asks for a second confirmation
(a re-count that agrees, or a manager) when what arrived differs from what was expected.
Two tills receiving the same document offline cannot be prevented: the document then shows
"received twice" everywhere until a manager reverses one receipt or accepts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from devices import interpret
from node.errors import NodeError
from node.service import COST, Node
from node.users import verify_approver
from protocol import i18n
from protocol.allocation import fefo
from protocol.documents import DocumentStatus
from protocol.events import (
    SUPPLIER,
    TRANSIT,
    Body,
    DocLine,
    Document,
    Event,
    Movement,
    valid_replica_id,
)
from protocol.units import QTY_SCALE, format_qty

#: the receipt line syntax, for --help and error messages
LINE_SYNTAX = "SKU=QTY[@COST][:LOT[:EXPIRY]], e.g. A1=5, A1=5@2.30, A1=5:L1:2027-01-31"


@dataclass(frozen=True)
class Arrived:
    """One line of what arrived: quantity (milli-units), cost (fen), lot and expiry."""

    sku: str
    qty: int
    unit_cost: int | None = None
    lot: str | None = None
    expiry: str | None = None


@dataclass(frozen=True)
class Confirmation:
    """What a person added to a receipt: `force` an extra receipt of a complete document,
    a `recount` that agrees with the lines, a manager's `approver` and `pin`."""

    force: bool = False
    recount: Sequence[Arrived] | None = None
    approver: str | None = None
    pin: str | None = None
    #: a manager the caller has already checked (who set a line's cost at the till)
    approved: str | None = None


def parse_lines(node: Node, items: Sequence[str]) -> list[tuple[str, int]]:
    """["A1=3", "RICE=1.250"] -> [("A1", 3000), ("RICE", 1250)], checked like the CLI's."""
    lines = []
    for item in items:
        sku, sep, qty = item.partition("=")
        if not sep or not sku:
            raise NodeError("{item!r}: write each line as SKU=QTY, e.g. A1=3", item=item)
        product = node.product(sku)
        lines.append((sku, node._quantity(qty, product, allow_zero=True)))
    return lines


def parse_receipt_lines(node: Node, items: Sequence[str]) -> list[Arrived]:
    """Receipt lines: `SKU=QTY[@COST][:LOT[:EXPIRY]]`; the code may also be a barcode or a
    GS1 element string, whose lot and expiry (17), else best-before (15), are taken."""
    lines = []
    for item in items:
        code, sep, rest = item.partition("=")
        if not sep or not code or not rest:
            raise NodeError("{item!r}: write each line as {syntax}", item=item, syntax=LINE_SYNTAX)
        amount, _, lot_part = rest.partition(":")
        qty_text, at, cost_text = amount.partition("@")
        lot_text, _, expiry_text = lot_part.partition(":")
        sku, code_lot, code_expiry = _identify(node, code)
        product = node.product(sku)
        qty = node._quantity(qty_text, product, allow_zero=True)
        cost = node._money(cost_text, COST) if at else None
        expiry = expiry_text or code_expiry
        if expiry_text:
            try:
                date.fromisoformat(expiry_text)
            except ValueError:
                raise NodeError(
                    "{item!r}: expiry {expiry!r} is not a date; write it as 2027-01-31",
                    item=item,
                    expiry=expiry_text,
                ) from None
        lines.append(Arrived(sku, qty, cost, lot_text or code_lot, expiry))
    return lines


def _identify(node: Node, code: str) -> tuple[str, str | None, str | None]:
    """SKU, lot and expiry named by a code: a SKU, a stored barcode, or a GTIN / GS1 string."""
    if node.read.product(code) is not None:
        return code, None, None
    stored = node.read.product_by_barcode(code)
    if stored is not None:
        return stored.sku, None, None
    result = interpret(code)
    found = node.read.product_by_gtin(result.gtin14) if result.ok and result.gtin14 else None
    if found is None:
        raise NodeError(
            "unknown product {code!r}: give its SKU or barcode, or add it with "
            "`kucun node product add`",
            code=code,
        )
    when = result.expiry or result.best_before
    return found.sku, result.lot, when.isoformat() if when else None


# ---- shipping ------------------------------------------------------------------------------


def average_cost(node: Node, location: str, sku: str) -> int | None:
    """The moving-average unit cost (fen per unit) of `sku` at `location`, or its last cost
    when nothing is on hand: what a shipment carries so transit keeps value."""
    rows = node.read.cost(location, sku)
    if not rows:
        return None
    row = rows[0]
    if row.qty > 0:
        return (row.value * QTY_SCALE * 2 + row.qty) // (row.qty * 2)
    return row.last_cost


def ship_transfer(node: Node, to: str, lines: Sequence[tuple[str, int]]) -> list[Event]:
    """Ship to another store: each transit movement, and the header's line for that lot,
    carries the shipper's current average cost, so the receiver books it at that value."""
    here = node.config.location
    if not valid_replica_id(to) or to == here:
        raise NodeError("cannot ship to {to!r}: give another store's location id", to=to)
    if not lines or any(qty <= 0 for _, qty in lines):
        raise NodeError("a transfer needs at least one line with a quantity above zero")

    def shipment(doc: str) -> list[Body]:
        doc_lines: list[DocLine] = []
        moves: list[Body] = []
        for sku, qty in lines:
            cost = average_cost(node, here, sku)
            levels = node.read.lot_levels(here, sku)
            expiry = {level.lot: level.expiry for level in levels}
            for lot, part in fefo(levels, qty):
                when = expiry.get(lot) if lot is not None else None
                doc_lines.append(DocLine(sku=sku, qty=part, unit_cost=cost, lot=lot, expiry=when))
                moves.append(
                    Movement(
                        sku=sku,
                        qty=part,
                        src=here,
                        dst=TRANSIT,
                        lot=lot,
                        expiry=when,
                        doc=doc,
                        unit_cost=cost,
                    )
                )
        header = Document(doc=doc, type="transfer", location=here, counterparty=to, lines=doc_lines)
        return [header, *moves]

    return node.post(shipment)


# ---- receiving -----------------------------------------------------------------------------


def document(node: Node, doc: str) -> tuple[Document, DocumentStatus]:
    header = node.read.document_header(doc)
    status = node.read.document(doc)
    if header is None or status is None:
        raise NodeError("no document {doc!r} here yet: sync, or check the number", doc=doc)
    return header, status


def receive_transfer(
    node: Node,
    doc: str,
    lines: Sequence[Arrived] | None = None,
    confirm: Confirmation = Confirmation(),
) -> list[Event]:
    """Book what arrived, at the shipper's cost and in its lots; by default what is still
    outstanding of the shipment."""
    with node.store.work():
        header, status = document(node, doc)
        if header.type != "transfer" or header.counterparty != node.config.location:
            raise NodeError(
                "{doc} is not a transfer to {location}", doc=doc, location=node.config.location
            )
        return _receive(node, header, status, TRANSIT, lines, confirm)


def receive_purchase_order(
    node: Node,
    doc: str,
    lines: Sequence[Arrived] | None = None,
    confirm: Confirmation = Confirmation(),
) -> list[Event]:
    """Receive against an order, at the order's cost unless a line gives one; by default
    everything still outstanding."""
    with node.store.work():
        header, status = document(node, doc)
        if header.type != "purchase_order" or header.location != node.config.location:
            raise NodeError(
                "{doc} is not a purchase order for {location}",
                doc=doc,
                location=node.config.location,
            )
        return _receive(node, header, status, SUPPLIER, lines, confirm)


def _receive(
    node: Node,
    header: Document,
    status: DocumentStatus,
    src: str,
    lines: Sequence[Arrived] | None,
    confirm: Confirmation,
) -> list[Event]:
    """Check, confirm and book one receiving act: a receipt header and its movements, in
    the caller's unit of work (so two receipts at one till cannot both pass the check)."""
    doc, verb = header.doc, _verb(header)
    outstanding = {line.sku: line.target - line.done for line in status.lines}
    complete = not any(q > 0 for q in outstanding.values())
    if header.type == "transfer" and any(line.done > 0 for line in status.lines):
        # a shipment arrives once: its receipt says what came, short or not, and closes it
        # (an order may come in several deliveries)
        complete = True
    approver: str | None = None
    if complete:
        if not confirm.force:
            raise _already_received(status, verb)
        approver = _approve(node, confirm, i18n.Message("an extra receipt of {doc}", doc=doc))
        if lines is None:
            raise NodeError("{doc} is fully received: give the lines of the extra receipt", doc=doc)
    arrived = [a for a in (lines if lines is not None else _outstanding(status)) if a.qty > 0]
    if not arrived:
        raise NodeError("nothing to receive on {doc}", doc=doc)
    arrived = _with_lots_and_costs(node, header, status, arrived)
    recounted = False
    if not complete:
        differences = _differences(header, outstanding, arrived)
        if differences and confirm.approver is None:
            if confirm.recount is None:
                said = " ".join(f"{a.sku}={format_qty(a.qty)}" for a in arrived)
                raise NodeError(
                    "{doc}: {differences}. Count again and confirm with --recount {said}, "
                    "or a manager confirms with --approver USER --pin PIN",
                    doc=doc,
                    differences=differences,
                    said=said,
                )
            recounted = _recount_agrees(arrived, confirm.recount, differences)
        if differences and not recounted:
            approver = _approve(
                node,
                confirm,
                i18n.Message("receiving {differences} on {doc}", differences=differences, doc=doc),
            )
        elif confirm.approver is not None:
            approver = _approve(node, confirm, i18n.Message("receiving on {doc}", doc=doc))
        elif confirm.recount is not None:  # a short delivery the till had counted twice
            recounted = _recount_agrees(arrived, confirm.recount, differences)
        if approver is None and confirm.approved is not None:
            approver = confirm.approved
    here = node.config.location

    def receipt(rdoc: str) -> list[Body]:
        bodies: list[Body] = [
            Document(
                doc=rdoc,
                type="receipt",
                location=here,
                counterparty=header.counterparty if src == SUPPLIER else header.location,
                ref=doc,
                lines=[
                    DocLine(sku=a.sku, qty=a.qty, unit_cost=a.unit_cost, lot=a.lot, expiry=a.expiry)
                    for a in arrived
                ],
                approved_by=approver,
                recounted=recounted,
            )
        ]
        bodies += [
            Movement(
                sku=a.sku,
                qty=a.qty,
                src=src,
                dst=here,
                lot=a.lot,
                expiry=a.expiry,
                doc=doc,
                unit_cost=a.unit_cost,
            )
            for a in arrived
        ]
        return bodies

    events = node.post(receipt)
    if complete:  # deliberate: the extra receipt is kept, so no "received twice" alert
        events += _accept(node, header, approver or "")
    return events


def _verb(header: Document) -> str:
    return "po" if header.type == "purchase_order" else "transfer"


def _approve(node: Node, confirm: Confirmation, what: i18n.Message) -> str:
    if confirm.approver is None or confirm.pin is None:
        raise NodeError("{what} needs a manager: add --approver USER --pin PIN", what=what)
    return verify_approver(node, confirm.approver, confirm.pin)


def _already_received(status: DocumentStatus, verb: str) -> NodeError:
    """Why a complete document is refused: which receipts exist, by whom, when."""
    receipts = [r for r in status.receipts if not r.reversed_by]
    which: i18n.Joined | i18n.Message = i18n.Joined(
        i18n.Message(
            "receipt {receipt} by {user} at {origin}, {at}",
            receipt=r.doc,
            user=r.user,
            origin=r.origin,
            at=r.at,
        )
        for r in receipts
    ) or i18n.Message("by receipts written before receipts were listed")
    return NodeError(
        "{doc} is already {status} ({which}): nothing to receive. If more really arrived, "
        "a manager records it with `kucun node {verb} receive {doc} LINES --force "
        "--approver USER --pin PIN`",
        doc=status.doc,
        status=status_text(status.status),
        which=which,
        verb=verb,
    )


def status_text(status: str) -> i18n.Message:
    """A document's status as people say it: `over_received` → "over received"."""
    return i18n.Message(status.replace("_", " "))


def _outstanding(status: DocumentStatus) -> list[Arrived]:
    return [Arrived(s.sku, s.target - s.done) for s in status.lines if s.target > s.done]


def _with_lots_and_costs(
    node: Node, header: Document, status: DocumentStatus, arrived: Sequence[Arrived]
) -> list[Arrived]:
    """Fill in what a line left out: a PO line's cost; a transfer's shipped lots and cost
    (a line without a lot is spread over the shipped lots still in transit, in order)."""
    if header.type == "purchase_order":
        costs = {line.sku: line.unit_cost for line in header.lines}
        return [
            a
            if a.unit_cost is not None
            else Arrived(a.sku, a.qty, costs.get(a.sku), a.lot, a.expiry)
            for a in arrived
        ]
    shipped = header.shipped or header.lines
    received: dict[tuple[str, str | None], int] = defaultdict(int)
    for m in node.read.document_movements(header.doc):
        if m.src == TRANSIT and m.dst == header.counterparty:
            received[(m.sku, m.lot)] += m.qty
        elif m.dst == TRANSIT and m.src == header.counterparty:
            received[(m.sku, m.lot)] -= m.qty
    out: list[Arrived] = []
    for a in arrived:
        lots = [line for line in shipped if line.sku == a.sku]
        sku_cost = next((line.unit_cost for line in lots if line.unit_cost is not None), None)
        if a.lot is not None or not lots:
            cost = next((x.unit_cost for x in lots if x.lot == a.lot), sku_cost)
            out.append(
                a if a.unit_cost is not None else Arrived(a.sku, a.qty, cost, a.lot, a.expiry)
            )
            continue
        left = a.qty
        for i, line in enumerate(lots):
            room = max(line.qty - received[(a.sku, line.lot)], 0)
            take = left if i == len(lots) - 1 else min(left, room)
            if take > 0:
                received[(a.sku, line.lot)] += take
                cost = a.unit_cost if a.unit_cost is not None else line.unit_cost
                out.append(Arrived(a.sku, take, cost, line.lot, a.expiry or line.expiry))
                left -= take
    return out


def _differences(
    header: Document, outstanding: dict[str, int], arrived: Sequence[Arrived]
) -> i18n.Joined:
    """What differs from what was expected, as people say it ("A1 25 arrived, 20 ordered"),
    or "" when nothing does. An order may arrive in parts; a shipment arrives once."""
    got: dict[str, int] = defaultdict(int)
    for a in arrived:
        got[a.sku] += a.qty
    expected = (
        "{sku} {have} arrived, {want} ordered"
        if header.type == "purchase_order"
        else "{sku} {have} arrived, {want} shipped"
    )
    skus = sorted(set(got) | (set(outstanding) if header.type == "transfer" else set()))
    parts = []
    for sku in skus:
        want = max(outstanding.get(sku, 0), 0)
        have = got.get(sku, 0)
        if have > want or (header.type == "transfer" and have != want):
            parts.append(
                i18n.Message(expected, sku=sku, have=format_qty(have), want=format_qty(want))
            )
    return i18n.Joined(parts)


def _recount_agrees(
    arrived: Sequence[Arrived], recount: Sequence[Arrived] | None, differences: i18n.Joined
) -> bool:
    """True when a re-count gives the same total per SKU as the lines; refused otherwise."""
    if recount is None:
        return False
    first: dict[str, int] = defaultdict(int)
    second: dict[str, int] = defaultdict(int)
    for a in arrived:
        first[a.sku] += a.qty
    for a in recount:
        second[a.sku] += a.qty
    if dict(first) != dict(second):
        said = i18n.Joined((f"{s} {format_qty(q)}" for s, q in sorted(second.items())), ", ")
        raise NodeError(
            "the re-count ({said}) does not agree with the lines ({differences}): count "
            "again, or a manager confirms with --approver USER --pin PIN",
            said=said,
            differences=differences,
        )
    return True


# ---- a delivery without an order --------------------------------------------------------


def receive_blind(
    node: Node, supplier: str, lines: Sequence[Arrived], approver: str | None = None
) -> list[Event]:
    """A delivery no order announced: one receipt document from `supplier`, and a movement
    @supplier → this store per line with its cost, lot and expiry. `approver`: a manager
    the caller already checked (who set a cost at the till), recorded on the receipt."""
    supplier = supplier.strip()
    if not supplier or "\n" in supplier:
        raise NodeError("a delivery without an order needs its supplier: type the supplier's name")
    arrived = [a for a in lines if a.qty > 0]
    if not arrived:
        raise NodeError("nothing to receive from {supplier}: scan what arrived", supplier=supplier)
    for a in arrived:
        node.product(a.sku)  # an unknown SKU is refused before anything is written
    here = node.config.location

    def receipt(doc: str) -> list[Body]:
        return [
            Document(
                doc=doc,
                type="receipt",
                location=here,
                counterparty=supplier,
                lines=[
                    DocLine(sku=a.sku, qty=a.qty, unit_cost=a.unit_cost, lot=a.lot, expiry=a.expiry)
                    for a in arrived
                ],
                approved_by=approver,
            ),
            *(
                Movement(
                    sku=a.sku,
                    qty=a.qty,
                    src=SUPPLIER,
                    dst=here,
                    lot=a.lot,
                    expiry=a.expiry,
                    doc=doc,
                    unit_cost=a.unit_cost,
                )
                for a in arrived
            ),
        ]

    return node.post(receipt)


# ---- resolving a document received twice ---------------------------------------------------


def reverse_receipt(node: Node, receipt: str, approver: str | None, pin: str | None) -> list[Event]:
    """Undo one receipt with a compensating document: the same lines go back out (to the
    supplier, or back in transit), citing the order or transfer, approved by a manager."""
    with node.store.work():
        header = node.read.document_header(receipt)
        if header is None or header.type != "receipt" or header.ref is None:
            raise NodeError(
                "{receipt!r} is not a receipt of an order or transfer here: give the receipt "
                "number `kucun node documents` lists",
                receipt=receipt,
            )
        if header.location != node.config.location:
            raise NodeError(
                "receipt {receipt} was booked at {location}, not here",
                receipt=receipt,
                location=header.location,
            )
        target, status = document(node, header.ref)
        info = next((r for r in status.receipts if r.doc == receipt), None)
        if info is not None and info.reversed_by:
            raise NodeError(
                "receipt {receipt} is already reversed by {by}",
                receipt=receipt,
                by=", ".join(info.reversed_by),
            )
        who = verify_approver(node, approver, pin)
        back = SUPPLIER if target.type == "purchase_order" else TRANSIT
        here = node.config.location

        def reversal(rdoc: str) -> list[Body]:
            return [
                Document(
                    doc=rdoc,
                    type="reversal",
                    location=here,
                    ref=receipt,
                    lines=list(header.lines),
                    approved_by=who,
                ),
                *(
                    Movement(sku=x.sku, qty=x.qty, src=here, dst=back, lot=x.lot, doc=target.doc)
                    for x in header.lines
                    if x.qty > 0
                ),
            ]

        return node.post(reversal)


def accept_receipts(node: Node, doc: str, approver: str | None, pin: str | None) -> list[Event]:
    """Keep what arrived on a document where it differs from what was expected: an
    acceptance of its received quantities, which clears "received twice" (until more than
    that arrives) and takes the difference off the open list."""
    with node.store.work():
        header, status = document(node, doc)
        if header.type not in ("purchase_order", "transfer"):
            raise NodeError("{doc} is not a purchase order or transfer", doc=doc)
        if not status.differs:
            raise NodeError(
                "{doc} is {status}: nothing arrived that differs from what was expected, so "
                "there is nothing to accept",
                doc=doc,
                status=status_text(status.status),
            )
        who = verify_approver(node, approver, pin)
        return _accept(node, header, who)


def _accept(node: Node, header: Document, approver: str) -> list[Event]:
    status = node.read.document(header.doc)
    assert status is not None
    lines = [DocLine(sku=s.sku, qty=s.done) for s in status.lines if s.done > 0]
    here = node.config.location
    return node.post(
        lambda adoc: [
            Document(
                doc=adoc,
                type="acceptance",
                location=here,
                ref=header.doc,
                lines=lines,
                approved_by=approver,
            )
        ]
    )


# ---- listing -------------------------------------------------------------------------------


def open_documents(node: Node, everything: bool = False) -> list[DocumentStatus]:
    """Orders and transfers that concern this location and are not finished, any with an
    alert (received twice), and any where what arrived differs from what was expected
    until a manager accepts it; `everything`: all of them."""
    out = []
    for header, status in node.read.document_statuses(("purchase_order", "transfer")):
        if node.config.location not in (header.location, header.counterparty):
            continue
        finished = status.status in ("received", "received_with_discrepancy", "over_received")
        unaccepted = status.differs and not status.differences_accepted
        if everything or not finished or status.alerts or unaccepted:
            out.append(status)
    return out


i18n.register(
    {
        "ordered": "已订购",
        "planned": "待发货",
        "completed": "已完成",
        "posted": "已过账",
        "in transit": "在途",
        "partly received": "部分收货",
        "received": "已收货",
        "over received": "超量收货",
        "received with discrepancy": "收货有差异",
        "{item!r}: write each line as SKU=QTY, e.g. A1=3": (
            "{item!r}：每行请写成 SKU=数量，例如 A1=3"
        ),
        "{item!r}: write each line as {syntax}": "{item!r}：每行请写成 {syntax}",
        "{item!r}: expiry {expiry!r} is not a date; write it as 2027-01-31": (
            "{item!r}：有效期 {expiry!r} 不是日期，请写成 2027-01-31 这样"
        ),
        "unknown product {code!r}: give its SKU or barcode, or add it with "
        "`kucun node product add`": (
            "未知商品 {code!r}：请给出它的 SKU 或条码，或用 `kucun node product add` 添加"
        ),
        "cannot ship to {to!r}: give another store's location id": (
            "不能发往 {to!r}：请给出另一家门店的位置编号"
        ),
        "a transfer needs at least one line with a quantity above zero": (
            "调拨至少要有一行数量大于零"
        ),
        "no document {doc!r} here yet: sync, or check the number": (
            "这里还没有单据 {doc!r}：请同步，或检查单号"
        ),
        "{doc} is not a transfer to {location}": "{doc} 不是发往 {location} 的调拨单",
        "{doc} is not a purchase order for {location}": "{doc} 不是 {location} 的采购订单",
        "an extra receipt of {doc}": "{doc} 的额外收货",
        "{doc} is fully received: give the lines of the extra receipt": (
            "{doc} 已全部收货：请给出额外收货的各行"
        ),
        "nothing to receive on {doc}": "{doc} 没有可收的货",
        "{doc}: {differences}. Count again and confirm with --recount {said}, "
        "or a manager confirms with --approver USER --pin PIN": (
            "{doc}：{differences}。请重新清点并用 --recount {said} 确认，"
            "或由经理用 --approver USER --pin PIN 确认"
        ),
        "receiving {differences} on {doc}": "在 {doc} 上收货（{differences}）",
        "receiving on {doc}": "在 {doc} 上收货",
        "{what} needs a manager: add --approver USER --pin PIN": (
            "{what}需要经理批准：请加上 --approver USER --pin PIN"
        ),
        "receipt {receipt} by {user} at {origin}, {at}": (
            "收货单 {receipt}，由 {user} 在 {origin} 于 {at} 录入"
        ),
        "by receipts written before receipts were listed": "由启用收货清单之前的收货单",
        "{doc} is already {status} ({which}): nothing to receive. If more really arrived, "
        "a manager records it with `kucun node {verb} receive {doc} LINES --force "
        "--approver USER --pin PIN`": (
            "{doc} 现为{status}（{which}）：没有可收的货。如果确实又到了货，由经理用 "
            "`kucun node {verb} receive {doc} LINES --force --approver USER --pin PIN` 录入"
        ),
        "{sku} {have} arrived, {want} ordered": "{sku} 到货 {have}，订购 {want}",
        "{sku} {have} arrived, {want} shipped": "{sku} 到货 {have}，发货 {want}",
        "the re-count ({said}) does not agree with the lines ({differences}): count "
        "again, or a manager confirms with --approver USER --pin PIN": (
            "复点结果（{said}）与各行（{differences}）不符：请再清点一次，"
            "或由经理用 --approver USER --pin PIN 确认"
        ),
        "{receipt!r} is not a receipt of an order or transfer here: give the receipt "
        "number `kucun node documents` lists": (
            "{receipt!r} 不是这里某个订单或调拨的收货单：请给出 `kucun node documents` "
            "列出的收货单号"
        ),
        "receipt {receipt} was booked at {location}, not here": (
            "收货单 {receipt} 记在 {location}，不在这里"
        ),
        "receipt {receipt} is already reversed by {by}": "收货单 {receipt} 已被 {by} 冲销",
        "{doc} is not a purchase order or transfer": "{doc} 不是采购订单或调拨单",
        "a delivery without an order needs its supplier: type the supplier's name": (
            "无订单到货需要供应商：请输入供应商名称"
        ),
        "nothing to receive from {supplier}: scan what arrived": (
            "{supplier} 没有可收的货：请扫描到货商品"
        ),
        "{doc} is {status}: nothing arrived that differs from what was expected, so "
        "there is nothing to accept": "{doc} 现为{status}：到货与预期没有差异，无需接受",
    }
)
