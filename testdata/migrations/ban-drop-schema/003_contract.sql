-- bgmigrate:phase contract -- release 41 moved everything out of legacy
DROP SCHEMA legacy;
