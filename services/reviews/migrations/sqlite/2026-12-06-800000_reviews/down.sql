DROP TABLE review_purchases;
DROP TABLE review_ratings;
DROP TABLE review_reports;
DROP TABLE review_votes;
DROP TABLE reviews;
