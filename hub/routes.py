"""The hub API's one route table: what each route does, reads, sends and allows.

`make_app` (hub/api.py) registers exactly these routes and `openapi.build` describes
exactly these, so a path cannot be served undocumented or documented unserved. Handlers
are plain functions of a decoded `Call`: they call the service and render its answer into
the route's response Struct; decoding, authorising and encoding happen in hub/api.py.
"""

from __future__ import annotations

from hub import routes_lists, routes_master, routes_ops, routes_orders
from hub import schemas as s
from hub.route import ADMIN, BUYING, FINANCE, Call, Query, Route
from hub.service import HubService
from protocol.documents import at_text
from protocol.events import DocLine, Document, ShiftReport
from protocol.units import format_money, format_qty, line_total

__all__ = ["ROUTES", "Call", "Query", "Route"]

#: who may order for, set reorder points of, and correct the stock of a store
STORE_BUYING = BUYING | {"store_manager"}
STORE_FINANCE = FINANCE | {"store_manager"}


# ---- handlers --------------------------------------------------------------------------


def healthz(call: Call[None]) -> s.Healthz:
    health = call.hub.health()
    return s.Healthz(
        status="ok", origins=health.origins, folded=health.folded, unfolded=health.unfolded
    )


def get_document(call: Call[None]) -> s.DocumentOut:
    header = call.hub.document_header(call.path["doc"])
    call.require(header.location)
    status = call.hub.document(call.path["doc"])
    lines = [
        s.DocumentLine(
            sku=line.sku,
            expected=format_qty(line.expected),
            done=format_qty(line.done),
            shipped=format_qty(line.shipped),
            discrepancy=format_qty(line.discrepancy),
        )
        for line in status.lines
    ]
    receipts = [
        s.DocumentReceipt(
            doc=r.doc,
            origin=r.origin,
            user=r.user,
            at=r.at,
            lines=[_receipt_line(x) for x in r.lines],
            approved_by=r.approved_by,
            recounted=r.recounted,
            reversed_by=r.reversed_by,
        )
        for r in status.receipts
    ]
    alerts = [s.DocumentAlert(kind=a.kind, message=a.message) for a in status.alerts]
    return s.DocumentOut(
        doc=status.doc,
        type=status.type,
        status=status.status,
        lines=lines,
        receipts=receipts,
        alerts=alerts,
        shift_report=_shift_report(header.report) if header.report is not None else None,
        shift=header.shift or (header.ref if header.type == "z_report" else None),
        stocktake=_stocktake(call.hub, header) if header.type == "stocktake" else None,
    )


def _stocktake(hub: HubService, header: Document) -> s.StocktakeOut:
    status, closes = hub.stocktake(header)

    def approved(line: DocLine) -> s.ApprovedLine:
        cost = hub.unit_cost(header.location, line.sku) if line.variance is not None else None
        return s.ApprovedLine(
            sku=line.sku,
            lot=line.lot,
            counted=format_qty(line.qty),
            variance=None if line.variance is None else format_qty(line.variance),
            value=None
            if cost is None or line.variance is None
            else format_money(line_total(line.variance, cost)),
        )

    return s.StocktakeOut(
        status=status.status,
        skus=status.skus,
        category=status.category,
        counted=[
            s.CountedLine(sku=sku, lot=lot, qty=format_qty(qty))
            for (sku, lot), qty in sorted(
                status.counted.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
            )
        ],
        places=[
            s.PlaceCountOut(user=p.user, place=p.place, sku=p.sku, lot=p.lot, qty=format_qty(p.qty))
            for p in status.places
        ],
        approvals=[
            s.StocktakeApproval(
                doc=a.doc,
                approved_by=a.approved_by,
                origin=a.position[1],
                at=at_text(a.position[0]),
                lines=[approved(line) for line in closes[a.doc].lines] if a.doc in closes else [],
            )
            for a in status.approvals
        ],
        alert=status.alert,
    )


def _shift_report(report: ShiftReport) -> s.ShiftReportOut:
    money = format_money
    return s.ShiftReportOut(
        number=report.number,
        sales=report.sales,
        sales_total=money(report.sales_total),
        returns=report.returns,
        returns_total=money(report.returns_total),
        voids=report.voids,
        voids_total=money(report.voids_total),
        discounts_total=money(report.discounts_total),
        tenders=[s.TenderTotal(method=t.method, amount=money(t.amount)) for t in report.tenders],
        cash_float=money(report.cash_float),
        cash_sales=money(report.cash_sales),
        cash_refunds=money(report.cash_refunds),
        expected_cash=money(report.expected_cash),
        counted_cash=None if report.counted_cash is None else money(report.counted_cash),
        variance=None if report.variance is None else money(report.variance),
        cashiers=[
            s.CashierTotal(
                user=c.user,
                sales=c.sales,
                sales_total=money(c.sales_total),
                returns=c.returns,
                returns_total=money(c.returns_total),
            )
            for c in report.cashiers
        ],
    )


def _receipt_line(line: DocLine) -> s.ReceiptLine:
    return s.ReceiptLine(
        sku=line.sku,
        qty=format_qty(line.qty),
        unit_cost=None if line.unit_cost is None else format_money(line.unit_cost),
        lot=line.lot,
        expiry=line.expiry,
    )


def post_purchase_order(call: Call[s.PurchaseOrderIn]) -> s.DocCreated:
    call.require(call.body.location)
    return s.DocCreated(doc=call.hub.order(call.body, call.user))


def post_user(call: Call[s.UserIn]) -> s.UserCreated:
    return s.UserCreated(user=call.body.user, seq=call.hub.put_user(call.body, call.user).seq)


def post_correction(call: Call[s.CorrectionIn]) -> s.DocCreated:
    call.require(call.body.location)
    return s.DocCreated(doc=call.hub.correct(call.body, call.user))


def get_openapi(call: Call[None]) -> s.OpenApiDocument:
    return call.openapi


# ---- the table -------------------------------------------------------------------------

CORE: tuple[Route, ...] = (
    Route(
        method="GET",
        path="/healthz",
        handler=healthz,
        summary="liveness; per origin the seq ingested and the seq folded",
        response=s.Healthz,
        errors=(),
        roles=None,
    ),
    Route(
        method="POST",
        path="/api/v1/purchase-orders",
        handler=post_purchase_order,
        summary="order for a store",
        body=s.PurchaseOrderIn,
        response=s.DocCreated,
        status=201,
        errors=(400, 401, 403),
        roles=STORE_BUYING,
        scoped=True,
        example={
            "location": "S01",
            "supplier": "ACME",
            "lines": [{"sku": "A1", "qty": "5", "unit_cost": "1.20"}],
        },
    ),
    Route(
        method="POST",
        path="/api/v1/users",
        handler=post_user,
        summary="create or change a user and role",
        body=s.UserIn,
        response=s.UserCreated,
        status=201,
        errors=(400, 401, 403),
        roles=ADMIN,
        example={"user": "li", "name": "Li Na", "role": "cashier"},
    ),
    Route(
        method="POST",
        path="/api/v1/corrections",
        handler=post_correction,
        summary="stock correction at a store",
        body=s.CorrectionIn,
        response=s.DocCreated,
        status=201,
        errors=(400, 401, 403),
        roles=STORE_FINANCE,
        scoped=True,
        example={"location": "S01", "sku": "A1", "qty": "3", "reason": "found behind the shelf"},
    ),
    Route(
        method="GET",
        path="/api/v1/documents/{doc}",
        handler=get_document,
        summary="a document and its derived status",
        response=s.DocumentOut,
        errors=(401, 403, 404),
        scoped=True,
    ),
    Route(
        method="GET",
        path="/api/v1/openapi.json",
        handler=get_openapi,
        summary="this document",
        response=s.OpenApiDocument,
        errors=(),
        roles=None,
    ),
)

#: the whole table: the core reads and writes, then each area's own table
ROUTES: tuple[Route, ...] = (
    CORE + routes_master.ROUTES + routes_lists.ROUTES + routes_orders.ROUTES + routes_ops.ROUTES
)
