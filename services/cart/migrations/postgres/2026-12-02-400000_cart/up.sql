-- A cart: a guest's (no customer) or a customer's. It lives 7 days after its last change
-- (expires_at); an expired cart is gone for clients at once and swept later.
CREATE TABLE cart_carts (
    id TEXT PRIMARY KEY,
    customer_id TEXT,
    currency TEXT NOT NULL,
    country TEXT,
    region TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX cart_carts_customer ON cart_carts (customer_id);
CREATE INDEX cart_carts_expiry ON cart_carts (expires_at);

-- One line per variant. Prices are never stored: a cart shows the catalog's price now.
CREATE TABLE cart_items (
    id TEXT PRIMARY KEY,
    cart_id TEXT NOT NULL REFERENCES cart_carts (id) ON DELETE CASCADE,
    variant_id TEXT NOT NULL,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (cart_id, variant_id)
);
