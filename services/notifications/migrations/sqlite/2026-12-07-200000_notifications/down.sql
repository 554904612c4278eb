DROP TABLE notification_orders;
DROP TABLE notification_contacts;
DROP TABLE notification_messages;
