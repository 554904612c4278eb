DROP INDEX cart_carts_quiet;
DROP TABLE cart_abandonments;
