-- bgmigrate:phase contract -- release 41 no longer calls old_helper
DROP FUNCTION old_helper();
