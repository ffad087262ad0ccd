"""The lookup screen's texts (F2) in zh-CN and English; the language comes from KUCUN_LANG
(default zh-CN), as everywhere else."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "prompt": {
        "zh-CN": "编码、条码、名称或拼音（如 pg 找 苹果）",
        "en": "SKU, barcode, name or pinyin (pg finds 苹果)",
    },
    "col_sku": {"zh-CN": "编码", "en": "SKU"},
    "col_name": {"zh-CN": "商品", "en": "Item"},
    "col_price": {"zh-CN": "售价", "en": "Price"},
    "found": {"zh-CN": "找到 {count} 个商品", "en": "{count} products found"},
    "none_found": {
        "zh-CN": "没有找到“{query}”：换个写法或扫条码",
        "en": "Nothing found for {query!r}: try another spelling or scan the barcode",
    },
    "nothing_chosen": {
        "zh-CN": "请在左边选一个商品（↑↓）",
        "en": "Choose a product on the left (↑↓)",
    },
    "price": {"zh-CN": "售价 {price}", "en": "Price {price}"},
    "no_price": {"zh-CN": "未定价", "en": "no price"},
    "barcode": {"zh-CN": "条码 {barcode}", "en": "Barcode {barcode}"},
    "here": {"zh-CN": "本店库存 {qty} {unit}", "en": "Here: {qty} {unit}"},
    "lot": {
        "zh-CN": "  批次 {lot}  到期 {expiry}  {qty}",
        "en": "  Lot {lot}  exp {expiry}  {qty}",
    },
    "lot_none": {"zh-CN": "  （无批次）{qty}", "en": "  (no lot) {qty}"},
    "no_lot": {"zh-CN": "无批次", "en": "no lot"},
    "no_expiry": {"zh-CN": "—", "en": "—"},
    "others": {"zh-CN": "各店库存", "en": "Other stores"},
    "others_now": {"zh-CN": "各店库存（总部 {time}）", "en": "Other stores (hub, {time})"},
    "others_as_of": {
        "zh-CN": "各店库存（离线，截至 {time}）",
        "en": "Other stores (offline, as of {time})",
    },
    "others_asking": {"zh-CN": "正在询问总部…", "en": "Asking the hub…"},
    "others_unknown": {
        "zh-CN": "总部未回应：联网后按 F5 再问",
        "en": "No answer from the hub: F5 asks again",
    },
    "others_offline": {
        "zh-CN": "离线：联网后按 F5 询问各店库存",
        "en": "Offline: press F5 when online to ask the other stores",
    },
    "others_none": {"zh-CN": "  各店都没有", "en": "  none anywhere"},
    "store_qty": {"zh-CN": "  {store}  {qty}", "en": "  {store}  {qty}"},
    "this_store": {"zh-CN": "（本店）", "en": " (here)"},
    "moves": {"zh-CN": "最近变动", "en": "Last movements"},
    "no_moves": {"zh-CN": "  暂无", "en": "  none yet"},
    "move": {"zh-CN": "  {time} {what} {qty} → {after}", "en": "  {time} {what} {qty} → {after}"},
    "picked_hint": {
        "zh-CN": "回车：选这个商品加入购物篮",
        "en": "Enter: put this product in the basket",
    },
    "not_allowed": {
        "zh-CN": "你无权查询商品：请经理开通权限",
        "en": "You may not look products up: ask a manager",
    },
    # document types, as a clerk calls them
    "doc_sale": {"zh-CN": "销售", "en": "sale"},
    "doc_receipt": {"zh-CN": "入库", "en": "receipt"},
    "doc_transfer": {"zh-CN": "调拨", "en": "transfer"},
    "doc_count": {"zh-CN": "盘点", "en": "count"},
    "doc_stocktake": {"zh-CN": "盘点", "en": "stocktake"},
    "doc_return": {"zh-CN": "退货", "en": "return"},
    "doc_reversal": {"zh-CN": "冲销", "en": "reversal"},
    "doc_void": {"zh-CN": "作废", "en": "void"},
    "doc_other": {"zh-CN": "变动", "en": "change"},
    "unit_pcs": {"zh-CN": "件", "en": "pcs"},
    "unit_kg": {"zh-CN": "公斤", "en": "kg"},
    # keys
    "key_close": {"zh-CN": "返回", "en": "Back"},
    "key_ask": {"zh-CN": "问各店", "en": "Ask stores"},
    "key_pick": {"zh-CN": "选定", "en": "Choose"},
    "key_search": {"zh-CN": "搜索", "en": "Search"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text


def doc_kind(doc_type: str | None, lang: str | None = None) -> str:
    """What a clerk calls a document type (a movement's reason)."""
    key = f"doc_{doc_type}"
    return t(key if key in MESSAGES else "doc_other", lang)
