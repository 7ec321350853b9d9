ALTER TABLE bookings ADD CONSTRAINT bookings_no_overlap -- want: ban-exclusion-constraint
    EXCLUDE USING gist (room_id WITH =, during WITH &&);
ALTER TABLE bookings ADD EXCLUDE USING gist (during WITH &&) WHERE (room_id > 0); -- want: ban-exclusion-constraint

-- The recipe: a new table carries the constraint from the start.
CREATE TABLE bookings_v2 (
    id bigint PRIMARY KEY,
    room_id bigint NOT NULL,
    during tstzrange NOT NULL,
    CONSTRAINT bookings_v2_no_overlap EXCLUDE USING gist (room_id WITH =, during WITH &&)
);
-- Other constraints are other rules' business.
ALTER TABLE bookings ADD CONSTRAINT bookings_room_positive CHECK (room_id > 0) NOT VALID;
