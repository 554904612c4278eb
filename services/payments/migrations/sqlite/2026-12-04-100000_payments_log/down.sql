DROP TABLE payments_transactions;
DROP TABLE payments_payments;
