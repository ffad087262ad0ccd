"""The picks screen's UI texts (线上订单) in zh-CN and English (the reader's language)."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "picks_title": {"zh-CN": "线上订单：待拣货 {count} 单", "en": "Online orders: {count} to pick"},
    "col_order": {"zh-CN": "订单", "en": "Order"},
    "col_kind": {"zh-CN": "方式", "en": "How"},
    "col_customer": {"zh-CN": "顾客", "en": "Customer"},
    "col_status": {"zh-CN": "状态", "en": "Status"},
    "col_lines": {"zh-CN": "商品", "en": "Lines"},
    "pickup": {"zh-CN": "自提", "en": "pickup"},
    "delivery": {"zh-CN": "配送", "en": "delivery"},
    "routed": {"zh-CN": "待拣货", "en": "to pick"},
    "picking": {"zh-CN": "拣货中", "en": "picking"},
    "short": {"zh-CN": "缺货", "en": "short"},
    "none": {"zh-CN": "没有待拣货的线上订单", "en": "No online orders to pick"},
    "hint": {
        "zh-CN": "回车：拣货并放入购物篮；F4：登记缺货",
        "en": "Enter: pick it into the basket; F4: record what is short",
    },
    "started": {
        "zh-CN": "已开始拣货 {doc}（{pick}）：交给收银员结账",
        "en": "Picking {doc} ({pick}): a cashier sells it",
    },
    "loaded": {
        "zh-CN": "订单 {doc} 已放入购物篮：收款即完成",
        "en": "Order {doc} is in the basket: take the payment to hand it over",
    },
    "short_prompt": {
        "zh-CN": "缺货的商品和数量，例如 A1=1 B2=0.500",
        "en": "What is short, e.g. A1=1 B2=0.500",
    },
    "shorted": {"zh-CN": "{doc}：已登记缺货（{short}）", "en": "{doc}: short recorded ({short})"},
    "key_pick": {"zh-CN": "拣货", "en": "Pick"},
    "key_short": {"zh-CN": "缺货", "en": "Short"},
    "key_refresh": {"zh-CN": "刷新", "en": "Refresh"},
    "key_back": {"zh-CN": "返回", "en": "Back"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
