"""The receiving and transfers screens' texts in zh-CN and English; the language comes
from KUCUN_LANG (default zh-CN), as everywhere else."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    # choosing a document
    "receiving_title": {"zh-CN": "入库：待收采购订单", "en": "Receiving: open purchase orders"},
    "transfers_title": {"zh-CN": "调拨：待收调入单", "en": "Transfers: coming to this store"},
    "choose_prompt": {
        "zh-CN": "选择单据后回车，或输入单号",
        "en": "Pick a document and press Enter, or type its number",
    },
    "no_orders": {
        "zh-CN": "没有待收的采购订单。F3 无订单收货",
        "en": "No open purchase order. F3 receives without one",
    },
    "no_inbound": {
        "zh-CN": "没有调入本店的在途调拨。F3 发货调出",
        "en": "No transfer on its way here. F3 ships one",
    },
    "col_doc": {"zh-CN": "单号", "en": "Document"},
    "col_party": {"zh-CN": "来自", "en": "From"},
    "col_lines": {"zh-CN": "行数", "en": "Lines"},
    "col_status": {"zh-CN": "状态", "en": "Status"},
    # counting
    "po_title": {"zh-CN": "收货 {doc}  供应商 {party}", "en": "Receiving {doc}  from {party}"},
    "blind_title": {"zh-CN": "无订单收货  供应商 {party}", "en": "No-order receipt  from {party}"},
    "ship_title": {"zh-CN": "调拨发货  发往 {party}", "en": "Shipping a transfer to {party}"},
    "inbound_title": {
        "zh-CN": "调入收货 {doc}  来自 {party}",
        "en": "Receiving {doc}  from {party}",
    },
    "recount_title": {
        "zh-CN": "复点中：只扫描标 ? 的行，F5 比对",
        "en": "Re-count: scan only the lines marked ?, F5 to compare",
    },
    "scan_prompt": {
        "zh-CN": "扫码，或输入 编码 [数量 [批号 [有效期]]]",
        "en": "Scan, or type CODE [QTY [LOT [EXPIRY]]]",
    },
    "col_sku": {"zh-CN": "编码", "en": "SKU"},
    "col_name": {"zh-CN": "商品", "en": "Item"},
    "col_expected_po": {"zh-CN": "订购", "en": "Ordered"},
    "col_expected_transfer": {"zh-CN": "发货", "en": "Shipped"},
    "col_scanned": {"zh-CN": "已扫", "en": "Scanned"},
    "col_diff": {"zh-CN": "差异", "en": "Diff"},
    "col_recount": {"zh-CN": "复点", "en": "Recount"},
    "col_cost": {"zh-CN": "成本", "en": "Cost"},
    "summary": {
        "zh-CN": "{lines} 行  多收 {over}  少收 {under}  待复核 {waiting}",
        "en": "{lines} lines  over {over}  under {under}  to check {waiting}",
    },
    "summary_ship": {"zh-CN": "{lines} 行  共 {qty}", "en": "{lines} lines  {qty} in all"},
    "counted": {"zh-CN": "已清点：{name} +{qty}", "en": "Counted: {name} +{qty}"},
    "recounted": {"zh-CN": "复点：{name} +{qty}", "en": "Re-counted: {name} +{qty}"},
    "weighing": {"zh-CN": "称重中…请放稳", "en": "Weighing… keep it still"},
    "recount_started": {
        "zh-CN": "请独立复点这些行：{skus}",
        "en": "Count these lines again, independently: {skus}",
    },
    "recount_agrees": {
        "zh-CN": "复点一致：{skus}，可以过账",
        "en": "The re-count agrees: {skus}; ready to post",
    },
    "recount_differs": {
        "zh-CN": "复点不一致：{skus}，以复点为准，请再点一次",
        "en": "The re-count differs: {skus}; it replaces the first count, count again",
    },
    "recount_left": {
        "zh-CN": "已退出复点，未作比对",
        "en": "Re-count left without comparing",
    },
    "nothing_differs": {
        "zh-CN": "所有行与单据一致，无需经理确认：F12 过账",
        "en": "Every line matches: no manager needed, F12 posts",
    },
    "posted_receipt": {"zh-CN": "已过账收货单 {doc}", "en": "Receipt {doc} posted"},
    "posted_transfer": {
        "zh-CN": "已发货调拨单 {doc}，货品在途",
        "en": "Transfer {doc} shipped: the goods are in transit",
    },
    "post_ask": {"zh-CN": "过账这张单据？", "en": "Post this document?"},
    "leave_ask": {
        "zh-CN": "放弃已清点的内容并返回？",
        "en": "Drop what was counted and go back?",
    },
    "removed": {"zh-CN": "已删除 {sku}，从零重新清点", "en": "{sku} removed: count it from zero"},
    "no_line": {"zh-CN": "还没有清点任何行", "en": "Nothing counted yet"},
    "ask_supplier": {"zh-CN": "供应商名称", "en": "Supplier's name"},
    "ask_store": {"zh-CN": "发往门店编号", "en": "Destination store id"},
    "stores_known": {"zh-CN": "门店：{stores}", "en": "Stores: {stores}"},
    "ask_cost": {"zh-CN": "{sku} 的单位成本（元）", "en": "Unit cost of {sku} (yuan)"},
    "cost_set": {"zh-CN": "{sku} 成本改为 {cost}", "en": "{sku}: cost set to {cost}"},
    "manager_cost": {"zh-CN": "经理确认：修改成本", "en": "Manager: change a cost"},
    "manager_post": {"zh-CN": "经理确认差异并过账", "en": "Manager: confirm the differences, post"},
    "not_confirmed": {"zh-CN": "未经确认，未作改动", "en": "Not confirmed: nothing changed"},
    # keys
    "key_open": {"zh-CN": "打开", "en": "Open"},
    "key_blind": {"zh-CN": "无单收货", "en": "No order"},
    "key_ship": {"zh-CN": "发货", "en": "Ship"},
    "key_recount": {"zh-CN": "复点", "en": "Recount"},
    "key_cost": {"zh-CN": "改成本", "en": "Cost"},
    "key_remove": {"zh-CN": "删行", "en": "Remove"},
    "key_manager": {"zh-CN": "经理确认", "en": "Manager"},
    "key_post": {"zh-CN": "过账", "en": "Post"},
    "key_back": {"zh-CN": "返回", "en": "Back"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text `key` in `lang` (default: the reader's), its fields filled in."""
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
