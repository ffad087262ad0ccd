"""ESC/POS receipt printers: the bytes of a receipt (`escpos`, pure) and a printer on any
pyserial URL (`writer.ReceiptPrinter`); the simulator is `devices.sim.printer`."""

from devices.printer.writer import PrinterError, ReceiptPrinter

__all__ = ["PrinterError", "ReceiptPrinter"]
