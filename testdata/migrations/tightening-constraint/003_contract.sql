-- bgmigrate:phase contract -- release 41 validates emails before writing
ALTER TABLE customers ADD CONSTRAINT customers_email_check CHECK (email LIKE '%@%') NOT VALID;
ALTER TABLE customers VALIDATE CONSTRAINT customers_email_check;
