DROP TABLE identity_account_tokens;
ALTER TABLE identity_users DROP COLUMN email_verified_at;
