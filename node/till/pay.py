"""Pay (F12): tenders one after another until the total is covered, then the sale posts.

Type an amount and press a tender key (blank pays the rest). Cash may be more than what
is left: the change is shown large. The sale is posted durably by `TillSession.pay`
before this screen says it is done; the receipt is shown beside it (and printed).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Digits, Footer, Input, Static

from node.till.confirm import bind_key, bind_keys
from node.till.sale import status_bar
from node.till.session import Done, TillSession
from node.till.texts_sale import t
from protocol.i18n import Translatable
from protocol.units import format_money, parse_money

TENDER_KEYS = (("f2", "cash"), ("f3", "card"), ("f4", "wechat"), ("f5", "alipay"))
#: keys for the methods head office enables, in their order
EXTRA_KEYS = ("f6", "f7", "f9", "f10")


def tender_name(method: str) -> str:
    """A method as the cashier reads it: the receipt's names, head office's by their id."""
    from node.receipt import tender_name

    return tender_name(method)


class PayScreen(Screen[Done | None]):
    CSS_PATH = "sale.tcss"

    def __init__(self, session: TillSession, *, confirmed_beyond_stock: bool = False) -> None:
        super().__init__()
        self.session = session
        self.confirmed_beyond_stock = confirmed_beyond_stock
        self.tenders: list[str] = []
        self.done: Done | None = None
        bind_keys(
            self,
            [(key, f"tender('{method}')", f"tender_{method}") for key, method in TENDER_KEYS]
            + [("f8", "undo", "key_undo_tender"), ("escape", "back", "key_close")],
        )
        # head office's own methods (UnionPay, vouchers…) on the keys left over
        built_in = {method for _, method in TENDER_KEYS}
        extra = [m for m in session.node.tender_methods() if m not in built_in]
        for key, method in zip(EXTRA_KEYS, extra, strict=False):
            bind_key(self, key, f"tender('{method}')", tender_name(method))

    def compose(self) -> ComposeResult:
        yield status_bar()
        with Horizontal(id="pay"):
            with Vertical(id="pay-left"):
                yield Static(t("pay_title"), classes="title")
                yield Static("", id="pay-total")
                yield Digits("", id="pay-digits")
                yield Static("", id="pay-tenders")
                yield Static("", id="pay-state")
                yield Input(placeholder=t("pay_amount"), id="amount")
                yield Static("", id="message")
            with VerticalScroll(id="receipt-box"):
                yield Static("", id="receipt")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.refresh_state()
        self.query_one("#amount", Input).focus()

    def refresh_state(self) -> None:
        state = self.session.pay_state(self.tenders)
        self.query_one("#pay-total", Static).update(t("pay_total", total=format_money(state.total)))
        recorded = {x.method: x.amount for x in self.done.tenders} if self.done else {}
        tenders = []
        for spec in self.tenders:
            method, _, amount = spec.partition(":")
            if not amount:  # "the rest": what it came to once posted
                amount = format_money(recorded[method]) if method in recorded else ""
            tenders.append(f"{tender_name(method)} {amount}")
        self.query_one("#pay-tenders", Static).update("\n".join(tenders))
        digits = self.query_one("#pay-digits", Digits)
        if self.done is not None:
            self.query_one("#pay-total", Static).update(
                t("pay_total", total=format_money(self.done.total))
            )
            digits.update(format_money(self.done.change))
            self.query_one("#pay-state", Static).update(
                t("pay_change", change=format_money(self.done.change))
                + "\n"
                + t("pay_done", doc=self.done.doc)
            )
            return
        digits.update(format_money(state.remaining))
        self.query_one("#pay-state", Static).update(
            t("pay_tendered", tendered=format_money(state.tendered))
            + "  "
            + t("pay_remaining", remaining=format_money(state.remaining))
        )

    def say(self, text: str, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.set_class(error, "error")
        message.update(text)

    def action_tender(self, method: str) -> None:
        if self.done is not None:
            return
        field = self.query_one("#amount", Input)
        text = field.value.strip()
        if text:
            try:
                amount = parse_money(text)
            except ValueError as exc:
                self.say(str(exc), error=True)
                return
            spec = f"{method}:{format_money(amount)}"
        else:
            spec = method
        field.value = ""
        self.tenders.append(spec)
        try:
            state = self.session.pay_state(self.tenders)
        except ValueError as exc:
            self.tenders.pop()
            self.say(str(exc), error=True)
            return
        if state.covered:
            self.post()
        else:
            self.say("")
            self.refresh_state()

    def post(self) -> None:
        try:
            done = self.session.pay(
                self.tenders, confirmed_beyond_stock=self.confirmed_beyond_stock
            )
        except (Translatable, ValueError) as exc:
            self.tenders.pop()
            self.refresh_state()
            self.say(str(exc), error=True)
            self.app.bell()
            return
        self.done = done
        self.query_one("#pay-digits", Digits).add_class("change")
        self.query_one("#receipt", Static).update("\n".join(done.receipt))
        self.query_one("#amount", Input).placeholder = t("pay_close")
        status = t("printed") if done.printed else (done.print_error or t("no_printer"))
        self.say(status, error=done.print_error is not None)
        self.refresh_state()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.done is not None:
            self.dismiss(self.done)
        elif event.value.strip():
            self.action_tender("cash")  # Enter on an amount: cash, the usual case

    def action_undo(self) -> None:
        if self.done is None and self.tenders:
            self.tenders.pop()
            self.refresh_state()

    def action_back(self) -> None:
        self.dismiss(self.done)
