ALTER TABLE customers RENAME TO clients; -- want: renaming-table
ALTER VIEW customer_ids RENAME TO client_ids; -- want: renaming-table
ALTER MATERIALIZED VIEW customer_count RENAME TO client_count; -- want: renaming-table

-- Tables of this release are unknown to the running color.
CREATE TABLE drafts (id bigint PRIMARY KEY);
ALTER TABLE drafts RENAME TO draft_orders;
-- Renaming an index or a column is not renaming a table.
ALTER INDEX audit_pkey RENAME TO audit_id_pkey;
ALTER TABLE audit RENAME COLUMN id TO audit_id;
