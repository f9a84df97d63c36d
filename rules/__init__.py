"""Pure validation and matching of invoices against orders and receipts."""
