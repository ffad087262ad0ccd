"""Errors a cashier or clerk can act on: the message says what to do next.

Each is a `protocol.i18n.Translatable`: raised with an English template and its fields,
`NodeError("unknown SKU {sku!r}: …", sku=sku)`, and shown in the reader's language. The
module that raises a template registers its zh-CN text (`i18n.register`); an error that
wraps another passes it as a field, `NodeError("{reason}", reason=exc)`, so both render in
the same language (tests/test_i18n.py checks every template in the source)."""

from protocol.i18n import Translatable


class NodeError(Translatable):
    """Refused operation; nothing was written."""


class NotInitialised(NodeError):
    pass


class UnknownProduct(NodeError):
    pass
