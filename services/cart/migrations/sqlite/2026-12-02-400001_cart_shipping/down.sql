ALTER TABLE cart_carts DROP COLUMN shipping_method_id;
