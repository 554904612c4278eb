DROP TABLE platform_saga_steps;
DROP TABLE platform_sagas;
