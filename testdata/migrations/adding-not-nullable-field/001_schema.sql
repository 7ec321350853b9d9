CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    region text,
    note text,
    channel text
);
CREATE TABLE accounts (id bigint, ref text NOT NULL, code text, tag text, label text);
CREATE UNIQUE INDEX accounts_id_idx ON accounts (id);
CREATE UNIQUE INDEX accounts_ref_idx ON accounts (ref);
CREATE UNIQUE INDEX accounts_code_tag_idx ON accounts (code, tag);
CREATE UNIQUE INDEX accounts_label_idx ON accounts (label);
CREATE TABLE ledgers (id bigint);
