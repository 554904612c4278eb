ALTER TABLE notification_messages DROP COLUMN invoice_order_id;
ALTER TABLE notification_messages DROP COLUMN unsubscribe_url;
DROP TABLE notification_push_tokens;
DROP TABLE notification_preferences;
