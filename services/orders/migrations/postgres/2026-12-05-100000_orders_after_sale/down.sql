DROP TABLE orders_settlements;
DROP TABLE orders_returns;
DROP TABLE orders_refunds;
