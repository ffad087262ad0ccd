"""The till's status bar: who is logged in, the shift, the devices and the link to the hub,
on one line that fits 80 columns in either language (a CJK character takes two).

`status_line` is pure (a `TillStatus` in, text out) and tested at 80 and 100 columns;
`StatusBar` is the widget every screen yields: it redraws itself once a second from the
app's `till_status()`, which reads only snapshots (the sync thread's, the devices') and
the outbox of the UI's own connection.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from rich.cells import cell_len
from textual.widgets import Static

from node.till.texts import t
from node.till.texts_alerts import t as alerts_t

#: device states as one sign: the words would not fit beside the link's
_SIGNS = {"ready": "✓", "connecting": "~"}
_BROKEN = "✗"
_ZH_UNITS = {"s": "秒", "m": "分", "h": "时", "d": "天"}


@dataclass(frozen=True)
class TillStatus:
    user: str | None = None
    #: when the current shift opened (ISO text) or None without a shift
    shift_opened_at: str | None = None
    #: (kind, state) of each configured device: kind scanner | scale | printer
    devices: tuple[tuple[str, str], ...] = ()
    online: bool = False
    unsent_sales: int = 0
    oldest_unsent_age_s: float | None = None
    last_confirmed_ms: int | None = None
    sync_enabled: bool = True
    error: str | None = field(default=None, compare=False)
    #: alerts not acknowledged yet (node.alerts.AlertCount)
    alerts: int = 0


def format_age(seconds: float, lang: str | None = None) -> str:
    """45s / 3m / 2h (45秒 / 3分 / 2时): the oldest unsent sale's age, short."""
    value, unit = _age_parts(seconds)
    if (lang or _lang()) == "zh-CN":
        unit = _ZH_UNITS[unit]
    return f"{value}{unit}"


def _age_parts(seconds: float) -> tuple[int, str]:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return seconds, "s"
    if seconds < 3600:
        return seconds // 60, "m"
    if seconds < 86400:
        return seconds // 3600, "h"
    return seconds // 86400, "d"


def _lang() -> str:
    from protocol.i18n import language

    return language()


def _clock(ms: int) -> str:
    return time.strftime("%H:%M", time.localtime(ms / 1000))


def _shift_time(opened_at: str) -> str:
    """The local HH:MM of an ISO time, or the start of the text when it is not one."""
    try:
        moment = datetime.fromisoformat(opened_at)
    except ValueError:
        return opened_at[:5]
    return moment.astimezone().strftime("%H:%M")


def _cut(text: str, cells: int) -> str:
    """At most `cells` columns of `text`, with … when something was left off."""
    if cell_len(text) <= cells:
        return text
    out = ""
    for char in text:
        if cell_len(out + char) > cells - 1:
            break
        out += char
    return out + "…"


def status_line(status: TillStatus, width: int = 80, lang: str | None = None) -> str:
    """The bar's text, never wider than `width` (the user's name gives way first)."""
    lang = lang or _lang()
    parts = [
        t("shift", lang, time=_shift_time(status.shift_opened_at))
        if status.shift_opened_at
        else t("no_shift", lang)
    ]
    if status.devices:
        parts.append(
            " ".join(
                t(f"dev_{kind}", lang) + _SIGNS.get(state, _BROKEN)
                for kind, state in status.devices
            )
        )
    if status.sync_enabled:
        parts.append(t("online", lang) if status.online else t("offline", lang))
    if status.unsent_sales:
        if status.oldest_unsent_age_s is not None:
            age = format_age(status.oldest_unsent_age_s, lang)
            parts.append(t("unsent_age", lang, n=status.unsent_sales, age=age))
        else:
            parts.append(t("unsent", lang, n=status.unsent_sales))
    else:
        parts.append(t("all_sent", lang))
    if status.alerts:
        parts.append(alerts_t("status_alerts", lang, n=status.alerts))
    if status.sync_enabled:
        parts.append(
            t("confirmed", lang, time=_clock(status.last_confirmed_ms))
            if status.last_confirmed_ms
            else t("never_confirmed", lang)
        )
    rest = " | ".join(parts)
    room = width - 2 - cell_len(rest) - 3  # the bar's padding, the separator
    user = status.user or t("no_user", lang)
    return f"{_cut(user, max(room, 4))} | {rest}" if room >= 4 else _cut(rest, width - 2)


class StatusBar(Static):
    """One line at the bottom of every screen; redraws itself every second."""

    DEFAULT_CSS = """
    StatusBar { dock: top; height: 1; padding: 0 1; background: $panel; }
    """

    def on_mount(self) -> None:
        self.redraw()
        self.set_interval(1.0, self._tick)

    def on_show(self) -> None:
        self.redraw()

    def on_resize(self) -> None:
        self.redraw()

    def _tick(self) -> None:
        if self.screen.is_current:  # the screens below keep their bars, asleep
            self.redraw()

    def redraw(self) -> None:
        source = getattr(self.app, "till_status", None)
        found = source() if callable(source) else None
        status = found if isinstance(found, TillStatus) else TillStatus(sync_enabled=False)
        self.update(status_line(status, self.outer_size.width or 80))
        self.set_class(status.sync_enabled and not status.online, "offline")
