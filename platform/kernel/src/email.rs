//! An e-mail address, checked the same way wherever one is taken (an account, a guest's
//! checkout).

use std::fmt;

use crate::FieldError;

/// A normalised email address (trimmed, lower-cased), at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let normalised = raw.trim().to_lowercase();
        if normalised.len() > 254
            || !email_address::EmailAddress::is_valid(&normalised)
            || !normalised.contains('.')
        {
            return Err(FieldError::new("email", "is not a valid email address"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
