DROP TABLE catalog_variant_stock;
