DROP TABLE inventory_reservations;
DROP TABLE inventory_levels;
DROP TABLE inventory_items;
DROP TABLE inventory_locations;
