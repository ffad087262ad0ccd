"""Stocktake sessions at a store: open, tally a place, review, approve (see
protocol.stocktake for what a session is derived from, docs/merge-rules.md "Stocktakes by
several clerks" for the rules).

Every step is one document in the ledger, so several clerks on several tills count into
one session and the review is the same wherever it is read. Approval posts one `Count`
per counted SKU/lot citing the close, at the tallied figure plus what moved after the
tally: the count is true when it is posted, although selling went on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from node.errors import NodeError
from node.logistics import _identify, average_cost
from node.permissions import acting_user, require
from node.service import Node
from node.users import APPROVER_ROLES, verify_approver
from protocol import i18n
from protocol import stocktake as pure
from protocol.documents import at_text
from protocol.events import Body, Count, DocLine, Document, Event

i18n.register(
    {
        "no stocktake {doc!r} here: open one, or sync and check the number": (
            "这里没有盘点单 {doc!r}：请新开一个，或同步后核对单号"
        ),
        "{doc} is a stocktake of {location}, not of this store {here}: open one here": (
            "{doc} 是 {location} 的盘点单，不是本店 {here} 的：请在本店新开一个"
        ),
        "stocktake {doc} is already approved by {approver} at {at} ({close}): "
        "open a new stocktake to count again": (
            "盘点单 {doc} 已由 {approver} 于 {at} 批准（{close}）：如需重盘请新开盘点单"
        ),
        "name the place you counted, e.g. shelf or back store": (
            "请填写盘点的位置，例如 货架 或 仓库"
        ),
        "{sku} is not in the scope of stocktake {doc}: count only its products": (
            "{sku} 不在盘点单 {doc} 的范围内：只盘点范围内的商品"
        ),
        "quantity of {sku} must be zero or more": "{sku} 的数量必须大于或等于零",
        "{item!r}: write each line as SKU=QTY[:LOT], e.g. A1=3 or A1=2:L1": (
            "{item!r}：每行写作 SKU=数量[:批号]，例如 A1=3 或 A1=2:L1"
        ),
        "{text!r}: scan a code, or type CODE QTY, e.g. 6901234567892 3": (
            "{text!r}：请扫码，或输入 条码 数量，例如 6901234567892 3"
        ),
        "no stocktake is open at {location}: open one first": (
            "{location} 没有进行中的盘点：请先新开一个"
        ),
        "nothing is counted on {doc} yet: tally a place first": (
            "盘点单 {doc} 还没有任何盘点数：请先盘点一个位置"
        ),
    }
)


@dataclass(frozen=True)
class Counted:
    """One counted line of a tally: SKU, lot (or None) and quantity in milli-units."""

    sku: str
    qty: int
    lot: str | None = None


def status(node: Node, doc: str) -> pure.StocktakeStatus:
    """The session's derived status from its header, tallies and closes here."""
    header = node.read.document_header(doc)
    if header is None or header.type != "stocktake":
        raise NodeError(
            "no stocktake {doc!r} here: open one, or sync and check the number", doc=doc
        )
    return pure.from_related(
        header,
        node.read.documents_citing(doc, ("tally",)),
        node.read.documents_citing(doc, ("stocktake_close",)),
    )


def sessions(node: Node) -> list[pure.StocktakeStatus]:
    """Every stocktake of this store, in fold order."""
    here = node.config.location
    out = []
    for doc in node.read.document_ids(("stocktake",)):
        header = node.read.document_header(doc)
        if header is not None and header.location == here:
            out.append(status(node, doc))
    return out


def current(node: Node) -> pure.StocktakeStatus | None:
    """The latest open session of this store: the one a clerk joins."""
    found = [s for s in sessions(node) if s.status == "open"]
    return found[-1] if found else None


def open_stocktake(
    node: Node, skus: Sequence[str] = (), category: str | None = None
) -> list[Event]:
    """Open a session: the whole store, a list of SKUs, or a category. Nothing is frozen."""
    require(node, "count")
    for sku in skus:
        node.product(sku)  # NodeError for an unknown product
    here = node.config.location
    note = f"{pure.CATEGORY_PREFIX}{category}" if category else None
    lines = [DocLine(sku=sku, qty=0) for sku in dict.fromkeys(skus)]
    return node.post(
        lambda doc: [Document(doc=doc, type="stocktake", location=here, lines=lines, note=note)]
    )


def tally(node: Node, doc: str, place: str, lines: Sequence[Counted]) -> list[Event]:
    """Post what the acting clerk counted at `place`: it replaces their earlier tally of
    that place; other clerks' tallies of it are added to it."""
    require(node, "count")
    place = place.strip()
    if not place:
        raise NodeError("name the place you counted, e.g. shelf or back store")
    with node.store.work():
        session = _own_open(node, doc)
        in_scope = _scope_skus(node, session)
        for line in lines:
            node.product(line.sku)
            if line.qty < 0:
                raise NodeError("quantity of {sku} must be zero or more", sku=line.sku)
            if in_scope is not None and line.sku not in in_scope:
                raise NodeError(
                    "{sku} is not in the scope of stocktake {doc}: count only its products",
                    sku=line.sku,
                    doc=doc,
                )
        here = node.config.location
        doc_lines = [DocLine(sku=c.sku, qty=c.qty, lot=c.lot) for c in lines]
        return node.post(
            lambda tdoc: [
                Document(
                    doc=tdoc, type="tally", location=here, ref=doc, note=place, lines=doc_lines
                )
            ]
        )


def review(node: Node, doc: str) -> list[pure.ReviewLine]:
    """Expected (stock now) against counted per SKU/lot in scope, with the variance in
    quantity and at the moving-average cost; lines not counted yet have counted None."""
    session = status(node, doc)
    here = session.location
    in_scope = _scope_skus(node, session)
    expected: dict[pure.Key, int] = {}
    for row in node.read.stock(location=here):
        if in_scope is None or row.sku in in_scope:
            expected[(row.sku, row.lot)] = row.qty
    keys: list[pure.Key] = [(sku, None) for sku in in_scope or ()]
    keys = [k for k in keys if not any(s == k[0] for s, _ in expected)]
    skus = {k[0] for k in [*expected, *session.counted, *keys]}
    costs = {sku: average_cost(node, here, sku) for sku in skus}
    return pure.review(keys, expected, session.counted, costs, moved_after(node, session))


def moved_after(node: Node, session: pure.StocktakeStatus) -> dict[pure.Key, int]:
    """Per counted SKU/lot, the net movement at the store after its earliest tally: goods
    sold from a place after it was counted (a sale before then is in no figure)."""
    out: dict[pure.Key, int] = {}
    for sku, lot in session.counted:
        first = min(p.position for p in session.places if (p.sku, p.lot) == (sku, lot))
        out[(sku, lot)] = node.read.net_movement_after(session.location, sku, lot, first)
    return out


def approve(
    node: Node, doc: str, approver: str | None = None, pin: str | None = None
) -> list[Event]:
    """Close the session: a `stocktake_close` (approved_by the manager) and one Count per
    counted SKU/lot, at the tallied figure plus the net movement after its tallies. A
    manager approves their own session; a clerk needs a manager's id and PIN."""
    require(node, "count")
    with node.store.work():
        session = _own_open(node, doc)
        if not session.counted:
            raise NodeError("nothing is counted on {doc} yet: tally a place first", doc=doc)
        user = acting_user(node)
        approved_by = (
            user.id
            if user.role in APPROVER_ROLES and approver is None
            else verify_approver(node, approver, pin)
        )
        here = session.location
        moved = moved_after(node, session)
        counts = [
            (sku, lot, pure.count_at_approval(qty, moved[(sku, lot)]))
            for (sku, lot), qty in session.counted.items()
        ]

        def held(sku: str, lot: str | None) -> int:
            levels = node.read.lot_levels(here, sku)
            return sum(level.qty for level in levels if lot is None or level.lot == lot)

        def close(cdoc: str) -> list[Body]:
            bodies: list[Body] = [
                Document(
                    doc=cdoc,
                    type="stocktake_close",
                    location=here,
                    ref=doc,
                    approved_by=approved_by,
                    lines=[
                        DocLine(sku=sku, qty=qty, lot=lot, variance=qty - held(sku, lot))
                        for sku, lot, qty in counts
                    ],
                )
            ]
            bodies += [
                Count(location=here, sku=sku, qty=qty, lot=lot, doc=cdoc)
                for sku, lot, qty in counts
            ]
            return bodies

        return node.post(close)


def _own_open(node: Node, doc: str) -> pure.StocktakeStatus:
    """The session when it is this store's and not approved yet; else NodeError."""
    session = status(node, doc)
    here = node.config.location
    if session.location != here:
        raise NodeError(
            "{doc} is a stocktake of {location}, not of this store {here}: open one here",
            doc=doc,
            location=session.location,
            here=here,
        )
    if session.approvals:
        first = session.approvals[0]
        raise NodeError(
            "stocktake {doc} is already approved by {approver} at {at} ({close}): "
            "open a new stocktake to count again",
            doc=doc,
            approver=first.approved_by,
            at=at_text(first.position[0]),
            close=first.doc,
        )
    return session


def _scope_skus(node: Node, session: pure.StocktakeStatus) -> set[str] | None:
    """The SKUs a session counts, or None for the whole store."""
    if session.skus is not None:
        return set(session.skus)
    if session.category is not None:
        return {
            p.sku
            for p in node.read.products()
            if node.read.master_fields("product", p.sku).get("category") == session.category
        }
    return None


def parse_lines(node: Node, items: Sequence[str]) -> list[Counted]:
    """["A1=3", "RICE=1.250:L7"] -> counted lines; the code may be a barcode or GS1 string."""
    out = []
    for item in items:
        code, sep, rest = item.partition("=")
        qty, _, lot = rest.partition(":")
        if not sep or not code or not qty:
            raise NodeError(
                "{item!r}: write each line as SKU=QTY[:LOT], e.g. A1=3 or A1=2:L1", item=item
            )
        sku, code_lot, _ = _identify(node, code)
        milli = node._quantity(qty, node.product(sku), allow_zero=True)
        out.append(Counted(sku, milli, lot or code_lot))
    return out


def parse_scan(node: Node, text: str, weight: int | None = None) -> Counted:
    """One scan at the till: `CODE` counts one (or the scale's `weight`, milli-kg, for a
    product sold by weight), `CODE QTY` counts QTY; GS1 codes carry their lot."""
    parts = text.split()
    if not parts or len(parts) > 2:
        raise NodeError("{text!r}: scan a code, or type CODE QTY, e.g. 6901234567892 3", text=text)
    from node.counter import identify  # the till's reading of a code: PLU, weighed labels

    found = identify(node, parts[0])
    product, sku, lot = found.product, found.product.sku, found.lot
    if len(parts) == 2:
        qty = node._quantity(parts[1], product, allow_zero=False)
    elif found.qty_milli is not None:
        qty = found.qty_milli
    elif product.unit != "pcs" and weight is not None:
        qty = weight
    else:
        qty = 1000
    return Counted(sku, qty, lot)


def session_or_current(node: Node, doc: str | None) -> str:
    """`doc`, or this store's open session when none is given."""
    if doc:
        return doc
    found = current(node)
    if found is None:
        raise NodeError(
            "no stocktake is open at {location}: open one first", location=node.config.location
        )
    return found.doc


def close_variance(node: Node, approval: pure.Approval) -> dict[pure.Key, int]:
    """The variance (milli-units) each Count of one close carried when folded: the first
    close carries the stocktake's variance, a second one zero where the two agree."""
    variances = node.read.variances()
    _, origin, seq = approval.position
    header = node.read.document_header(approval.doc)
    lines = header.lines if header is not None else []
    return {
        (line.sku, line.lot): variances.get((origin, seq + i), 0)
        for i, line in enumerate(lines, start=1)
    }


def variance_value(rows: Sequence[pure.ReviewLine]) -> int:
    """The total variance at cost (fen) of the counted lines."""
    return sum(r.value or 0 for r in rows)


class Counting:
    """One clerk's count at a till, without any UI: the session joined, the place being
    counted and what was scanned there so far; `finish` posts it as a tally."""

    def __init__(self, node: Node, user: str, post_every: int | None = None) -> None:
        self.node = node
        self.user = user
        self.doc: str | None = None
        self.place = ""
        #: what was scanned at the place, per SKU/lot, in the order first scanned
        self.lines: dict[pure.Key, int] = {}
        #: post the place so far every N scans (a till that dies loses at most N − 1):
        #: safe, because the clerk's latest tally of a place replaces the earlier ones
        self.post_every = post_every
        self.scans = 0

    def _acting(self) -> Node:
        self.node.user = self.user
        return self.node

    def join(self, open_new: bool = True) -> tuple[str, bool] | None:
        """Join this store's open session, or open one for the whole store: (doc, opened).
        With `open_new` False only join: None when no session is open (looking at the
        screen must not start a stocktake)."""
        node = self._acting()
        found = current(node)
        if found is not None:
            self.doc = found.doc
            return found.doc, False
        if not open_new:
            return None
        (event,) = open_stocktake(node)
        self.doc = f"{node.config.node}-{event.seq}"
        return self.doc, True

    def choose_place(self, place: str) -> str:
        """Start counting a place; what was scanned at the previous one and not finished
        is dropped (the caller asks first)."""
        place = place.strip()
        if not place:
            raise NodeError("name the place you counted, e.g. shelf or back store")
        self.place, self.lines, self.scans = place, {}, 0
        return place

    def scan(self, text: str, weight: int | None = None) -> tuple[pure.Key, int]:
        """Count what a scan names at the current place: (SKU/lot, its figure now)."""
        if not self.place:
            raise NodeError("name the place you counted, e.g. shelf or back store")
        counted = parse_scan(self._acting(), text, weight)
        key = (counted.sku, counted.lot)
        self.lines[key] = self.lines.get(key, 0) + counted.qty
        self.scans += 1
        if self.post_every and self.scans % self.post_every == 0:
            self._post()
        return key, self.lines[key]

    def _post(self) -> str:
        doc = session_or_current(self._acting(), self.doc)
        lines = [Counted(sku, qty, lot) for (sku, lot), qty in self.lines.items()]
        (event,) = tally(self.node, doc, self.place, lines)
        return f"{self.node.config.node}-{event.seq}"

    def finish(self) -> str:
        """Post the place as a tally (it replaces this clerk's earlier one of the place)."""
        if not self.place:
            raise NodeError("name the place you counted, e.g. shelf or back store")
        posted = self._post()
        self.lines, self.scans = {}, 0
        return posted

    def status(self) -> pure.StocktakeStatus:
        return status(self._acting(), session_or_current(self.node, self.doc))

    def review(self) -> list[pure.ReviewLine]:
        return review(self._acting(), session_or_current(self.node, self.doc))

    def approve(self, approver: str | None = None, pin: str | None = None) -> str:
        """Approve the session: the close's document id."""
        events = approve(self._acting(), session_or_current(self.node, self.doc), approver, pin)
        return f"{self.node.config.node}-{events[0].seq}"
