-- A promotion code. Amounts are JSON maps of currency → minor units; a code is stored
-- upper-case and matched without regard to case.
CREATE TABLE cart_promotions (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    percentage BIGINT,
    amounts TEXT NOT NULL,
    minimum_subtotal TEXT NOT NULL,
    scope TEXT NOT NULL,
    scope_ids TEXT NOT NULL,
    combinable BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    starts_at TIMESTAMP,
    ends_at TIMESTAMP,
    usage_limit BIGINT,
    per_customer_limit BIGINT,
    times_used BIGINT NOT NULL DEFAULT 0 CHECK (times_used >= 0),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The codes a cart holds, in the order they were applied.
CREATE TABLE cart_applied_promotions (
    cart_id TEXT NOT NULL,
    promotion_id TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL,
    PRIMARY KEY (cart_id, promotion_id)
);
CREATE INDEX cart_applied_promotions_promotion ON cart_applied_promotions (promotion_id);

-- One use of a promotion by one order: counted when the order is placed, given back when
-- it is cancelled before it was paid.
CREATE TABLE cart_promotion_redemptions (
    promotion_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    customer_key TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (promotion_id, order_id)
);
CREATE INDEX cart_promotion_redemptions_customer ON cart_promotion_redemptions (promotion_id, customer_key);
CREATE INDEX cart_promotion_redemptions_order ON cart_promotion_redemptions (order_id);
