-- The stock status last published (StockStatusChanged), and how many times it changed,
-- so consumers can ignore a late event. Version 0: not announced yet — inventory
-- announces those at start, which is how an existing shop's stock reaches the catalog.
ALTER TABLE inventory_items ADD COLUMN status TEXT NOT NULL DEFAULT 'out_of_stock';
ALTER TABLE inventory_items ADD COLUMN status_version BIGINT NOT NULL DEFAULT 0;
UPDATE inventory_items SET status = (
    SELECT CASE
        WHEN COALESCE(SUM(l.on_hand - l.reserved), 0) <= 0 THEN
            CASE WHEN inventory_items.allow_backorder THEN 'backorder' ELSE 'out_of_stock' END
        WHEN COALESCE(SUM(l.on_hand - l.reserved), 0) <= inventory_items.low_stock_threshold THEN 'low_stock'
        ELSE 'in_stock'
    END
    FROM inventory_levels l WHERE l.variant_id = inventory_items.variant_id
);
