DROP TABLE platform_system;
