"""Accounting exports (docs/tax.md "Exports"): invoices and the ledger as balanced journal
entries on a configurable chart of accounts."""
