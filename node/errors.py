"""Errors a cashier or clerk can act on: the message says what to do next.

Each is a `protocol.i18n.Translatable`: raised with an English template and its fields,
`NodeError("unknown SKU {sku!r}: …", sku=sku)`, and shown in the reader's language."""

from protocol.i18n import Translatable


class NodeError(Translatable):
    """Refused operation; nothing was written."""


class NotInitialised(NodeError):
    pass


class UnknownProduct(NodeError):
    pass
