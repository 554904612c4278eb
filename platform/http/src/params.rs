//! Query parameters a list does not know are refused, not ignored: `?colour=red` must not
//! quietly answer every product.

use weft_kernel::FieldError;

/// A field error for each query parameter of `query` (the raw query string) not in `known`.
pub fn unknown(query: Option<&str>, known: &[&str]) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let name = pair.split_once('=').map_or(pair, |(name, _)| name);
        let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
        if !known.contains(&name.as_ref()) && !errors.iter().any(|e| e.field == name) {
            errors.push(FieldError::new(
                name.into_owned(),
                format!(
                    "is not a parameter of this list (known: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unknown_names_are_reported_once_each() {
        let known = ["q", "size", "limit"];
        assert!(unknown(None, &known).is_empty());
        assert!(unknown(Some("q=a&size=M&limit=2"), &known).is_empty());
        let errors = unknown(Some("colour=red&q=x&colour=blue&%73ize=M&flag"), &known);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["colour", "flag"]);
    }
}
