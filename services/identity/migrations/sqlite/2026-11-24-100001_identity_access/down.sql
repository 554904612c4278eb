DROP TABLE identity_oauth_states;
DROP TABLE identity_oauth_links;
DROP TABLE identity_addresses;
DROP TABLE identity_api_keys;
DROP TABLE identity_apps;
DROP TABLE identity_recovery_codes;
DROP TABLE identity_totp;
ALTER TABLE identity_users DROP COLUMN erased_at;
ALTER TABLE identity_users DROP COLUMN phone_sealed;
