-- 0060: the admin user list, a read model of the User aggregate (projection user_admin_list,
-- projections/user/). One row per user per model (see 0030 for models and live pointers); no
-- personal data: the e-mail appears only as its blind index. A forgotten user's row is deleted.
--
-- Idempotent (IF NOT EXISTS) like every migration.
CREATE TABLE IF NOT EXISTS user_admin_list_rows (
  model text NOT NULL,
  user_id text NOT NULL,
  roles text[] NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'deactivated')),
  created_at timestamptz NOT NULL,
  email_index text NOT NULL,
  stream_version bigint NOT NULL,
  CONSTRAINT user_admin_list_rows_pkey PRIMARY KEY (model, user_id)
);

-- Keyset pagination by (created_at, user_id) within a model.
CREATE INDEX IF NOT EXISTS user_admin_list_rows_created_idx ON user_admin_list_rows (model, created_at, user_id);
-- Finding a user by the blind index of an address.
CREATE INDEX IF NOT EXISTS user_admin_list_rows_email_idx ON user_admin_list_rows (model, email_index);
