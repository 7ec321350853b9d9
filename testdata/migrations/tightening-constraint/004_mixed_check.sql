-- A check that names an existing column as well as a new one still binds the
-- running color.
ALTER TABLE orders ADD COLUMN discount numeric;
ALTER TABLE orders ADD CONSTRAINT orders_discount_check CHECK (discount <= total); -- want: tightening-constraint
