//! The work a GraphQL document may cause, bounded before async-graphql validates or runs
//! it. async-graphql's own checks walk fragment spreads as if they were written out, so
//! a 1 KB document of fragments that each spread the next one twice costs 2^30 steps
//! before any limit of its own is reached, on a runtime thread. Here the text size and
//! bracket nesting are checked first, then the parsed document is costed with every
//! fragment counted once (in dependency order, so the work is linear in the document and
//! a cycle is found instead of followed), and only a document within every limit goes on.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationType, SelectionSet};
use async_graphql::parser::{Error as ParseError, parse_query};
use weft_kernel::{ErrorKind, ServiceError};

/// Brackets (`{`, `[`, `(`) nested deeper than this are refused before parsing: the
/// parser recurses once per level, and async-graphql's parser refuses anything past 64
/// anyway. The depth limit on fields is much lower; this one guards the stack.
pub const MAX_NESTING: usize = 64;

/// The bounds a document must keep, from `[graphql]` in the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Longest accepted query text, in bytes.
    pub max_query_bytes: usize,
    /// Deepest field nesting; within `__schema`/`__type`, `ofType` does not count.
    pub max_depth: usize,
    /// Most selections, counted with every fragment spread expanded, over the document's
    /// operations and fragment definitions (what validation walks).
    pub max_selections: u64,
    /// Time a query (not a mutation or subscription) may take to execute.
    pub timeout: Duration,
}

/// A query refused for the work it would cause. Each variant is a 400 with a stable code,
/// except [`QueryRefused::Timeout`] (503).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryRefused {
    #[error("The query is {len} bytes long; at most {max} are accepted.")]
    TooLong { len: usize, max: usize },
    #[error("Brackets in the query nest deeper than {max} levels.")]
    NestedTooDeep { max: usize },
    #[error("The query nests fields {depth} deep; at most {max} are accepted.")]
    TooDeep { depth: usize, max: usize },
    #[error(
        "The query makes {count} selections once its fragment spreads are expanded; at most {max} are accepted."
    )]
    TooLarge { count: u64, max: u64 },
    #[error("Fragment `{name}` spreads itself, directly or through other fragments.")]
    FragmentCycle { name: String },
    #[error("The query did not finish within {seconds} s; ask for fewer items or fields.")]
    Timeout { seconds: u64 },
}

impl ServiceError for QueryRefused {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Timeout { .. } => ErrorKind::Unavailable,
            _ => ErrorKind::BadRequest,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "query_too_long",
            Self::NestedTooDeep { .. } | Self::TooDeep { .. } => "query_too_deep",
            Self::TooLarge { .. } => "query_too_large",
            Self::FragmentCycle { .. } => "fragment_cycle",
            Self::Timeout { .. } => "query_timeout",
        }
    }
}

/// Why a query text did not become a document to run.
#[derive(Debug)]
pub enum Refusal {
    /// Over a limit: answered as a problem.
    Limit(QueryRefused),
    /// Not GraphQL: answered as GraphQL errors, as async-graphql would.
    Syntax(ParseError),
}

impl From<QueryRefused> for Refusal {
    fn from(refused: QueryRefused) -> Self {
        Self::Limit(refused)
    }
}

/// What a checked document costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub selections: u64,
    pub depth: usize,
}

impl QueryLimits {
    /// Parses `text` and checks it against every limit; the document is returned for
    /// async-graphql to run without parsing it again.
    pub fn admit(&self, text: &str) -> Result<(ExecutableDocument, Admitted), Refusal> {
        if text.len() > self.max_query_bytes {
            return Err(QueryRefused::TooLong {
                len: text.len(),
                max: self.max_query_bytes,
            }
            .into());
        }
        if nesting(text) > MAX_NESTING {
            return Err(QueryRefused::NestedTooDeep { max: MAX_NESTING }.into());
        }
        let doc = parse_query(text).map_err(Refusal::Syntax)?;
        let cost = cost(&doc)?;
        if cost.selections > self.max_selections {
            return Err(QueryRefused::TooLarge {
                count: cost.selections,
                max: self.max_selections,
            }
            .into());
        }
        if cost.depth > self.max_depth {
            return Err(QueryRefused::TooDeep {
                depth: cost.depth,
                max: self.max_depth,
            }
            .into());
        }
        Ok((doc, cost))
    }
}

/// The type of the operation a request runs: the one named, or the only one.
pub fn operation_type(doc: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    let mut operations = doc.operations.iter();
    match name {
        Some(name) => operations
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name))
            .map(|(_, op)| op.node.ty),
        None => match (operations.next(), operations.next()) {
            (Some((_, op)), None) => Some(op.node.ty),
            _ => None,
        },
    }
}

/// The deepest bracket nesting of a query text, outside strings and comments. Linear,
/// and safe on any input: it runs before the (recursive) parser sees the text.
fn nesting(text: &str) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// What a selection set costs once its fragment spreads are expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    selections: u64,
    /// Field nesting where the set is data.
    depth: usize,
    /// Field nesting where the set is inside `__schema`/`__type`: there `ofType` is a
    /// type reference (one object, resolved from the registry), not data nesting, so
    /// the standard introspection query's long `ofType` chains stay within the limit.
    introspection_depth: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.selections = self.selections.saturating_add(other.selections);
        self.depth = self.depth.max(other.depth);
        self.introspection_depth = self.introspection_depth.max(other.introspection_depth);
    }
}

/// The document's cost: its operations' and fragment definitions' selections (each
/// fragment costed once, after the fragments it spreads), and its operations' depth.
fn cost(doc: &ExecutableDocument) -> Result<Admitted, QueryRefused> {
    let fragments = &doc.fragments;
    // Kahn's algorithm: a fragment is costed once every fragment it spreads is; those
    // never reached are on a cycle. Unknown names cost nothing here (validation reports them).
    let mut waiting: HashMap<&str, usize> = HashMap::with_capacity(fragments.len());
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut ready = Vec::new();
    for (name, fragment) in fragments {
        let mut spreads = Vec::new();
        spreads_of(&fragment.node.selection_set.node, &mut spreads);
        spreads.retain(|s| fragments.contains_key(*s));
        spreads.sort_unstable();
        spreads.dedup();
        for spread in &spreads {
            dependents.entry(spread).or_default().push(name.as_str());
        }
        if spreads.is_empty() {
            ready.push(name.as_str());
        }
        waiting.insert(name.as_str(), spreads.len());
    }
    let mut costed: HashMap<&str, Cost> = HashMap::with_capacity(fragments.len());
    while let Some(name) = ready.pop() {
        let Some(fragment) = fragments.get(name) else {
            continue;
        };
        costed.insert(name, set_cost(&fragment.node.selection_set.node, &costed));
        for dependent in dependents.get(name).into_iter().flatten() {
            if let Some(n) = waiting.get_mut(dependent) {
                *n -= 1;
                if *n == 0 {
                    ready.push(dependent);
                }
            }
        }
    }
    if costed.len() < fragments.len() {
        let mut stuck: Vec<&str> = waiting
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(name, _)| *name)
            .collect();
        stuck.sort_unstable();
        return Err(QueryRefused::FragmentCycle {
            name: stuck.first().copied().unwrap_or_default().to_owned(),
        });
    }

    let mut selections = costed
        .values()
        .fold(0u64, |sum, c| sum.saturating_add(c.selections));
    let mut depth = 0;
    for (_, operation) in doc.operations.iter() {
        let c = set_cost(&operation.node.selection_set.node, &costed);
        selections = selections.saturating_add(c.selections);
        depth = depth.max(c.depth);
    }
    Ok(Admitted { selections, depth })
}

/// The fragment names `set` spreads, at any nesting.
fn spreads_of<'a>(set: &'a SelectionSet, out: &mut Vec<&'a str>) {
    use async_graphql::parser::types::Selection;
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spreads_of(&field.node.selection_set.node, out),
            Selection::FragmentSpread(spread) => out.push(spread.node.fragment_name.node.as_str()),
            Selection::InlineFragment(inline) => spreads_of(&inline.node.selection_set.node, out),
        }
    }
}

/// The cost of `set`, with the fragments it spreads taken from `fragments` (all of them
/// costed already). Recursion follows the written nesting only, which [`MAX_NESTING`] bounds.
fn set_cost(set: &SelectionSet, fragments: &HashMap<&str, Cost>) -> Cost {
    use async_graphql::parser::types::Selection;
    let mut total = Cost::default();
    for selection in &set.items {
        let cost = match &selection.node {
            Selection::Field(field) => {
                let child = set_cost(&field.node.selection_set.node, fragments);
                let name = field.node.name.node.as_str();
                let enters_introspection = matches!(name, "__schema" | "__type");
                Cost {
                    selections: child.selections.saturating_add(1),
                    depth: 1 + if enters_introspection {
                        child.introspection_depth
                    } else {
                        child.depth
                    },
                    introspection_depth: usize::from(name != "ofType") + child.introspection_depth,
                }
            }
            Selection::FragmentSpread(spread) => {
                let fragment = fragments
                    .get(spread.node.fragment_name.node.as_str())
                    .copied()
                    .unwrap_or_default();
                Cost {
                    selections: fragment.selections.saturating_add(1),
                    ..fragment
                }
            }
            Selection::InlineFragment(inline) => {
                let child = set_cost(&inline.node.selection_set.node, fragments);
                Cost {
                    selections: child.selections.saturating_add(1),
                    ..child
                }
            }
        };
        total.add(cost);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: QueryLimits = QueryLimits {
        max_query_bytes: 32 * 1024,
        max_depth: 12,
        max_selections: 2000,
        timeout: Duration::from_secs(10),
    };

    fn admitted(text: &str) -> Admitted {
        match LIMITS.admit(text) {
            Ok((_, cost)) => cost,
            Err(Refusal::Limit(refused)) => panic!("refused: {refused}"),
            Err(Refusal::Syntax(err)) => panic!("not GraphQL: {err}"),
        }
    }

    fn refused(text: &str) -> QueryRefused {
        match LIMITS.admit(text) {
            Err(Refusal::Limit(refused)) => refused,
            Err(Refusal::Syntax(err)) => panic!("not GraphQL: {err}"),
            Ok((_, cost)) => panic!("admitted: {cost:?}"),
        }
    }

    /// `fragments` fragments, each spreading the next twice: 2^fragments selections.
    fn fan_out(fragments: usize) -> String {
        use std::fmt::Write as _;
        let mut q = String::from("query { ...F0 }\n");
        for i in 0..fragments {
            let _ = writeln!(q, "fragment F{i} on Query {{ ...F{n} ...F{n} }}", n = i + 1);
        }
        let _ = writeln!(q, "fragment F{fragments} on Query {{ __typename }}");
        q
    }

    #[test]
    fn spreads_count_as_expanded_and_each_fragment_is_costed_once() {
        // F2: 1 field; F1: 2 spreads of F2 = 2 + 2; F0: 2 + 2 * 4; the operation: 1 + 10;
        // plus the definitions themselves: 1 + 4 + 10.
        assert_eq!(admitted(&fan_out(2)).selections, 11 + 15);
        match refused(&fan_out(30)) {
            QueryRefused::TooLarge { count, max } => {
                assert!(count > 1 << 30, "{count}");
                assert_eq!(max, 2000);
            }
            other => panic!("{other:?}"),
        }
        // Far past u64: the count saturates rather than wrapping under the limit.
        assert!(matches!(
            refused(&fan_out(200)),
            QueryRefused::TooLarge {
                count: u64::MAX,
                ..
            }
        ));
    }

    #[test]
    fn depth_counts_fields_through_fragments_and_inline_fragments() {
        assert_eq!(admitted("{ meta { name } }").depth, 2);
        assert_eq!(
            admitted("{ ...A } fragment A on Query { meta { ... on Meta { services { name } } } }")
                .depth,
            3
        );
        let deep = format!("{}{}", "{ a ".repeat(13), "}".repeat(13));
        assert_eq!(refused(&deep), QueryRefused::TooDeep { depth: 13, max: 12 });
    }

    #[test]
    fn of_type_chains_do_not_count_inside_introspection_but_other_fields_do() {
        let chain = format!("{}name{}", "ofType { ".repeat(20), " }".repeat(20));
        let q = format!("{{ __schema {{ types {{ fields {{ type {{ {chain} }} }} }} }} }}");
        assert_eq!(admitted(&q).depth, 5);
        // The same chain outside introspection is data nesting.
        let q = format!("{{ a {{ {chain} }} }}");
        assert!(matches!(
            refused(&q),
            QueryRefused::TooDeep { depth: 22, .. }
        ));
        let q = format!(
            "{{ __type(name: \"Query\") {{ {}name{} }} }}",
            "fields { type { ".repeat(6),
            " } }".repeat(6)
        );
        assert!(matches!(
            refused(&q),
            QueryRefused::TooDeep { depth: 14, .. }
        ));
    }

    #[test]
    fn the_standard_introspection_query_is_admitted() {
        let q = include_str!("../../tests/api/fixtures/introspection.graphql");
        // Its nine `ofType` levels are free; a quarter of the default selection budget.
        assert_eq!(
            admitted(q),
            Admitted {
                selections: 471,
                depth: 6
            }
        );
    }

    #[test]
    fn cycles_are_refused_not_followed() {
        let q = "{ ...A } fragment A on Query { ...B } fragment B on Query { meta { ...A } }";
        assert_eq!(
            refused(q),
            QueryRefused::FragmentCycle {
                name: "A".to_owned()
            }
        );
        let q = "{ ...A } fragment A on Query { ...A }";
        assert_eq!(
            refused(q),
            QueryRefused::FragmentCycle {
                name: "A".to_owned()
            }
        );
        // Unknown fragments are validation's to report.
        assert_eq!(admitted("{ ...Nowhere }").selections, 1);
    }

    #[test]
    fn text_is_bounded_before_it_is_parsed() {
        let long = format!("{{ meta {{ name }} }}{}", " ".repeat(32 * 1024));
        assert!(matches!(refused(&long), QueryRefused::TooLong { .. }));
        let nested = format!("{}{}", "{".repeat(10_000), "}".repeat(10_000));
        assert_eq!(refused(&nested), QueryRefused::NestedTooDeep { max: 64 });
        let nested_list = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert_eq!(
            refused(&nested_list),
            QueryRefused::NestedTooDeep { max: 64 }
        );
        // Brackets in strings and comments are text.
        let q = format!(
            "{{ a(x: \"{}\", y: \"\"\"{}\"\"\") # {}\n }}",
            "{".repeat(100),
            "[".repeat(100),
            "(".repeat(100)
        );
        assert_eq!(admitted(&q).depth, 1);
        assert!(matches!(
            LIMITS.admit("{ meta { name }"),
            Err(Refusal::Syntax(_))
        ));
    }

    #[test]
    fn the_operation_type_is_the_named_or_only_one() {
        let (doc, _) = LIMITS
            .admit("query A { meta { name } } mutation B { x }")
            .unwrap();
        assert_eq!(
            operation_type(&doc, Some("B")),
            Some(OperationType::Mutation)
        );
        assert_eq!(operation_type(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(operation_type(&doc, None), None);
        let (doc, _) = LIMITS.admit("{ meta { name } }").unwrap();
        assert_eq!(operation_type(&doc, None), Some(OperationType::Query));
    }
}
