"""The transfers screen (调拨): transfers on their way to this store, to receive against
what was shipped (with the same re-count of what differs), or a new shipment to another
store (F3), whose stock goes in transit when it posts. The layout and keys are the
receiving screen's (`CountingScreen`); the documents and the action differ."""

from __future__ import annotations

from node.till.confirm import PromptModal
from node.till.receiving import CountingScreen
from node.till.receiving_session import Checkin, recent_transfers, stores
from node.till.texts_backroom_receiving import t
from protocol.documents import DocumentStatus
from protocol.events import Document, Event


class TransfersScreen(CountingScreen):
    """Receive an inbound transfer (Enter on the list) or ship one (F3)."""

    ACTION = "transfer"
    NEW_KEY = "key_ship"

    def list_title(self) -> str:
        return t("transfers_title")

    def list_empty(self) -> str:
        return t("no_inbound")

    def list_documents(self) -> list[DocumentStatus]:
        return recent_transfers(self.node)

    def party_of(self, status: DocumentStatus) -> str:
        header = self.node.read.document_header(status.doc)
        return header.location if header is not None else ""

    def open_document(self, doc: str) -> Checkin:
        return Checkin.inbound(self.node, self.user, doc)

    def action_new(self) -> None:
        """F3: ship to the store typed (the stores head office sent are listed)."""
        if self.checkin is not None or not self._allowed():
            return
        known = stores(self.node)
        question = t("ask_store")
        if known:
            listed = ", ".join(f"{key} {name}" if name != key else key for key, name in known)
            question += "\n" + t("stores_known", stores=listed)

        def answered(value: str | None) -> None:
            if value and value.strip():
                self._start(lambda: Checkin.shipment(self.node, self.user, value))

        self.app.push_screen(PromptModal(question), answered)

    def posted_text(self, events: list[Event]) -> str:
        if self.checkin is not None and self.checkin.kind == "ship":
            return t("posted_transfer", doc=_doc(events))
        return super().posted_text(events)


def _doc(events: list[Event]) -> str:
    return next((e.body.doc for e in events if isinstance(e.body, Document)), "")
