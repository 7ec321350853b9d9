CREATE EXTENSION IF NOT EXISTS btree_gist;
CREATE TABLE bookings (id bigint PRIMARY KEY, room_id bigint NOT NULL, during tstzrange NOT NULL);
-- A table created in the same file: nobody uses it yet.
CREATE TABLE rentals (id bigint PRIMARY KEY, car_id bigint NOT NULL, during tstzrange NOT NULL);
ALTER TABLE rentals ADD CONSTRAINT rentals_no_overlap EXCLUDE USING gist (car_id WITH =, during WITH &&);
