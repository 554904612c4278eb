DROP INDEX orders_orders_status;
ALTER TABLE orders_lines DROP COLUMN sku;
ALTER TABLE orders_orders DROP COLUMN payment_id;
ALTER TABLE orders_orders DROP COLUMN shipping_method_id;
ALTER TABLE orders_orders DROP COLUMN billing_address;
ALTER TABLE orders_orders DROP COLUMN shipping_address;
