"""Receiving and transfers at the till, without a screen: what was scanned, how it compares
with the order or shipment, the re-count of the lines that differ, and posting.

A `Checkin` is one document being worked on: a purchase order or a delivery without one
(kind "po" / "blind"), a transfer to ship ("ship") or one arriving ("inbound"). Scans go
into a first count; a line whose count differs from what was expected must be counted a
second time, independently (the re-count pass scans only those lines), or a manager
confirms it. A re-count that disagrees replaces the first count of that line and asks for
another, so two counts that agree always stand behind what is posted. The posted
documents keep the difference (node.logistics): the screens only show it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from node.counter import identify, needs_weight
from node.errors import NodeError
from node.logistics import (
    Arrived,
    Confirmation,
    open_documents,
    receive_blind,
    receive_purchase_order,
    receive_transfer,
    ship_transfer,
)
from node.permissions import User, may
from node.service import COST, Node
from node.users import verify_approver
from protocol import i18n
from protocol.documents import DocumentStatus
from protocol.events import Event
from protocol.units import format_qty

Kind = Literal["po", "blind", "ship", "inbound"]
#: how a line compares with what was expected
State = Literal["ok", "over", "under", "extra"]


@dataclass(frozen=True)
class Row:
    """One SKU as the table shows it: expected, first count, difference, re-count."""

    sku: str
    name: str
    unit: str
    expected: int | None
    scanned: int
    recount: int | None
    unit_cost: int | None
    lots: tuple[str, ...] = ()

    @property
    def difference(self) -> int:
        return self.scanned - (self.expected or 0)

    @property
    def state(self) -> State:
        if self.expected is None:
            return "ok"
        if self.difference > 0:
            return "extra" if self.expected == 0 else "over"
        return "under" if self.difference < 0 else "ok"


@dataclass
class _Count:
    """Quantities per (sku, lot, expiry), in scan order."""

    qty: dict[tuple[str, str | None, str | None], int] = field(
        default_factory=lambda: defaultdict(int)
    )

    def per_sku(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for (sku, _, _), q in self.qty.items():
            out[sku] += q
        return out


@dataclass(frozen=True)
class Scan:
    """What one scanned or typed line said."""

    sku: str
    name: str
    qty: int
    lot: str | None
    expiry: str | None


def qty_text(qty: int, unit: str) -> str:
    """Pieces as a whole number ("12"), anything else with its unit ("1.234kg")."""
    if unit == "pcs" and qty % 1000 == 0:
        return str(qty // 1000)
    return format_qty(qty) + ("" if unit == "pcs" else unit)


def require(user: User, action: str) -> None:
    """Refuse a user whose role may not do `action` (a cashier, finance) in their words."""
    if not may(user.role, action):
        raise NodeError(
            "{user} ({role}) may not do {action} here: log in as a clerk or a manager",
            user=user.id,
            role=user.role or "-",
            action=i18n.Message(action),
        )


def inbound_transfers(node: Node) -> list[DocumentStatus]:
    """Transfers coming to this store that have not been received yet."""
    here = node.config.location
    out = []
    for status in open_documents(node):
        header = node.read.document_header(status.doc)
        if (
            header is not None
            and header.type == "transfer"
            and header.counterparty == here
            and not any(line.done for line in status.lines)
        ):
            out.append(status)
    return out


def recent_transfers(node: Node) -> list[DocumentStatus]:
    """What the transfers screen lists: transfers still to receive here, then transfers
    shipped from or received here whose difference no manager has accepted yet (each side
    keeps it, so both stores see it)."""
    here = node.config.location
    waiting = inbound_transfers(node)
    seen = {s.doc for s in waiting}
    for status in open_documents(node):
        header = node.read.document_header(status.doc)
        if (
            header is not None
            and header.type == "transfer"
            and here in (header.location, header.counterparty)
            and status.doc not in seen
            and status.differs
            and not status.differences_accepted
        ):
            waiting.append(status)
    return waiting


def differences_text(status: DocumentStatus, node: Node) -> str:
    """ "COLA -2, RICE +1": how what arrived differs from what was expected, once something
    arrived; "" before."""
    if not any(line.done for line in status.lines):
        return ""
    parts = []
    for line in status.lines:
        if line.discrepancy:
            product = node.read.product(line.sku)
            unit = product.unit if product is not None else "pcs"
            sign = "+" if line.discrepancy > 0 else "-"
            parts.append(f"{line.sku} {sign}{qty_text(abs(line.discrepancy), unit)}")
    return ", ".join(parts)


def open_orders(node: Node) -> list[DocumentStatus]:
    """Purchase orders for this store still waiting for goods."""
    here = node.config.location
    out = []
    for status in open_documents(node):
        header = node.read.document_header(status.doc)
        if (
            header is not None
            and header.type == "purchase_order"
            and header.location == here
            and status.status in ("ordered", "partly_received")
        ):
            out.append(status)
    return out


def stores(node: Node) -> list[tuple[str, str]]:
    """(id, name) of the other stores head office has sent, for choosing a destination."""
    names: dict[str, str] = {}
    for (entity, key, name), (_, _, value) in node.read.registers().items():
        if entity == "store" and key != node.config.location:
            if name == "name" and isinstance(value, str):
                names[key] = value
            else:
                names.setdefault(key, key)
    return sorted(names.items())


class Checkin:
    """One receiving or shipping act being counted at the till (see the module)."""

    def __init__(
        self,
        node: Node,
        user: User,
        kind: Kind,
        doc: str | None = None,
        party: str | None = None,
    ) -> None:
        require(user, "transfer" if kind in ("ship", "inbound") else "receive")
        self.node = node
        self.user = user
        node.user = user.id  # every event this writes records who counted
        self.kind: Kind = kind
        self.doc = doc
        #: the supplier (blind receipt) or the destination store (ship)
        self.party = party
        self.first = _Count()
        self.second = _Count()
        #: SKUs in the re-count pass, or None outside it
        self.recounting: set[str] | None = None
        #: SKUs whose two counts agree
        self.confirmed: set[str] = set()
        self.costs: dict[str, int] = {}
        self.cost_approver: str | None = None
        self.expected: dict[str, int] = {}
        self._order_costs: dict[str, int | None] = {}
        self.names: dict[str, tuple[str, str]] = {}
        if kind in ("po", "inbound"):
            self._load(doc or "")
        elif kind == "blind":
            if not (party or "").strip():
                raise NodeError(
                    "a delivery without an order needs its supplier: type the supplier's name"
                )
        elif kind == "ship":
            to = (party or "").strip()
            if not to or to == node.config.location:
                raise NodeError("cannot ship to {to!r}: give another store's location id", to=to)

    @classmethod
    def purchase_order(cls, node: Node, user: User, doc: str) -> Checkin:
        return cls(node, user, "po", doc=doc)

    @classmethod
    def blind(cls, node: Node, user: User, supplier: str) -> Checkin:
        return cls(node, user, "blind", party=supplier.strip())

    @classmethod
    def shipment(cls, node: Node, user: User, to: str) -> Checkin:
        return cls(node, user, "ship", party=to.strip())

    @classmethod
    def inbound(cls, node: Node, user: User, doc: str) -> Checkin:
        return cls(node, user, "inbound", doc=doc)

    def _load(self, doc: str) -> None:
        from node.logistics import document

        header, status = document(self.node, doc.strip())
        want = "purchase_order" if self.kind == "po" else "transfer"
        here = self.node.config.location
        if (
            header.type != want
            or (header.location if want == "purchase_order" else header.counterparty) != here
        ):
            raise NodeError(
                "{doc} is not a document to receive at {location}: choose one from the list",
                doc=doc,
                location=here,
            )
        self.doc = header.doc
        self.party = header.counterparty if self.kind == "po" else header.location
        self.expected = {s.sku: max(s.target - s.done, 0) for s in status.lines}
        if self.kind == "inbound" and any(s.done for s in status.lines):
            raise NodeError("{doc} has been received already: nothing to receive", doc=doc)
        if self.kind == "po" and not any(self.expected.values()):
            raise NodeError("{doc} has been received already: nothing to receive", doc=doc)
        self._order_costs = {line.sku: line.unit_cost for line in header.lines}
        for sku in self.expected:
            self._name(sku)

    # ---- counting -------------------------------------------------------------------

    @property
    def compares(self) -> bool:
        """True when there is something to compare with (an order or a shipment)."""
        return self.kind in ("po", "inbound")

    def _name(self, sku: str) -> tuple[str, str]:
        if sku not in self.names:
            product = self.node.read.product(sku)
            self.names[sku] = (
                (product.name or sku, product.unit) if product is not None else (sku, "pcs")
            )
        return self.names[sku]

    def needs_weight(self, text: str) -> bool:
        """True when the line names a product sold by weight and no quantity: ask the scale."""
        return needs_weight(self.node, text.strip())

    def read(self, text: str, weight: int | None = None) -> Scan:
        """A scanned or typed line `CODE [QTY [LOT [EXPIRY]]]` → what it counts; nothing
        is counted yet. GS1 codes bring their own lot and expiry; `weight` (milli-kg)
        comes from the scale."""
        parts = text.split()
        if not parts or len(parts) > 4:
            raise NodeError(
                "{text!r}: scan a code, or type CODE [QTY [LOT [EXPIRY]]], e.g. COLA 12",
                text=text.strip(),
            )
        found = identify(self.node, parts[0])
        product = found.product
        if len(parts) > 1:
            qty = self.node._quantity(parts[1], product, allow_zero=False)
        elif weight is not None:
            qty = weight
        elif found.qty_milli is not None:
            qty = found.qty_milli
        elif product.unit == "kg":
            raise NodeError(
                "{name} is weighed: put it on the scale, or type {code} and its weight",
                name=product.name or product.sku,
                code=parts[0],
            )
        else:
            qty = 1000
        lot = parts[2] if len(parts) > 2 else found.lot
        expiry = parts[3] if len(parts) > 3 else found.expiry
        if len(parts) > 3:
            expiry = self.node._expiry(parts[3])
        self.names[product.sku] = (product.name or product.sku, product.unit)
        return Scan(product.sku, product.name or product.sku, qty, lot, expiry)

    def scan(self, text: str, weight: int | None = None) -> Scan:
        """Count one scanned or typed line: into the first count, or the re-count when a
        re-count pass is on (only the lines it asks for)."""
        scan = self.read(text, weight)
        if self.recounting is not None:
            if scan.sku not in self.recounting:
                raise NodeError(
                    "{sku} is not being counted again: scan only the lines marked for the "
                    "re-count, or press Esc to leave it",
                    sku=scan.sku,
                )
            self.second.qty[(scan.sku, scan.lot, scan.expiry)] += scan.qty
        else:
            self.first.qty[(scan.sku, scan.lot, scan.expiry)] += scan.qty
            self.confirmed.discard(scan.sku)
        return scan

    def remove(self, sku: str) -> None:
        """Take a SKU's counts off (a mis-scan): it is counted again from zero."""
        for key in [k for k in self.first.qty if k[0] == sku]:
            del self.first.qty[key]
        for key in [k for k in self.second.qty if k[0] == sku]:
            del self.second.qty[key]
        self.confirmed.discard(sku)

    def rows(self) -> list[Row]:
        """Every SKU expected or scanned, expected ones first (in the document's order)."""
        counted = self.first.per_sku()
        recounted = self.second.per_sku()
        skus = list(self.expected) + [s for s in counted if s not in self.expected]
        out = []
        for sku in skus:
            name, unit = self._name(sku)
            lots = tuple(
                sorted({lot for (s, lot, _) in self.first.qty if s == sku and lot is not None})
            )
            out.append(
                Row(
                    sku=sku,
                    name=name,
                    unit=unit,
                    expected=self.expected.get(sku, 0) if self.compares else None,
                    scanned=counted.get(sku, 0),
                    recount=recounted.get(sku)
                    if self.recounting and sku in self.recounting
                    else None,
                    unit_cost=self.cost_of(sku),
                    lots=lots,
                )
            )
        return out

    def differing(self) -> list[str]:
        """SKUs whose first count differs from what was expected."""
        return [r.sku for r in self.rows() if r.state != "ok"]

    def unconfirmed(self) -> list[str]:
        """Differing SKUs with no agreeing second count yet: they hold the posting back."""
        return [sku for sku in self.differing() if sku not in self.confirmed]

    # ---- the re-count ---------------------------------------------------------------

    def begin_recount(self) -> list[str]:
        """Start the second, independent count of the lines that differ; returns them."""
        todo = self.unconfirmed()
        if not todo:
            raise NodeError("no line differs from what was expected: nothing to count again")
        self.recounting = set(todo)
        for key in [k for k in self.second.qty if k[0] in self.recounting]:
            del self.second.qty[key]
        return todo

    def finish_recount(self) -> tuple[list[str], list[str]]:
        """Compare the re-count with the first count: (agreeing, disagreeing) SKUs. A line
        that disagrees takes the re-count as its new first count, to be counted again."""
        if self.recounting is None:
            raise NodeError("no re-count is going on: press F5 to count the differing lines again")
        first = self.first.per_sku()
        second = self.second.per_sku()
        agree, disagree = [], []
        for sku in sorted(self.recounting):
            if first.get(sku, 0) == second.get(sku, 0):
                agree.append(sku)
                self.confirmed.add(sku)
            else:
                disagree.append(sku)
                for key in [k for k in self.first.qty if k[0] == sku]:
                    del self.first.qty[key]
                for key, q in self.second.qty.items():
                    if key[0] == sku:
                        self.first.qty[key] += q
        self.recounting = None
        self.second = _Count()
        return agree, disagree

    def cancel_recount(self) -> None:
        self.recounting = None
        self.second = _Count()

    # ---- costs ----------------------------------------------------------------------

    def cost_of(self, sku: str) -> int | None:
        if sku in self.costs:
            return self.costs[sku]
        return self._order_costs.get(sku)

    @property
    def may_set_cost(self) -> bool:
        """A manager sets costs alone; a clerk needs one to confirm."""
        return self.user.role in ("manager", "admin")

    def set_cost(
        self, sku: str, text: str, approver: str | None = None, pin: str | None = None
    ) -> int:
        """Set a line's unit cost (yuan, up to 4 decimals) for this receipt; a clerk needs
        a manager's id and PIN. Not on shipments: they carry the store's own average cost."""
        if self.kind in ("ship", "inbound"):
            raise NodeError(
                "a transfer carries the shipping store's cost: it cannot be changed here"
            )
        cost = self.node._money(text.strip(), COST)
        if not self.may_set_cost:
            self.cost_approver = verify_approver(self.node, approver, pin)
        self.costs[sku] = cost
        return cost

    # ---- posting --------------------------------------------------------------------

    def lines(self) -> list[Arrived]:
        return [
            Arrived(sku, q, self.cost_of(sku), lot, expiry)
            for (sku, lot, expiry), q in self.first.qty.items()
            if q > 0
        ]

    def post(self, approver: str | None = None, pin: str | None = None) -> list[Event]:
        """Book what was counted as one document. Lines that differ need their agreeing
        re-count, or `approver` and `pin` of a manager who confirms them."""
        if self.recounting is not None:
            raise NodeError("finish the re-count first: press F5 again to compare it")
        lines = self.lines()
        if not lines:
            raise NodeError("nothing scanned yet: scan what arrived, then post")
        if self.kind == "ship":
            totals: dict[str, int] = defaultdict(int)
            for a in lines:
                totals[a.sku] += a.qty
            return ship_transfer(self.node, self.party or "", list(totals.items()))
        if self.kind == "blind":
            return receive_blind(self.node, self.party or "", lines, self.cost_approver)
        waiting = self.unconfirmed()
        if waiting and approver is None:
            raise NeedsCheck(waiting, self.describe(waiting))
        recount = None
        if not waiting and self.differing():
            recount = lines  # every differing line was counted twice and agreed
        confirm = Confirmation(
            recount=recount,
            approver=approver,
            pin=pin,
            approved=self.cost_approver,
        )
        receive = receive_purchase_order if self.kind == "po" else receive_transfer
        return receive(self.node, self.doc or "", lines, confirm)

    def describe(self, skus: list[str]) -> i18n.Joined:
        """The differences as people say them: "COLA 25 counted, 20 expected"."""
        rows = {r.sku: r for r in self.rows()}
        return i18n.Joined(
            i18n.Message(
                "{sku} {have} counted, {want} expected",
                sku=sku,
                have=qty_text(rows[sku].scanned, rows[sku].unit),
                want=qty_text(rows[sku].expected or 0, rows[sku].unit),
            )
            for sku in skus
        )


class NeedsCheck(NodeError):
    """Posting waits for the double check of these lines: a re-count or a manager."""

    def __init__(self, skus: list[str], differences: i18n.Joined) -> None:
        super().__init__(
            "{differences}: count these lines again (F5), or a manager confirms them (F9)",
            differences=differences,
        )
        self.skus = skus


i18n.register(
    {
        "{user} ({role}) may not do {action} here: log in as a clerk or a manager": (
            "{user}（{role}）不能在这里{action}：请用仓管员或经理登录"
        ),
        "{doc} is not a document to receive at {location}: choose one from the list": (
            "{doc} 不是 {location} 要收的单据：请从列表中选择"
        ),
        "{doc} has been received already: nothing to receive": "{doc} 已经收过货：没有可收的货",
        "{text!r}: scan a code, or type CODE [QTY [LOT [EXPIRY]]], e.g. COLA 12": (
            "{text!r}：请扫码，或输入 编码 [数量 [批号 [有效期]]]，例如 COLA 12"
        ),
        "{name} is weighed: put it on the scale, or type {code} and its weight": (
            "{name} 需要称重：请放上秤，或输入 {code} 和重量"
        ),
        "{sku} is not being counted again: scan only the lines marked for the "
        "re-count, or press Esc to leave it": (
            "{sku} 不在复点之列：只扫标记要复点的行，或按 Esc 退出复点"
        ),
        "no line differs from what was expected: nothing to count again": (
            "没有与预期不符的行：无需复点"
        ),
        "no re-count is going on: press F5 to count the differing lines again": (
            "当前没有复点：按 F5 复点有差异的行"
        ),
        "a transfer carries the shipping store's cost: it cannot be changed here": (
            "调拨按发货门店的成本入账：这里不能修改"
        ),
        "finish the re-count first: press F5 again to compare it": (
            "请先完成复点：再按 F5 进行比对"
        ),
        "nothing scanned yet: scan what arrived, then post": (
            "还没有扫描任何商品：请先扫描到货，再过账"
        ),
        "{sku} {have} counted, {want} expected": "{sku} 清点 {have}，应为 {want}",
        "{differences}: count these lines again (F5), or a manager confirms them (F9)": (
            "{differences}：请复点这些行（F5），或由经理确认（F9）"
        ),
    }
)
