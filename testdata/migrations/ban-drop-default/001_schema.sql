CREATE TABLE orders (
    id bigint PRIMARY KEY,
    currency text NOT NULL DEFAULT 'EUR',
    status text DEFAULT 'new',
    created_at timestamptz DEFAULT now()
);
