"""The till frame's UI texts (login, lock, status bar, help, palette) in zh-CN and English;
the language comes from KUCUN_LANG (default zh-CN), as everywhere else."""

from __future__ import annotations

from protocol.i18n import language

MESSAGES: dict[str, dict[str, str]] = {
    "title": {"zh-CN": "库存 收银台", "en": "kucun till"},
    # login and lock
    "login_title": {"zh-CN": "收银员登录", "en": "Cashier login"},
    "login_hint": {
        "zh-CN": "输入工号和密码（PIN），回车确认",
        "en": "Type your user id and PIN, then Enter",
    },
    "user_id": {"zh-CN": "工号", "en": "User id"},
    "pin": {"zh-CN": "密码", "en": "PIN"},
    "login_empty": {"zh-CN": "请输入工号和密码", "en": "Type your user id and PIN"},
    "logged_in": {"zh-CN": "{name} 已登录", "en": "{name} logged in"},
    "lock_title": {"zh-CN": "已锁定", "en": "Locked"},
    "lock_hint": {
        "zh-CN": "{name} 输入密码解锁；换班请输入其他工号",
        "en": "{name}: type your PIN to unlock; another cashier types their own id",
    },
    "cashier_changed": {
        "zh-CN": "换班：{name} 接手，购物车保留",
        "en": "Change of cashier: {name} takes over, the basket stays",
    },
    "unlock_first": {
        "zh-CN": "已锁定：请先解锁再关闭收银台",
        "en": "Locked: unlock first, then close the till",
    },
    "scan_needs_login": {
        "zh-CN": "请先登录再扫码",
        "en": "Log in first, then scan",
    },
    "scan_not_here": {
        "zh-CN": "扫码未处理：请先关闭当前窗口",
        "en": "Scan not taken: close this window first",
    },
    # placeholder sale screen (until the sale screen is installed)
    # status bar: short on purpose (one line at 80 columns, CJK takes two)
    "no_user": {"zh-CN": "未登录", "en": "no user"},
    "print_failed": {
        "zh-CN": "打印失败：{reason}。单据已保存，打印机就绪后按 F11 重打",
        "en": "Printing failed: {reason}. The document is saved: press F11 to reprint",
    },
    "shift": {"zh-CN": "班{time}", "en": "shift {time}"},
    "no_shift": {"zh-CN": "未开班", "en": "no shift"},
    "dev_scanner": {"zh-CN": "扫", "en": "scan"},
    "dev_scale": {"zh-CN": "秤", "en": "scale"},
    "dev_printer": {"zh-CN": "印", "en": "prn"},
    "online": {"zh-CN": "在线", "en": "online"},
    "offline": {"zh-CN": "离线", "en": "offline"},
    "unsent": {"zh-CN": "待传{n}单", "en": "{n} unsent"},
    "unsent_age": {"zh-CN": "待传{n}单{age}", "en": "{n} unsent {age}"},
    "all_sent": {"zh-CN": "已传完", "en": "all sent"},
    "confirmed": {"zh-CN": "确认{time}", "en": "ok {time}"},
    "never_confirmed": {"zh-CN": "未确认", "en": "unconfirmed"},
    # help
    "help_title": {"zh-CN": "按键说明", "en": "Keys"},
    "help_close": {"zh-CN": "按 Esc 或 F1 关闭", "en": "Esc or F1 closes this"},
    "key_help": {"zh-CN": "帮助", "en": "Help"},
    "key_lookup": {"zh-CN": "查商品", "en": "Lookup"},
    "key_return": {"zh-CN": "退货", "en": "Return"},
    "key_suspend": {"zh-CN": "挂单/取单", "en": "Suspend/resume"},
    "key_void_line": {"zh-CN": "删除行", "en": "Void line"},
    "key_override": {"zh-CN": "改价", "en": "Price override"},
    "key_shift": {"zh-CN": "班次/X/Z", "en": "Shift / X / Z"},
    "key_pay": {"zh-CN": "结账", "en": "Pay"},
    "key_cancel": {"zh-CN": "取消", "en": "Cancel"},
    "key_palette": {"zh-CN": "命令面板", "en": "Command palette"},
    "key_lock": {"zh-CN": "锁屏", "en": "Lock"},
    "key_quit": {"zh-CN": "退出", "en": "Quit"},
    # palette
    "cmd_help": {"zh-CN": "帮助：按键说明", "en": "Help: the keys"},
    "cmd_lock": {"zh-CN": "锁屏", "en": "Lock the till"},
    "cmd_logout": {"zh-CN": "退出登录（换班）", "en": "Log out (change of cashier)"},
    "cmd_sync": {"zh-CN": "立即同步", "en": "Sync now"},
    "cmd_quit": {"zh-CN": "关闭收银台", "en": "Close the till"},
    "sync_woken": {"zh-CN": "正在同步…", "en": "Syncing…"},
}


def t(key: str, lang: str | None = None, **values: object) -> str:
    text = MESSAGES[key][lang or language()]
    return text.format(**values) if values else text
