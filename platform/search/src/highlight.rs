//! Highlights for the tantivy index. Its snippet generator only knows exact terms, so a
//! typo-tolerant match ("jaket" → "Jacket") would go unmarked; this marks every word that
//! the query's own rules (typo budget, prefix for the last word) would have matched.

use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::typo_budget;

/// A query word as matched against the index.
#[derive(Debug, Clone)]
pub(crate) struct QueryWord {
    pub text: String,
    pub typos: u8,
    /// The last word of the query also matches as the start of a word.
    pub prefix: bool,
}

impl QueryWord {
    pub(crate) fn new(text: String, prefix: bool) -> Self {
        let typos = typo_budget(&text);
        Self {
            text,
            typos,
            prefix,
        }
    }

    fn matches(&self, word: &str) -> bool {
        if word == self.text || strsim::osa_distance(word, &self.text) <= usize::from(self.typos) {
            return true;
        }
        if self.prefix && word.chars().count() > self.text.chars().count() {
            let head: String = word.chars().take(self.text.chars().count()).collect();
            return strsim::osa_distance(&head, &self.text) <= usize::from(self.typos);
        }
        false
    }
}

/// Byte ranges of the words of `text` that match any of `words`.
fn matches(analyzer: &mut TextAnalyzer, text: &str, words: &[QueryWord]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if words.iter().any(|w| w.matches(&token.text)) {
            found.push((token.offset_from, token.offset_to));
        }
    }
    found
}

fn escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn mark(text: &str, ranges: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 9);
    let mut at = 0;
    for &(from, to) in ranges {
        escape(&mut out, &text[at..from]);
        out.push_str("<em>");
        escape(&mut out, &text[from..to]);
        out.push_str("</em>");
        at = to;
    }
    escape(&mut out, &text[at..]);
    out
}

/// The whole `text` with its matches marked, or `None` when nothing matched.
pub(crate) fn whole(
    analyzer: &mut TextAnalyzer,
    text: &str,
    words: &[QueryWord],
) -> Option<String> {
    let ranges = matches(analyzer, text, words);
    (!ranges.is_empty()).then(|| mark(text, &ranges))
}

/// About `width` bytes of `text` around its first match, marked, with `…` where cut.
pub(crate) fn excerpt(
    analyzer: &mut TextAnalyzer,
    text: &str,
    words: &[QueryWord],
    width: usize,
) -> Option<String> {
    let ranges = matches(analyzer, text, words);
    let &(first, _) = ranges.first()?;
    let mut start = first.saturating_sub(width / 4);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    // Start at a word boundary so the excerpt does not open mid-word.
    if start > 0
        && let Some(space) = text[start..first].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let mut end = (start + width).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    if end < text.len()
        && let Some(space) = text[first..end].rfind(char::is_whitespace)
    {
        end = first + space;
    }
    let inside: Vec<(usize, usize)> = ranges
        .iter()
        .filter(|(from, to)| *from >= start && *to <= end)
        .map(|(from, to)| (from - start, to - start))
        .collect();
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&mark(&text[start..end], &inside));
    if end < text.len() {
        out.push('…');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tantivy_index::analyzer;

    #[test]
    fn typos_and_prefixes_are_marked_like_the_query_matches_them() {
        let mut a = analyzer();
        let words = [
            QueryWord::new("jaket".into(), false),
            QueryWord::new("wo".into(), true),
        ];
        assert_eq!(
            whole(&mut a, "Wool Jacket & <Co>", &words).unwrap(),
            "<em>Wool</em> <em>Jacket</em> &amp; &lt;Co&gt;"
        );
        assert_eq!(whole(&mut a, "Cotton tee", &words), None);
        // Short words get no typo: "tee" does not match "toe".
        assert_eq!(
            whole(&mut a, "toe", &[QueryWord::new("tee".into(), false)]),
            None
        );
    }

    #[test]
    fn excerpts_cut_at_words_around_the_first_match() {
        let mut a = analyzer();
        let text = "A long description that goes on and on before the word linen finally \
                    appears and then keeps going for a good while longer than any card shows.";
        let out = excerpt(&mut a, text, &[QueryWord::new("linen".into(), false)], 60).unwrap();
        assert!(out.starts_with('…') && out.ends_with('…'), "{out}");
        assert!(out.contains("<em>linen</em>"), "{out}");
        assert!(out.len() < 90, "{out}");
    }
}
