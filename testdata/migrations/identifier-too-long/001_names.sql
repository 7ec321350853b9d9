CREATE TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx (id bigint PRIMARY KEY);
CREATE TABLE app.orders_yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy (id bigint PRIMARY KEY); -- want: identifier-too-long
ALTER TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    ADD COLUMN customer_shipping_address_country_code_for_invoicing_and_tax_purposes text; -- want: identifier-too-long
-- Unquoted names are folded to lower case before they are cut.
ALTER TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ADD COLUMN Customer_Shipping_Address_Country_Code_For_Invoicing_And_Tax_Purposes2 text; -- want: identifier-too-long
-- Quoted names keep their case; multi-byte characters count as bytes.
ALTER TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ADD COLUMN "éééééééééééééééééééééééééééééé😀" text; -- want: identifier-too-long
ALTER TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ADD COLUMN "ééééééééééééééééééééééééééééééé" text;
-- The same long name twice in one statement is reported once.
CREATE INDEX customer_shipping_address_country_code_for_invoicing_and_tax_purposes_idx ON app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx (customer_shipping_address_country_code_for_invoicing_and_tax_purposes); -- want: identifier-too-long, identifier-too-long
-- String literals are not identifiers.
SELECT 'customer_shipping_address_country_code_for_invoicing_and_tax_purposes_and_more';
DO $$
BEGIN
    ALTER TABLE app.orders_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx ADD COLUMN customer_shipping_address_country_code_for_invoicing_and_tax_purposes_in_do text; -- want: identifier-too-long
END
$$;
