//! Cursor pagination: `?limit=` (1–100, default 20) and an opaque `?cursor=`; answers are
//! `{ data, next_cursor }`. A cursor is URL-safe base64 of the position after the last item
//! (typically its sort key and id), so clients cannot depend on its contents.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub const DEFAULT_LIMIT: u32 = 20;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PageError {
    #[error("limit must be between 1 and {MAX_LIMIT}")]
    Limit,
    #[error("cursor is not one this API issued")]
    Cursor,
}

/// An opaque position in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(String);

impl Cursor {
    pub fn encode<T: Serialize>(position: &T) -> Self {
        // Serializing plain data to JSON cannot fail.
        let json = serde_json::to_vec(position).unwrap_or_default();
        Self(URL_SAFE_NO_PAD.encode(json))
    }

    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, PageError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(&self.0)
            .map_err(|_| PageError::Cursor)?;
        serde_json::from_slice(&bytes).map_err(|_| PageError::Cursor)
    }

    pub fn parse(s: &str) -> Result<Self, PageError> {
        // Bound the size so a hostile cursor cannot make us decode megabytes.
        if s.is_empty() || s.len() > 512 {
            return Err(PageError::Cursor);
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A validated page request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl PageRequest {
    pub fn parse(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, PageError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(PageError::Limit);
        }
        let cursor = cursor.map(Cursor::parse).transpose()?;
        Ok(Self { limit, cursor })
    }

    /// As [`PageRequest::parse`], the failure naming its query parameter for a 422.
    pub fn from_query(limit: Option<u32>, cursor: Option<&str>) -> Result<Self, crate::FieldError> {
        Self::parse(limit, cursor).map_err(|e| {
            let field = if matches!(e, PageError::Limit) {
                "limit"
            } else {
                "cursor"
            };
            crate::FieldError::new(field, e.to_string())
        })
    }

    /// How many rows to fetch: one more than the limit tells whether a next page exists.
    pub fn fetch_size(&self) -> i64 {
        i64::from(self.limit) + 1
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `fetch_size()` rows; `position` gives the cursor of an item.
    pub fn from_rows<P: Serialize>(
        mut rows: Vec<T>,
        request: &PageRequest,
        position: impl Fn(&T) -> P,
    ) -> Self {
        let limit = request.limit as usize;
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| Cursor::encode(&position(last)).0)
        } else {
            None
        };
        Self {
            data: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            data: self.data.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_one_hundred_are_rejected() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 20);
        assert_eq!(PageRequest::parse(Some(100), None).unwrap().limit, 100);
        assert_eq!(PageRequest::parse(Some(0), None), Err(PageError::Limit));
        assert_eq!(PageRequest::parse(Some(101), None), Err(PageError::Limit));
    }

    #[test]
    fn a_page_has_a_cursor_only_when_more_rows_exist() {
        let req = PageRequest::parse(Some(2), None).unwrap();
        let page = Page::from_rows(vec![1, 2, 3], &req, |n| *n);
        assert_eq!(page.data, vec![1, 2]);
        let cursor = Cursor::parse(page.next_cursor.as_deref().unwrap()).unwrap();
        assert_eq!(cursor.decode::<i32>().unwrap(), 2);

        let last = Page::from_rows(vec![3], &req, |n| *n);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn forged_cursors_are_rejected() {
        assert_eq!(Cursor::parse("").unwrap_err(), PageError::Cursor);
        assert_eq!(
            Cursor::parse(&"a".repeat(513)).unwrap_err(),
            PageError::Cursor
        );
        let junk = Cursor::parse("not-base64-json!").unwrap();
        assert_eq!(
            junk.decode::<(i64, String)>().unwrap_err(),
            PageError::Cursor
        );
    }
}
