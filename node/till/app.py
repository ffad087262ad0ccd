"""The till's frame (Textual): login and lock, status bar, help and palette; devices, the
printer and sync each on their own thread, so the screen never waits for them.

All selling is the sale screen's (`node.till.sale.SaleScreen` over a
`node.till.session.TillSession`), pushed after a login; this module only starts and stops
what the screens use (`app.scale`, `app.printer`), hands scans to the screen on top
(`scanned(code)`), locks an idle till and keeps the status bar's figures. Sync runs in a
`node.sync.SyncThread` with its own ledger connection: a long catch-up from the hub never
blocks a keypress; the bar reads the thread's snapshot and counts unsent sales from the
UI's own connection every second, so it moves while the hub is away.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.screen import Screen

from ledger.outbox import Outbox, replica_file, unsent_documents
from node.service import Node, wall_ms
from node.till.help import HelpScreen, key_label
from node.till.login import LockScreen, LoginScreen
from node.till.palette import TillCommand, TillCommands, standard_commands
from node.till.status import TillStatus
from node.till.texts import t
from protocol.hlc import physical_ms

if TYPE_CHECKING:  # devices load on first use (only with a device attached)
    from devices import ScaleSession, ScannerReader
    from devices.scanner.framing import Suffix
    from node.sync import SyncThread

log = logging.getLogger("kucun.node.till")

#: Textual's own keys (moving the focus): not the till's, and not translated
_FRAME_ACTIONS = {"focus_next", "focus_previous"}

#: how often the status bar's printer state is refreshed from the paper sensor
PRINTER_LOOK_S = 5.0


@dataclass(frozen=True)
class DeviceConfig:
    """Serial devices at the counter: any pyserial URL (/dev/ttyUSB0, socket://, a pty)."""

    scanner: str | None = None
    scanner_suffix: Suffix = "cr"
    scale: str | None = None
    scale_protocol: str = "mt-sics"


@contextlib.contextmanager
def log_to_file(path: str | Path) -> Iterator[Path]:
    """While the till runs, log lines go to `path`, formatted as the command line chose
    (text or JSON), never to the terminal: a line on stderr is drawn across the screen."""
    root = logging.getLogger()
    before = list(root.handlers)
    handler = logging.FileHandler(path, encoding="utf-8")
    formatter = next((h.formatter for h in before if h.formatter is not None), None)
    handler.setFormatter(
        formatter or logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.handlers[:] = [handler]
    logging.captureWarnings(True)  # Python's warnings too: they print to stderr otherwise
    try:
        yield Path(path)
    finally:
        logging.captureWarnings(False)
        root.handlers[:] = before
        handler.close()


def log_file_for(db: str | Path) -> Path:
    """`<db>.log`, beside the ledger."""
    return Path(f"{db}.log")


class TillApp(App):
    CSS_PATH = "till.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {TillCommands}

    def __init__(
        self,
        node: Node,
        *,
        devices: DeviceConfig | None = None,
        printer: str | None = None,
        printer_width: int = 32,
        sync: bool = True,
        nats_url: str | None = None,
        sync_interval: float = 5.0,
        lock_after_s: float = 300.0,
        commands: Sequence[TillCommand] = (),
    ) -> None:
        super().__init__()
        self.node = node
        self.devices = devices or DeviceConfig()
        self.printer_url = printer
        self.printer_width = printer_width
        from node.alerts import AlertCount

        #: the status bar's count of alerts not yet acknowledged (gathered every 10 s)
        self.alert_count = AlertCount(node)
        self.sync_enabled = sync
        self.nats_url = nats_url
        self.sync_interval = sync_interval
        self.lock_after_s = lock_after_s
        self.extra_commands = list(commands)
        # bound here, not in BINDINGS: the footer speaks the language of this run
        # (the footer of the sale screen is full: lock and quit are in help and the palette)
        self.bind("f1", "help", description=t("key_help"), key_display="F1")
        self.bind("ctrl+l", "lock", description=t("key_lock"), show=False)
        self.bind("ctrl+q", "quit", description=t("key_quit"), show=False)
        for index, command in enumerate(self.extra_commands):
            if command.key:
                # in help and the palette; the sale screen's footer has no room left
                self.bind(
                    command.key, f"run_command({index})", description=command.name, show=False
                )
        self.user: Any = None
        self.session: Any = None
        self.scanner: ScannerReader | None = None
        self.scale: ScaleSession | None = None
        self.printer: Any = None
        self.sync: SyncThread | None = None
        self._last_activity = time.monotonic()
        self._head_seq = -1
        self.title = f"{t('title')} · {node.config.node} @ {node.config.location}"

    # ---- lifecycle ------------------------------------------------------------------

    def on_mount(self) -> None:
        self._start_devices()
        if self.sync_enabled:
            from node.sync import SyncThread

            self.sync = SyncThread(
                replica_file(self.node.conn), self.nats_url, self.sync_interval
            ).start()
        self._head_seq = self._own_head()
        self.set_interval(1.0, self._tick)
        if self.printer is not None:
            self.set_interval(PRINTER_LOOK_S, self._look_at_printer)
        self.push_screen(LoginScreen())

    def _start_devices(self) -> None:
        from devices import ScaleSession, ScannerReader

        if self.devices.scanner:
            self.scanner = ScannerReader(
                self.devices.scanner, suffix=self.devices.scanner_suffix, on_event=self._scan_event
            ).start()
        if self.devices.scale:
            self.scale = ScaleSession(self.devices.scale, self.devices.scale_protocol).start()
        if self.printer_url:
            from devices.printer import ReceiptPrinter

            self.printer = ReceiptPrinter(self.printer_url, width=self.printer_width).start()

    def on_unmount(self) -> None:
        for device in (self.scanner, self.scale, self.printer):
            if device is not None:
                with contextlib.suppress(Exception):
                    device.close()
        if self.sync is not None:
            self.sync.stop()

    # ---- who is at the till ---------------------------------------------------------

    def logged_in(self, user: Any) -> None:
        """From the login screen: this user acts from now on; the sale screen opens."""
        self.node.user = user.id
        self.user = user
        self.touch()
        from node.permissions import may

        if may(user.role, "sell"):
            self.push_screen(self._sale_screen(user))
        else:  # a clerk receives, ships and counts: the back room is their till
            from node.till.backroom import BackRoomScreen

            self.session = None
            self.push_screen(BackRoomScreen(self.node, user))

    def _sale_screen(self, user: Any) -> Screen:
        from node.till.sale import SaleScreen
        from node.till.session import TillSession

        self.session = TillSession(self.node, user, printer=self.printer)
        # printing waits on the printer (a jammed one up to its timeout): on a worker
        # thread, never on the screen's; a failure is told when it comes
        self.session.run_print = lambda job: self.run_worker(
            job, thread=True, group="printing", exit_on_error=False
        )
        self.session.on_printed = lambda error: self.call_from_thread(self._print_failed, error)
        return SaleScreen(self.session)

    def _print_failed(self, error: str) -> None:
        self.notify(t("print_failed", reason=error), severity="error", timeout=10)
        self.bell()

    def unlocked(self, user: Any) -> None:
        """From the lock screen: the same cashier, or another who takes over the basket."""
        if self.user is not None and user.id != self.user.id:
            self.notify(t("cashier_changed", name=getattr(user, "name", None) or user.id))
            if self.session is not None:
                self.session.user = user
        self.node.user = user.id
        self.user = user
        self.touch()
        if isinstance(self.screen, LockScreen):
            self.pop_screen()

    def action_lock(self) -> None:
        if self.user is not None and not isinstance(self.screen, LockScreen | LoginScreen):
            self.push_screen(LockScreen(self.user))

    async def action_quit(self) -> None:
        """Closing the till: not from the lock screen (whoever walks by could close it)."""
        if self.locked:
            self.notify(t("unlock_first"), severity="warning")
            self.bell()
            return
        await super().action_quit()

    @property
    def locked(self) -> bool:
        return isinstance(self.screen, LockScreen)

    def touch(self) -> None:
        """Someone is at the till: the idle lock starts again."""
        self._last_activity = time.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.touch()
        await super().on_event(event)

    def _tick(self) -> None:
        idle = time.monotonic() - self._last_activity
        if self.lock_after_s > 0 and idle >= self.lock_after_s:
            self.action_lock()
        head = self._own_head()
        if head != self._head_seq:  # a sale (or any local write): send it now
            self._head_seq = head
            self.wake_sync()

    def _look_at_printer(self) -> None:
        """The paper sensor, asked on a worker thread (it may wait for the printer)."""
        printer = self.printer
        if printer is not None and hasattr(printer, "refresh"):
            self.run_worker(
                printer.refresh, thread=True, group="printer", exclusive=True, exit_on_error=False
            )

    def _own_head(self) -> int:
        return self.node.store.log.head_seq(self.node.config.node)

    # ---- scans ----------------------------------------------------------------------

    def _scan_event(self, event: Any) -> None:
        """On the scanner's reader thread: hand the code to the UI's thread."""
        code = getattr(event, "code", None)
        with contextlib.suppress(RuntimeError):  # the app has stopped
            if code is None:
                self.call_from_thread(self._scan_failed, str(getattr(event, "reason", "")))
            else:
                self.call_from_thread(self.scanned, code)

    def scanned(self, code: str) -> None:
        """A code from the scanner: for the screen on top, if it takes scans."""
        self.touch()
        screen = self.screen
        if self.user is None or isinstance(screen, LoginScreen | LockScreen):
            self.notify(t("scan_needs_login"), severity="warning")
            self.bell()
            return
        take = getattr(screen, "scanned", None)
        if not callable(take):
            self.notify(t("scan_not_here"), severity="warning")
            self.bell()
            return
        take(code)

    def _scan_failed(self, reason: str) -> None:
        self.notify(f"{t('dev_scanner')}: {reason}", severity="error")
        self.bell()

    # ---- sync and status ------------------------------------------------------------

    def wake_sync(self) -> None:
        """Send what was just written without waiting for the next round."""
        if self.sync is not None:
            self.sync.wake()

    def action_sync_now(self) -> None:
        self.wake_sync()
        self.notify(t("sync_woken"))

    def till_status(self) -> TillStatus:
        """The status bar's figures: snapshots only, and the outbox of this connection."""
        node_id = self.node.config.node
        snapshot = self.sync.status() if self.sync is not None else None
        unsent = unsent_documents(self.node.conn, node_id)
        age = None
        if unsent.oldest_hlc is not None:
            age = max(0.0, (wall_ms() - physical_ms(unsent.oldest_hlc)) / 1000)
        devices = tuple(
            (kind, str(getattr(device.state, "value", device.state)))
            for kind, device in (
                ("scanner", self.scanner),
                ("scale", self.scale),
                ("printer", self.printer),
            )
            if device is not None
        )
        user = getattr(self.user, "name", None) or getattr(self.user, "id", None)
        return TillStatus(
            user=user,
            shift_opened_at=self._shift_opened_at(),
            devices=devices,
            online=bool(snapshot and snapshot.connected),
            unsent_sales=unsent.count,
            oldest_unsent_age_s=age,
            last_confirmed_ms=Outbox(self.node.conn).load(node_id).last_safe_ms,
            sync_enabled=self.sync_enabled,
            error=snapshot.last_error if snapshot else None,
            alerts=self.alert_count.count(),
        )

    def _shift_opened_at(self) -> str | None:
        try:
            from node.shifts import current_shift
        except ImportError:
            return None
        try:
            shift = current_shift(self.node)
        except Exception:  # the bar must keep drawing; the shift screen tells the reason
            log.exception("cannot read the current shift")
            return None
        return shift.opened_at if shift is not None else None

    # ---- help and palette -----------------------------------------------------------

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        keys = [  # the screen's and the app's keys, not an input's cursor keys
            (key_label(key), active.binding.description)
            for key, active in self.active_bindings.items()
            if isinstance(active.node, Screen | App)
            and not active.binding.system
            and active.binding.action.rpartition(".")[2] not in _FRAME_ACTIONS
        ]
        self.push_screen(HelpScreen(keys))

    def action_run_command(self, index: int) -> None:
        self.touch()
        self.extra_commands[index].run()

    def palette_commands(self) -> list[TillCommand]:
        return [*standard_commands(self), *self.extra_commands]
