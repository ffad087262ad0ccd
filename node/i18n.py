"""UI text in zh-CN and English; the language comes from KUCUN_LANG (default zh-CN).

`t(key)` is a text of the counter's screen; `state_text(state)` a device's state as the
status bar names it. Errors carry their own texts (protocol.i18n, node.errors)."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"zh-CN": "库存 收银台", "en": "kucun counter"},
    "scan_prompt": {
        "zh-CN": "扫码或输入 SKU [数量]，回车结账",
        "en": "Scan or type SKU [qty], Enter to sell",
    },
    "sold": {
        "zh-CN": "已售 {qty} × {sku}，金额 {total}",
        "en": "Sold {qty} × {sku}, total {total}",
    },
    "online": {"zh-CN": "已连接", "en": "online"},
    "offline": {"zh-CN": "离线", "en": "offline"},
    "backlog": {"zh-CN": "待同步 {n} 条", "en": "{n} waiting to sync"},
    "unconfirmed": {"zh-CN": "总部未确认 {n} 条", "en": "{n} not yet confirmed by hub"},
    "weighing": {"zh-CN": "称重中…请放稳", "en": "Weighing… keep it still"},
    "scanner": {"zh-CN": "扫码枪", "en": "scanner"},
    "scale": {"zh-CN": "电子秤", "en": "scale"},
    "stock": {"zh-CN": "库存", "en": "Stock"},
    "location": {"zh-CN": "位置", "en": "Location"},
    "sku": {"zh-CN": "商品", "en": "SKU"},
    "name": {"zh-CN": "名称", "en": "Name"},
    "qty": {"zh-CN": "数量", "en": "Qty"},
    "empty_input": {"zh-CN": "请扫码或输入 SKU", "en": "Scan a code or type a SKU"},
}


#: a device's state (devices.port.PortState and the words a status bar adds) for people
STATES: dict[str, dict[str, str]] = {
    "connecting": {"zh-CN": "连接中", "en": "connecting"},
    "ready": {"zh-CN": "就绪", "en": "ready"},
    "error": {"zh-CN": "故障", "en": "error"},
    "disconnected": {"zh-CN": "已断开", "en": "disconnected"},
    "closed": {"zh-CN": "已关闭", "en": "closed"},
    "offline": {"zh-CN": "离线", "en": "offline"},
    "online": {"zh-CN": "在线", "en": "online"},
    "absent": {"zh-CN": "未配置", "en": "not configured"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text


def state_text(state: object, lang: str | None = None) -> str:
    """A device state (a `PortState` or its value, e.g. "ready") in `lang` (default: the
    reader's); a state this table does not know is shown as it is."""
    name = str(getattr(state, "value", state))
    texts = STATES.get(name)
    return texts[lang or language()] if texts else name
