DROP TABLE payments_test_refunds;
DROP TABLE payments_test_intents;
