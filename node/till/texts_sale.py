"""The selling screens' UI texts (sale, pay, returns, shift, approval, confirm) in zh-CN and
English; the language comes from KUCUN_LANG (default zh-CN), as everywhere else."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    # sale screen
    "sale_prompt": {
        "zh-CN": "扫码或输入 编码 [数量]，回车加入",
        "en": "Scan or type CODE [QTY], Enter",
    },
    "col_no": {"zh-CN": "#", "en": "#"},
    "key_backroom": {"zh-CN": "后台", "en": "Back room"},
    "col_name": {"zh-CN": "商品", "en": "Item"},
    "col_qty": {"zh-CN": "数量", "en": "Qty"},
    "col_price": {"zh-CN": "单价", "en": "Price"},
    "col_discount": {"zh-CN": "优惠", "en": "Off"},
    "col_total": {"zh-CN": "金额", "en": "Total"},
    "total": {"zh-CN": "合计 {total}", "en": "Total {total}"},
    "totals": {
        "zh-CN": "{lines} 行  优惠 {discounts}  应收 {total}",
        "en": "{lines} lines  discounts {discounts}  to pay {total}",
    },
    "no_lines": {
        "zh-CN": "购物篮是空的：请先扫码",
        "en": "The basket is empty: scan a product first",
    },
    "added": {"zh-CN": "已加入：{name} × {qty}", "en": "Added: {name} × {qty}"},
    "weighing": {"zh-CN": "称重中…请放稳", "en": "Weighing… keep it still"},
    "removed": {"zh-CN": "已删除第 {line} 行", "en": "Line {line} removed"},
    "qty_changed": {"zh-CN": "第 {line} 行数量已改", "en": "Line {line}: quantity changed"},
    "discounted": {"zh-CN": "第 {line} 行已优惠", "en": "Line {line}: discount given"},
    "price_changed": {"zh-CN": "第 {line} 行已改价", "en": "Line {line}: price changed"},
    "cancelled": {"zh-CN": "已取消本单", "en": "Basket cancelled"},
    "suspended": {"zh-CN": "已挂单 {number}", "en": "Basket parked as {number}"},
    "resumed": {"zh-CN": "已取回挂单 {number}", "en": "Parked basket {number} resumed"},
    "no_suspended": {"zh-CN": "没有挂单", "en": "No parked basket"},
    "sold": {
        "zh-CN": "已收款 小票 {doc}  找零 {change}",
        "en": "Paid, receipt {doc}  change {change}",
    },
    "returned": {"zh-CN": "已退款 {refund}  单号 {doc}", "en": "Refunded {refund}, doc {doc}"},
    "voided": {"zh-CN": "已作废 {ref}，退款 {refund}", "en": "Voided {ref}, refunded {refund}"},
    "reprinted": {"zh-CN": "已重打小票", "en": "Receipt reprinted"},
    "no_printer": {"zh-CN": "未配置打印机：小票仅显示", "en": "No printer: receipt shown only"},
    "approved": {"zh-CN": "{approver} 已授权", "en": "Approved by {approver}"},
    "not_approved": {"zh-CN": "未授权，操作未执行", "en": "Not approved: nothing was done"},
    "shift_none": {"zh-CN": "未开班", "en": "no shift"},
    # keys (footer)
    "key_lookup": {"zh-CN": "查询", "en": "Lookup"},
    "key_return": {"zh-CN": "退货", "en": "Return"},
    "key_suspend": {"zh-CN": "挂单", "en": "Park"},
    "key_qty": {"zh-CN": "数量", "en": "Qty"},
    "key_discount": {"zh-CN": "优惠", "en": "Disc."},
    "key_void_line": {"zh-CN": "删行", "en": "Void"},
    "key_price": {"zh-CN": "改价", "en": "Price"},
    "key_shift": {"zh-CN": "班次", "en": "Shift"},
    "key_reprint": {"zh-CN": "重打", "en": "Reprint"},
    "key_pay": {"zh-CN": "结账", "en": "Pay"},
    "key_cancel": {"zh-CN": "取消", "en": "Cancel"},
    "key_close": {"zh-CN": "关闭", "en": "Close"},
    "key_ok": {"zh-CN": "确定", "en": "OK"},
    "key_void_sale": {"zh-CN": "整单作废", "en": "Void sale"},
    # line edits (a small prompt)
    "ask_qty": {"zh-CN": "第 {line} 行 新数量：", "en": "Line {line}, new quantity:"},
    "ask_discount": {
        "zh-CN": "第 {line} 行 优惠金额（元）：",
        "en": "Line {line}, discount (yuan):",
    },
    "ask_price": {
        "zh-CN": "第 {line} 行 新单价（元）：",
        "en": "Line {line}, new unit price (yuan):",
    },
    "ask_enter": {"zh-CN": "回车确定，Esc 取消", "en": "Enter to confirm, Esc to cancel"},
    # confirm
    "confirm_cancel": {
        "zh-CN": "取消本单？商品将全部清空。",
        "en": "Cancel this basket? All lines go.",
    },
    "confirm_yes": {"zh-CN": "是 (Y)", "en": "Yes (Y)"},
    "confirm_no": {"zh-CN": "否 (N)", "en": "No (N)"},
    "beyond_stock": {
        "zh-CN": "{name}：售 {wanted}，账上库存只有 {held}",
        "en": "{name}: selling {wanted}, the ledger holds {held}",
    },
    "beyond_stock_ask": {
        "zh-CN": "货架上确实有货吗？确认后照常销售并记录。",
        "en": "Is it really on the shelf? Confirm to sell and record it.",
    },
    # approval
    "approval_title": {"zh-CN": "经理授权：{action}", "en": "Manager approval: {action}"},
    "approver_id": {"zh-CN": "经理工号", "en": "Manager id"},
    "approver_pin": {"zh-CN": "密码", "en": "PIN"},
    "approval_hint": {
        "zh-CN": "仅授权这一次操作；回车确认，Esc 取消",
        "en": "Covers this one action only; Enter to confirm, Esc to cancel",
    },
    # pay
    "pay_title": {"zh-CN": "结账", "en": "Payment"},
    "pay_total": {"zh-CN": "应收 {total}", "en": "To pay {total}"},
    "pay_remaining": {"zh-CN": "还差 {remaining}", "en": "Remaining {remaining}"},
    "pay_tendered": {"zh-CN": "已收 {tendered}", "en": "Tendered {tendered}"},
    "pay_amount": {
        "zh-CN": "金额（留空 = 余额），再按付款方式",
        "en": "Amount (blank = the rest), then a tender key",
    },
    "pay_change": {"zh-CN": "找零 {change}", "en": "Change {change}"},
    "pay_done": {"zh-CN": "收款完成  小票 {doc}", "en": "Paid  receipt {doc}"},
    "pay_close": {"zh-CN": "回车或 Esc 返回", "en": "Enter or Esc to go back"},
    "tender_cash": {"zh-CN": "现金", "en": "Cash"},
    "tender_card": {"zh-CN": "银行卡", "en": "Card"},
    "tender_wechat": {"zh-CN": "微信", "en": "WeChat Pay"},
    "tender_alipay": {"zh-CN": "支付宝", "en": "Alipay"},
    "key_undo_tender": {"zh-CN": "撤销付款", "en": "Undo tender"},
    "printed": {"zh-CN": "已打印", "en": "Printed"},
    # returns
    "return_title": {"zh-CN": "退货", "en": "Return"},
    "return_receipt": {
        "zh-CN": "原小票号（留空 = 无小票，需经理授权）",
        "en": "Receipt no. (blank = no receipt, needs a manager)",
    },
    "return_find": {"zh-CN": "回车查找", "en": "Enter to look up"},
    "col_sold": {"zh-CN": "已售", "en": "Sold"},
    "col_returned": {"zh-CN": "已退", "en": "Returned"},
    "col_left": {"zh-CN": "可退", "en": "Left"},
    "col_back": {"zh-CN": "退回", "en": "Back"},
    "col_where": {"zh-CN": "去向", "en": "To"},
    "shelf": {"zh-CN": "货架", "en": "shelf"},
    "scrap": {"zh-CN": "报损", "en": "scrap"},
    "return_hint": {
        "zh-CN": "↑↓ 选行  +/- 数量  F3 货架/报损  F12 退款",
        "en": "↑↓ line  +/- qty  F3 shelf/scrap  F12 refund",
    },
    "return_free_hint": {
        "zh-CN": "无小票：输入 编码 数量 单价，如 COLA 1 3.00",
        "en": "No receipt: type CODE QTY PRICE, e.g. COLA 1 3.00",
    },
    "refund_total": {"zh-CN": "退款 {refund}", "en": "Refund {refund}"},
    "key_refund": {"zh-CN": "退款", "en": "Refund"},
    "key_more": {"zh-CN": "加一", "en": "More"},
    "key_less": {"zh-CN": "减一", "en": "Less"},
    "key_scrap": {"zh-CN": "货架/报损", "en": "Shelf/scrap"},
    # shift
    "shift_title": {"zh-CN": "班次", "en": "Shift"},
    "shift_open_since": {
        "zh-CN": "班次 {doc}：{user} 于 {since} 开班，备用金 {float}",
        "en": "Shift {doc}: opened by {user} at {since}, float {float}",
    },
    "shift_closed": {
        "zh-CN": "当前未开班。输入备用金后回车开班。",
        "en": "No shift is open. Type the float, then Enter.",
    },
    "shift_float": {"zh-CN": "备用金（元）", "en": "Cash float (yuan)"},
    "shift_counted": {
        "zh-CN": "点钞现金（元），回车出 Z 报表",
        "en": "Counted cash (yuan), Enter for the Z report",
    },
    "shift_opened": {"zh-CN": "已开班 {doc}", "en": "Shift {doc} opened"},
    "shift_z_done": {"zh-CN": "Z 报表 {number} 已保存", "en": "Z report {number} saved"},
    "shift_z_confirm": {
        "zh-CN": "出 Z 报表并交班？交班后本班不能再收银，Z 报表不可更改",
        "en": "Print the Z report and close the shift? It cannot be undone",
    },
    "shift_z_detail": {
        "zh-CN": "应有现金 {expected}  点钞 {counted}  差异 {variance}",
        "en": "Expected cash {expected}  counted {counted}  variance {variance}",
    },
    "shift_z_not_yet": {
        "zh-CN": "未交班：可重新点钞后再输入",
        "en": "Not closed: count again and type the amount",
    },
    "key_x": {"zh-CN": "X 报表", "en": "X report"},
    "key_print_x": {"zh-CN": "打印 X", "en": "Print X"},
    "key_z": {"zh-CN": "Z 交班", "en": "Z close"},
    # lookup
    "lookup_title": {"zh-CN": "商品查询", "en": "Product lookup"},
    "lookup_prompt": {"zh-CN": "输入编码、名称或条码", "en": "Type a SKU, name or barcode"},
    "lookup_hint": {
        "zh-CN": "回车加入购物篮，Esc 返回",
        "en": "Enter adds it to the basket, Esc back",
    },
    "col_sku": {"zh-CN": "编码", "en": "SKU"},
    "col_barcode": {"zh-CN": "条码", "en": "Barcode"},
    "parked_title": {"zh-CN": "挂单", "en": "Parked baskets"},
    "parked_hint": {
        "zh-CN": "回车取回，F5 挂起当前单，Esc 返回",
        "en": "Enter resumes, F5 parks the current basket, Esc back",
    },
    "col_when": {"zh-CN": "时间", "en": "When"},
    "col_user": {"zh-CN": "收银员", "en": "Cashier"},
    "col_lines": {"zh-CN": "行数", "en": "Lines"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text `key` in `lang` (default: the reader's), its fields filled in."""
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
