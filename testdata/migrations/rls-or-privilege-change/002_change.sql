REVOKE INSERT ON documents FROM app; -- want: rls-or-privilege-change
REVOKE USAGE ON SEQUENCE doc_numbers FROM app; -- want: rls-or-privilege-change
ALTER TABLE documents ENABLE ROW LEVEL SECURITY; -- want: rls-or-privilege-change
ALTER TABLE documents FORCE ROW LEVEL SECURITY; -- want: rls-or-privilege-change
CREATE POLICY documents_tenant ON documents USING (tenant_id = current_setting('app.tenant')::bigint); -- want: rls-or-privilege-change
ALTER POLICY documents_tenant ON documents USING (true); -- want: rls-or-privilege-change

-- Granting and turning security off only widen access.
GRANT SELECT ON notes TO reporting;
ALTER TABLE notes DISABLE ROW LEVEL SECURITY;
-- Tables of this release are unknown to the running color.
CREATE TABLE secrets (id bigint PRIMARY KEY, owner text);
REVOKE ALL ON secrets FROM PUBLIC;
ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
CREATE POLICY secrets_owner ON secrets USING (owner = current_user);
