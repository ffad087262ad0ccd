"""The stocktake screen's UI texts in zh-CN and English (KUCUN_LANG, default zh-CN)."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "title": {
        "zh-CN": "盘点 {doc}  位置：{place}  {user}",
        "en": "Stocktake {doc}  place: {place}  {user}",
    },
    "no_session": {"zh-CN": "（未开始）", "en": "(none)"},
    "none_open": {
        "zh-CN": "本店没有进行中的盘点：按 F2 开始全店盘点",
        "en": "No stocktake is open here: F2 starts one for the whole store",
    },
    "no_place": {"zh-CN": "（未选）", "en": "(none)"},
    "prompt": {
        "zh-CN": "扫码或输入 编码 [数量]，回车计数",
        "en": "Scan or type CODE [QTY], Enter counts",
    },
    "col_item": {"zh-CN": "商品", "en": "Item"},
    "col_lot": {"zh-CN": "批号", "en": "Lot"},
    "col_qty": {"zh-CN": "本处数量", "en": "Counted"},
    "col_expected": {"zh-CN": "账面", "en": "Expected"},
    "col_counted": {"zh-CN": "实盘", "en": "Counted"},
    "col_variance": {"zh-CN": "差异", "en": "Variance"},
    "col_value": {"zh-CN": "差异金额", "en": "Value"},
    "joined": {
        "zh-CN": "已加入盘点 {doc}：请按 F3 选位置",
        "en": "Joined stocktake {doc}: F3 to choose the place",
    },
    "opened": {
        "zh-CN": "已新开全店盘点 {doc}：请按 F3 选位置",
        "en": "Opened a whole-store stocktake {doc}: F3 to choose the place",
    },
    "ask_place": {
        "zh-CN": "盘点位置（如 货架、仓库）",
        "en": "Place counted (e.g. shelf, back store)",
    },
    "place_chosen": {
        "zh-CN": "正在盘点：{place}；扫码计数，完成后按 F5",
        "en": "Counting {place}: scan, then F5 when done",
    },
    "counted": {"zh-CN": "{name}：本处 {qty}", "en": "{name}: {qty} here"},
    "weighing": {"zh-CN": "称重中…请放稳", "en": "Weighing… keep it still"},
    "finished": {
        "zh-CN": "{place} 已提交（{tally}）：可选下一个位置（F3）",
        "en": "{place} posted ({tally}): F3 for the next place",
    },
    "review": {
        "zh-CN": "复核：{counted} 行已盘，{missing} 行未盘，差异金额 {value}",
        "en": "Review: {counted} counted, {missing} not counted, variance {value}",
    },
    "review_places": {"zh-CN": "谁盘了哪里：{who}", "en": "Who counted where: {who}"},
    "approved": {
        "zh-CN": "盘点已批准（{close}）：库存已按实盘更新",
        "en": "Stocktake approved ({close}): stock set to the count",
    },
    "approval_title": {"zh-CN": "经理批准盘点", "en": "A manager approves the stocktake"},
    "not_approved": {
        "zh-CN": "未批准：盘点仍在进行",
        "en": "Not approved: the stocktake stays open",
    },
    "not_allowed": {
        "zh-CN": "{user} 无权盘点：请用店员或经理登录",
        "en": "{user} may not count: log in as a clerk or manager",
    },
    "key_join": {"zh-CN": "开始", "en": "Start"},
    "key_place": {"zh-CN": "位置", "en": "Place"},
    "key_finish": {"zh-CN": "完成位置", "en": "Finish"},
    "key_review": {"zh-CN": "复核", "en": "Review"},
    "key_approve": {"zh-CN": "批准", "en": "Approve"},
    "key_back": {"zh-CN": "返回", "en": "Back"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text `key` in `lang` (default: the reader's), its fields filled in."""
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
