-- An order: what a checkout bought, frozen at the prices it paid. One per checkout.
CREATE TABLE orders_orders (
    id TEXT PRIMARY KEY,
    checkout_id TEXT NOT NULL UNIQUE,
    customer_id TEXT,
    email TEXT NOT NULL,
    currency TEXT NOT NULL,
    subtotal BIGINT NOT NULL,
    discounts BIGINT NOT NULL,
    shipping BIGINT NOT NULL,
    tax BIGINT NOT NULL,
    total BIGINT NOT NULL,
    status TEXT NOT NULL,
    refunded_total BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX orders_orders_customer ON orders_orders (customer_id, id);

CREATE TABLE orders_lines (
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    variant_id TEXT NOT NULL,
    title TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    unit_price BIGINT NOT NULL,
    line_total BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

-- Every move of an order: from, to, the named transition (JSON), who, when.
CREATE TABLE orders_history (
    order_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    transition TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    PRIMARY KEY (order_id, seq)
);
