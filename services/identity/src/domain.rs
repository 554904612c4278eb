//! Values that validate on construction: an `Email` is normalised and well-formed, a
//! `Password` meets the policy, a `Name` is sane. Handlers parse into these; nothing
//! downstream re-checks.

use std::fmt;

use weft_kernel::FieldError;

/// The e-mail address type is shared with checkout; it lives in the kernel.
pub use weft_kernel::Email;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords people pick first; refused whatever their length (OWASP ASVS 2.1.7).
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "12345678910",
    "123456789a",
    "qwertyuiop",
    "1q2w3e4r5t",
    "password12",
    "password123",
    "password1234",
    "qwerty1234",
    "1234qwerty",
    "iloveyou12",
    "abcdefghij",
    "0987654321",
    "1111111111",
    "0000000000",
    "aaaaaaaaaa",
    "qwertyuiop1",
    "passw0rd12",
    "123123123123",
    "letmein1234",
    "welcome123",
    "welcome1234",
    "football12",
    "baseball12",
    "monkey1234",
    "dragon1234",
    "sunshine12",
    "princess12",
    "superman12",
    "starwars12",
    "trustno1234",
    "administrator",
    "changeme123",
    "qazwsxedcrfv",
    "1qaz2wsx3edc",
    "zaq12wsxcde",
    "asdfghjkl1",
    "asdfghjkl;",
    "zxcvbnm123",
    "q1w2e3r4t5",
    "p@ssw0rd123",
    "password!1",
    "correcthorsebatterystaple",
    "internet123",
    "computer123",
    "michael1234",
    "shadow1234",
    "master1234",
    "jennifer12",
    "qwerty123456",
];

/// A password that meets the policy; its text never appears in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl Password {
    /// Checks length and the common-password list; `email` is refused as a password.
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(FieldError::new(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) || email.is_some_and(|e| lower == e.as_str())
        {
            return Err(FieldError::new("password", "is too common; choose another"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 || chars > 100 || trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must be 1 to 100 characters without control characters",
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub use weft_http::Role;

/// A phone number in international format, kept as `+` and its digits (E.164); an empty
/// string means "remove it" (`None`).
pub fn parse_phone(raw: &str) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    weft_kernel::address::normalise_phone(raw)
        .map(Some)
        .ok_or_else(|| FieldError::new("phone", weft_kernel::address::PHONE_RULE))
}

weft_kernel::define_id!(UserId, "usr", "A customer or an admin.");

/// What a single-use e-mail link is for. Each purpose has its own lifetime and is good
/// only at its own endpoint: a reset link cannot verify an address, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    EmailVerification,
}

impl TokenPurpose {
    /// As stored in `identity_account_tokens.purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
        }
    }

    /// How long a link stays good. A reset link opens the account, so it is short (OWASP
    /// suggests minutes); a verification link only proves the address and may sit in an
    /// inbox for days.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            Self::PasswordReset => chrono::Duration::minutes(30),
            Self::EmailVerification => chrono::Duration::days(7),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_validated() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_follow_the_policy() {
        let email = Email::parse("ada@example.com").unwrap();
        assert!(Password::parse("short", None).is_err());
        assert!(Password::parse(&"x".repeat(129), None).is_err());
        assert!(
            Password::parse("Password123", None).is_err(),
            "common, case-insensitively"
        );
        assert!(
            Password::parse("ada@example.com", Some(&email)).is_err(),
            "not the email"
        );
        assert!(Password::parse("linen-and-wool-2026", Some(&email)).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                Password::parse("linen-and-wool-2026", None).unwrap()
            ),
            "Password([REDACTED])"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse("a\u{0007}b").is_err());
        assert!(Name::parse(&"n".repeat(101)).is_err());
    }
}
