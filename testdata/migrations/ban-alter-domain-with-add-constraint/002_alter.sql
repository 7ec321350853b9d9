ALTER DOMAIN email ADD CONSTRAINT email_at CHECK (VALUE LIKE '%@%'); -- want: ban-alter-domain-with-add-constraint
ALTER DOMAIN email ADD CHECK (length(VALUE) < 200) NOT VALID; -- want: ban-alter-domain-with-add-constraint

-- Not adding a constraint, or on a domain of this release (no column uses it).
ALTER DOMAIN email SET DEFAULT 'x@example.com';
ALTER DOMAIN email DROP CONSTRAINT IF EXISTS email_old;
CREATE DOMAIN slug AS text;
ALTER DOMAIN slug ADD CONSTRAINT slug_lower CHECK (VALUE = lower(VALUE));
