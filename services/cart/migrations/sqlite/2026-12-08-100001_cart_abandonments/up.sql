-- The quiet spells already reported as `cart.abandoned`: one row per cart, holding the
-- cart's `updated_at` when it was reported (a change and a new spell report again).
CREATE TABLE cart_abandonments (
    cart_id TEXT PRIMARY KEY NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    reported_at TIMESTAMP NOT NULL
);
CREATE INDEX cart_carts_quiet ON cart_carts (updated_at);
