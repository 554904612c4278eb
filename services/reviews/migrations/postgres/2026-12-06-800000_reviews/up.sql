-- Reviews of products by customers; one per customer and product (an erased customer's
-- reviews keep no customer id, and NULLs never collide in a unique index).
CREATE TABLE reviews (
    id TEXT PRIMARY KEY NOT NULL,
    product_id TEXT NOT NULL,
    customer_id TEXT,
    author_name TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    size_fit TEXT,
    photos TEXT NOT NULL DEFAULT '[]',
    verified_purchase BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    moderation_note TEXT,
    reply_body TEXT,
    replied_at TIMESTAMP,
    helpful_count BIGINT NOT NULL DEFAULT 0,
    report_count BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX reviews_one_per_customer ON reviews (product_id, customer_id);
CREATE INDEX reviews_by_product ON reviews (product_id, status, created_at, id);
CREATE INDEX reviews_by_status ON reviews (status, created_at, id);
CREATE INDEX reviews_by_customer ON reviews (customer_id);

CREATE TABLE review_votes (
    review_id TEXT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (review_id, customer_id)
);
CREATE INDEX review_votes_by_customer ON review_votes (customer_id);

CREATE TABLE review_reports (
    review_id TEXT NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    customer_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (review_id, customer_id)
);
CREATE INDEX review_reports_by_customer ON review_reports (customer_id);

-- How many rating summaries of a product were published, so the catalog can ignore a
-- late one.
CREATE TABLE review_ratings (
    product_id TEXT PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL
);

-- What each customer bought, from orders' events: a review of a product among them is a
-- verified purchase.
CREATE TABLE review_purchases (
    customer_id TEXT NOT NULL,
    variant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (customer_id, variant_id, order_id)
);
CREATE INDEX review_purchases_by_order ON review_purchases (order_id);
