ALTER TABLE catalog_products DROP COLUMN document;
