DROP TABLE cart_promotion_redemptions;
DROP TABLE cart_applied_promotions;
DROP TABLE cart_promotions;
