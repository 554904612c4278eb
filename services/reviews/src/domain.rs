//! What a review is, what makes one valid, and the rule that publishes it without a
//! moderator. Pure: no storage, no clock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use weft_kernel::FieldError;

weft_kernel::define_id!(ReviewId, "rev", "A review of a product.");

/// Longest title, body, author name, report reason, moderation note and reply.
pub const MAX_TITLE: usize = 150;
pub const MAX_BODY: usize = 5_000;
pub const MAX_AUTHOR: usize = 60;
pub const MAX_REASON: usize = 500;
pub const MAX_REPLY: usize = 2_000;
/// Most photos on one review, and the longest URL of one.
pub const MAX_PHOTOS: usize = 6;
pub const MAX_PHOTO_URL: usize = 2_048;

/// Where a review stands. Only `published` ones are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Published,
    Rejected,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Published => "published",
            Self::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "published" => Some(Self::Published),
            "rejected" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// How the garment fit, by the reviewer's usual size: what clothing shoppers ask first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeFit {
    RunsSmall,
    TrueToSize,
    RunsLarge,
}

impl SizeFit {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunsSmall => "runs_small",
            Self::TrueToSize => "true_to_size",
            Self::RunsLarge => "runs_large",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "runs_small" => Some(Self::RunsSmall),
            "true_to_size" => Some(Self::TrueToSize),
            "runs_large" => Some(Self::RunsLarge),
            _ => None,
        }
    }
}

/// The order of a product's reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    /// Most helpful votes first.
    Helpful,
    /// Highest rating first.
    Highest,
    /// Lowest rating first.
    Lowest,
}

impl Sort {
    /// `newest`, `helpful`, `highest` (or `rating`, its name in the first contract) and
    /// `lowest`.
    pub fn parse(field: &str, s: Option<&str>) -> Result<Self, FieldError> {
        match s {
            None | Some("newest") => Ok(Self::Newest),
            Some("helpful") => Ok(Self::Helpful),
            Some("highest" | "rating") => Ok(Self::Highest),
            Some("lowest") => Ok(Self::Lowest),
            Some(other) => Err(FieldError::new(
                field,
                format!("`{other}` is not one of newest, helpful, highest, lowest"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Helpful => "helpful",
            Self::Highest => "highest",
            Self::Lowest => "lowest",
        }
    }
}

/// A staff reply shown under the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub body: String,
    pub at: DateTime<Utc>,
}

/// One review, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: String,
    pub product_id: String,
    /// `None` once its author's data was erased.
    pub customer_id: Option<String>,
    pub author_name: String,
    pub rating: i32,
    pub title: String,
    pub body: String,
    pub size_fit: Option<SizeFit>,
    pub photos: Vec<String>,
    pub verified_purchase: bool,
    pub status: Status,
    /// Why staff rejected it, or what put it back in the queue.
    pub moderation_note: Option<String>,
    pub reply: Option<Reply>,
    pub helpful_count: i64,
    pub report_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The content a customer writes (new, or all of it again on an edit).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Content {
    pub rating: i32,
    pub title: String,
    pub body: String,
    pub size_fit: Option<String>,
    pub photos: Vec<String>,
    pub author_name: Option<String>,
}

/// [`Content`] checked: what is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Valid {
    pub rating: i32,
    pub title: String,
    pub body: String,
    pub size_fit: Option<SizeFit>,
    pub photos: Vec<String>,
    pub author_name: String,
}

/// The name shown for an author who gave none, and for one whose data was erased.
pub const ANONYMOUS: &str = "Customer";
pub const ERASED: &str = "Former customer";

fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &str,
    max: usize,
    required: bool,
) -> String {
    let value = value.trim();
    if required && value.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters")));
    } else if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    value.to_owned()
}

/// An `https://` URL with a host, no credentials, no whitespace.
fn photo_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty()
        && !host.contains('@')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Content {
    /// Every problem at once, each naming its field.
    pub fn validate(self) -> Result<Valid, Vec<FieldError>> {
        let mut errors = Vec::new();
        if !(1..=5).contains(&self.rating) {
            errors.push(FieldError::new("rating", "must be 1–5"));
        }
        let title = text(&mut errors, "title", &self.title, MAX_TITLE, true);
        let body = text(&mut errors, "body", &self.body, MAX_BODY, true);
        let author_name = match &self.author_name {
            Some(name) => text(&mut errors, "author_name", name, MAX_AUTHOR, true),
            None => ANONYMOUS.to_owned(),
        };
        let size_fit = match self.size_fit.as_deref() {
            None => None,
            Some(s) => {
                let fit = SizeFit::parse(s);
                if fit.is_none() {
                    errors.push(FieldError::new(
                        "size_fit",
                        "must be runs_small, true_to_size or runs_large",
                    ));
                }
                fit
            }
        };
        if self.photos.len() > MAX_PHOTOS {
            errors.push(FieldError::new(
                "photos",
                format!("at most {MAX_PHOTOS} photos"),
            ));
        }
        for (i, url) in self.photos.iter().enumerate() {
            if url.len() > MAX_PHOTO_URL || !photo_url(url) {
                errors.push(FieldError::new(
                    format!("photos[{i}]"),
                    format!("must be an https:// URL of at most {MAX_PHOTO_URL} characters"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Valid {
                rating: self.rating,
                title,
                body,
                size_fit,
                photos: self.photos,
                author_name,
            })
        } else {
            Err(errors)
        }
    }
}

/// When a review goes live without a moderator.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Moderation {
    /// Publish reviews that pass [`Moderation::holds`]; `false` queues every review.
    pub auto_publish: bool,
    /// Words (matched whole, any case) that send a review to the queue.
    pub blocked_words: Vec<String>,
}

impl Moderation {
    /// Why `review` waits for a moderator, or `None` when it may go live at once: it is a
    /// verified purchase, carries no link, and uses no blocked word.
    pub fn holds(&self, verified: bool, title: &str, body: &str) -> Option<&'static str> {
        if !self.auto_publish {
            return Some("every review is moderated");
        }
        if !verified {
            return Some("not a verified purchase");
        }
        let text = format!("{title}\n{body}").to_lowercase();
        if ["http://", "https://", "www."]
            .iter()
            .any(|link| text.contains(link))
        {
            return Some("contains a link");
        }
        let blocked = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .any(|w| self.blocked_words.iter().any(|b| b.eq_ignore_ascii_case(w)));
        blocked.then_some("contains a blocked word")
    }
}

/// A product's published ratings: how many of each star, 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RatingSummary {
    pub distribution: [i64; 5],
}

impl RatingSummary {
    /// From (rating, how many) pairs; ratings outside 1–5 are ignored.
    pub fn from_counts(counts: impl IntoIterator<Item = (i32, i64)>) -> Self {
        let mut summary = Self::default();
        for (rating, n) in counts {
            if let Some(slot) = usize::try_from(rating - 1)
                .ok()
                .and_then(|i| summary.distribution.get_mut(i))
            {
                *slot = n;
            }
        }
        summary
    }

    pub fn count(&self) -> i64 {
        self.distribution.iter().sum()
    }

    /// Mean rating to two decimals; `None` without reviews.
    pub fn average(&self) -> Option<f64> {
        weft_bus::events::rating_average(&self.distribution)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn content() -> Content {
        Content {
            rating: 5,
            title: "Great fit".into(),
            body: "Soft and warm.".into(),
            ..Content::default()
        }
    }

    #[test]
    fn content_is_checked_field_by_field() {
        let valid = content().validate().unwrap();
        assert_eq!(valid.author_name, ANONYMOUS);
        let errors = Content {
            rating: 6,
            title: " ".into(),
            body: "x".repeat(MAX_BODY + 1),
            size_fit: Some("huge".into()),
            photos: vec![
                "http://example.com/a.jpg".into(),
                "https://ok.example/b.jpg".into(),
            ],
            author_name: Some("a\u{0}b".into()),
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rating",
                "title",
                "body",
                "author_name",
                "size_fit",
                "photos[0]"
            ]
        );
        let many = Content {
            photos: vec!["https://cdn.example/p.jpg".into(); MAX_PHOTOS + 1],
            ..content()
        };
        assert_eq!(many.validate().unwrap_err()[0].field, "photos");
        for bad in [
            "https://user@host/x",
            "https:///x",
            "https://a b/c",
            "ftp://x/y",
        ] {
            assert!(!photo_url(bad), "{bad}");
        }
        assert!(photo_url("https://cdn.example.com:8443/a/b.jpg?w=200"));
    }

    #[test]
    fn only_clean_verified_reviews_skip_the_queue() {
        let rule = Moderation {
            auto_publish: true,
            blocked_words: vec!["scam".into()],
        };
        assert_eq!(rule.holds(true, "Lovely", "Fits well"), None);
        assert!(rule.holds(false, "Lovely", "Fits well").is_some());
        assert!(rule.holds(true, "See www.example.com", "x").is_some());
        assert!(rule.holds(true, "Lovely", "HTTPS://x.example").is_some());
        assert!(rule.holds(true, "Total SCAM!", "x").is_some());
        // Whole words only: "scampi" is not "scam".
        assert_eq!(rule.holds(true, "Scampi stain", "washed out"), None);
        let queue_all = Moderation::default();
        assert!(queue_all.holds(true, "Lovely", "Fits well").is_some());
    }

    #[test]
    fn summaries_count_sum_and_average() {
        let summary = RatingSummary {
            distribution: [1, 0, 0, 1, 2],
        };
        assert_eq!(summary.count(), 4);
        assert_eq!(summary.average(), Some(3.75));
        assert_eq!(RatingSummary::default().average(), None);
    }

    #[test]
    fn sorts_parse_with_the_first_contract_s_name() {
        assert_eq!(Sort::parse("sort", None).unwrap(), Sort::Newest);
        assert_eq!(Sort::parse("sort", Some("rating")).unwrap(), Sort::Highest);
        assert_eq!(Sort::parse("sort", Some("lowest")).unwrap(), Sort::Lowest);
        assert!(Sort::parse("sort", Some("oldest")).is_err());
    }
}
