"""Simulated scales and scanners on real ptys, for tests, demos and the till without hardware."""

from devices.sim.pty import PtyPort
from devices.sim.scale import (
    AndDevice,
    CasDevice,
    MtSicsDevice,
    ScaleModel,
    Toledo8217Device,
    make_device,
)
from devices.sim.serve import serve_scale, serve_scanner

__all__ = [
    "AndDevice",
    "CasDevice",
    "MtSicsDevice",
    "PtyPort",
    "ScaleModel",
    "Toledo8217Device",
    "make_device",
    "serve_scale",
    "serve_scanner",
]
