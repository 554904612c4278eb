-- Where an order ships and is billed (JSON addresses, validated at checkout), how it
-- ships, and the payment that paid it.
ALTER TABLE orders_orders ADD COLUMN shipping_address TEXT;
ALTER TABLE orders_orders ADD COLUMN billing_address TEXT;
ALTER TABLE orders_orders ADD COLUMN shipping_method_id TEXT;
ALTER TABLE orders_orders ADD COLUMN payment_id TEXT;
ALTER TABLE orders_lines ADD COLUMN sku TEXT;
CREATE INDEX orders_orders_status ON orders_orders (status, id);
