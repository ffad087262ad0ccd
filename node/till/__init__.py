"""The till (收银台): a Textual app for a keyboard and a scanner, 80×24, zh-CN or English.

`node.till.app.TillApp` is the frame: login and lock, the status bar, help and palette,
devices and sync on their own threads, logs to a file. The selling screens live beside it
(`node.till.sale`, with `node.till.session.TillSession` holding the state without UI).
"""
