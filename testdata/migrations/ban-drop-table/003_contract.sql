-- bgmigrate:phase contract -- release 41 stopped using these tables
DROP TABLE sessions;
