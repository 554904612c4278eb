-- A checkout: a cart on its way to becoming an order, with where it ships and who to
-- tell. Addresses are JSON (validated on the way in). Completion (the saga) and the
-- order it makes come with issue 7's next steps.
CREATE TABLE checkout_checkouts (
    id TEXT PRIMARY KEY,
    cart_id TEXT NOT NULL,
    customer_id TEXT,
    email TEXT,
    shipping_address TEXT,
    billing_address TEXT,
    status TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX checkout_checkouts_cart ON checkout_checkouts (cart_id);
