DROP TABLE catalog_jobs;
