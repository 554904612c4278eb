DROP TABLE identity_refresh_tokens;
DROP TABLE identity_users;
