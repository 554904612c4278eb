DROP TABLE catalog_product_prices;
DROP TABLE catalog_variant_prices;
DROP TABLE catalog_variant_options;
DROP TABLE catalog_variants;
DROP TABLE catalog_products;
DROP TABLE catalog_categories;
