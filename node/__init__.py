"""The store node: local ledger, counter operations, sync client, counter UI and CLI."""
