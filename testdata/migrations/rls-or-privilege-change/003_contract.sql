-- bgmigrate:phase contract -- release 41 connects as app_v2
REVOKE ALL ON notes FROM app;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
