"""Errors a cashier or clerk can act on: the message says what to do next."""


class NodeError(Exception):
    """Refused operation; nothing was written."""


class NotInitialised(NodeError):
    pass


class UnknownProduct(NodeError):
    pass
