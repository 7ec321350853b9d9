CREATE TABLE tmp (id bigint);
-- bgmigrate:phase contract -- release 41 stopped using audit
DROP TABLE audit;
DROP TABLE archive; -- want: ban-drop-table
