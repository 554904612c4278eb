DROP TABLE platform_dead_letters;
DROP TABLE platform_inbox;
DROP TABLE platform_outbox;
