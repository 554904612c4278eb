DROP TABLE checkout_checkouts;
