-- bgmigrate:phase contract -- release 41 reads users directly
DROP VIEW user_emails;
