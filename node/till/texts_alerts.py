"""The alerts screen's texts and the status bar's alert count, in zh-CN and English (the
language comes from KUCUN_LANG, default zh-CN, as everywhere else)."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "title": {
        "zh-CN": "提醒 · {filter} · 共{n}条，{open}条未确认",
        "en": "Alerts · {filter} · {n}, {open} not acknowledged",
    },
    "filter_all": {"zh-CN": "全部", "en": "all"},
    "filter_sku": {"zh-CN": "{kind} · 商品 {sku}", "en": "{kind} · product {sku}"},
    "prompt": {
        "zh-CN": "扫码或输入 SKU 只看该商品；空行回车确认所选提醒",
        "en": "Scan or type a SKU to see its alerts; Enter on an empty line acknowledges",
    },
    "col_kind": {"zh-CN": "类别", "en": "Kind"},
    "col_sku": {"zh-CN": "商品", "en": "SKU"},
    "col_since": {"zh-CN": "时间", "en": "Since"},
    "col_ack": {"zh-CN": "确认", "en": "Ack"},
    "col_message": {"zh-CN": "内容", "en": "Message"},
    "not_acked": {"zh-CN": "未确认", "en": "open"},
    "acked_by": {
        "zh-CN": "已由 {user} 于 {at} 确认{note}",
        "en": "Acknowledged by {user} at {at}{note}",
    },
    "none": {"zh-CN": "没有提醒", "en": "No alerts"},
    "none_shown": {
        "zh-CN": "此筛选下没有提醒：按 F4 换类别",
        "en": "None of this kind: F4 shows another",
    },
    "acked": {"zh-CN": "已确认：{doc}", "en": "Acknowledged: {doc}"},
    "already": {"zh-CN": "这条提醒已确认过", "en": "This alert was acknowledged already"},
    "ask_note": {
        "zh-CN": "确认备注（可空），回车确认",
        "en": "A note for the acknowledgement (may be empty), Enter",
    },
    "key_ack": {"zh-CN": "确认", "en": "Acknowledge"},
    "key_note": {"zh-CN": "备注确认", "en": "Ack + note"},
    "key_filter": {"zh-CN": "类别", "en": "Kind"},
    "key_refresh": {"zh-CN": "刷新", "en": "Refresh"},
    "key_back": {"zh-CN": "返回", "en": "Back"},
    # the kinds, short: a table column of 10 cells
    "kind_negative_stock": {"zh-CN": "负库存", "en": "negative"},
    "kind_below_reorder": {"zh-CN": "需补货", "en": "reorder"},
    "kind_expiring": {"zh-CN": "临期", "en": "expiring"},
    "kind_receipt_discrepancy": {"zh-CN": "收货差异", "en": "receipt"},
    "kind_transfer_discrepancy": {"zh-CN": "调拨差异", "en": "transfer"},
    "kind_received_twice": {"zh-CN": "重复收货", "en": "twice"},
    "kind_backlog": {"zh-CN": "积压未传", "en": "backlog"},
    "kind_clock_skew": {"zh-CN": "时钟偏差", "en": "clock"},
    "kind_lot_mismatch": {"zh-CN": "批次不符", "en": "lot"},
    "kind_ledger": {"zh-CN": "账本", "en": "ledger"},
    # the status bar's part: short on purpose
    "status_alerts": {"zh-CN": "提醒{n}", "en": "{n} alerts"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
