"""kucun (库存): the application shell that puts node, hub, devices and NATS together."""

__version__ = "0.1.0"
