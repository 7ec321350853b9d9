CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%'); -- want: ban-create-domain-with-constraint
CREATE DOMAIN positive_int AS integer NOT NULL; -- want: ban-create-domain-with-constraint
CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) < 10) DEFAULT 'x'; -- want: ban-create-domain-with-constraint

-- A plain domain.
CREATE DOMAIN slug AS text;
CREATE DOMAIN money_amount AS numeric(12, 2) DEFAULT 0;
