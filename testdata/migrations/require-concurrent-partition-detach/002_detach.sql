ALTER TABLE events DETACH PARTITION events_2022; -- want: require-concurrent-partition-detach

-- The safe form (in a migration without a transaction).
ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;

-- A partition created in this release is still detached from an existing, busy table.
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
ALTER TABLE IF EXISTS events DETACH PARTITION events_2025; -- want: require-concurrent-partition-detach

-- ATTACH is not this rule's business.
ALTER TABLE events ATTACH PARTITION events_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
