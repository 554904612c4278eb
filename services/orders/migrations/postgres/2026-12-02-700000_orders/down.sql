DROP TABLE orders_history;
DROP TABLE orders_lines;
DROP TABLE orders_orders;
