"""UI text in zh-CN and English; the language comes from KUCUN_LANG (default zh-CN)."""

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


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
