ALTER TABLE inventory_items DROP COLUMN status_version;
ALTER TABLE inventory_items DROP COLUMN status;
