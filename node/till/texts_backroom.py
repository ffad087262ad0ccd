"""The back-room menu's UI texts in zh-CN and English (the reader's language, KUCUN_LANG)."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "backroom_title": {"zh-CN": "后台作业", "en": "Back room"},
    "backroom_hint": {
        "zh-CN": "选择作业；扫码直接查商品",
        "en": "Choose a task; scan a code to look it up",
    },
    "task_lookup": {
        "zh-CN": "查商品：库存、批次、价格、其他门店",
        "en": "Look up: stock, lots, price, other stores",
    },
    "task_receive": {
        "zh-CN": "收货入库：按采购单或无单收货",
        "en": "Receive: against an order or blind",
    },
    "task_transfers": {"zh-CN": "调拨：发出与接收", "en": "Transfers: ship and receive"},
    "task_stocktake": {
        "zh-CN": "盘点：多人分区清点、审核",
        "en": "Stocktake: count by place, review",
    },
    "task_alerts": {
        "zh-CN": "预警：负库存、补货、临期、差异",
        "en": "Alerts: negative, reorder, expiry",
    },
    "task_picks": {
        "zh-CN": "线上订单：拣货、缺货",
        "en": "Picks: online orders to pick",
    },
    "task_sell": {"zh-CN": "返回收银", "en": "Back to the till"},
    "key_lookup": {"zh-CN": "查询", "en": "Lookup"},
    "key_receive": {"zh-CN": "收货", "en": "Receive"},
    "key_transfers": {"zh-CN": "调拨", "en": "Transfers"},
    "key_stocktake": {"zh-CN": "盘点", "en": "Stocktake"},
    "key_alerts": {"zh-CN": "预警", "en": "Alerts"},
    "key_picks": {"zh-CN": "线上订单", "en": "Picks"},
    "key_back": {"zh-CN": "返回", "en": "Back"},
    "not_allowed": {
        "zh-CN": "{name}（{role}）无权进行此作业：请找店长",
        "en": "{name} ({role}) may not do this: ask a manager",
    },
    "no_selling": {
        "zh-CN": "{name}（{role}）不能收银：后台作业请选 F2–F7",
        "en": "{name} ({role}) does not sell: choose a task, F2–F7",
    },
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
