-- The balance check at commit sums a transaction's entries: without this index it read every
-- entry ever made, and crediting slowed down as the ledger grew.
CREATE INDEX ledger_entries_by_transaction ON ledger_entries (transaction_id);
-- Order events and ledger transactions are looked up by their order (history, audits).
CREATE INDEX order_events_by_order ON order_events (order_id);
CREATE INDEX ledger_transactions_by_order ON ledger_transactions (order_id);
