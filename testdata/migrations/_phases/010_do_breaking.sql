-- file-class: breaking
DO $$ -- class: breaking
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE column_name = 'surname') THEN
        ALTER TABLE customers RENAME COLUMN name TO surname;
    END IF;
END $$;
