ALTER TABLE cart_carts ADD COLUMN shipping_method_id TEXT;
