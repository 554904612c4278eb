ALTER TABLE checkout_checkouts DROP COLUMN summary;
ALTER TABLE checkout_checkouts DROP COLUMN order_id;
ALTER TABLE checkout_checkouts DROP COLUMN attempt;
