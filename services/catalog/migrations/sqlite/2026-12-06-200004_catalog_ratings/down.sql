DROP TABLE catalog_ratings;
