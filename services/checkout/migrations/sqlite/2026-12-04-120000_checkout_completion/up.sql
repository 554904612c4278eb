-- Completion: which attempt (saga run) is the checkout's current one, the order it made,
-- and the summary it was bought at (the cart is closed once it is an order).
ALTER TABLE checkout_checkouts ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkout_checkouts ADD COLUMN order_id TEXT;
ALTER TABLE checkout_checkouts ADD COLUMN summary TEXT;
