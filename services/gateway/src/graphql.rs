//! GraphQL across processes. Every service's resolvers run in the process hosting it, so
//! a document is routed by its root fields: when they all belong to one owner the request
//! goes there whole; otherwise it is split into one document per owner (each with only
//! the fragments and variables it uses), the parts are answered, and their `data` and
//! `errors` are merged in the order the client asked. Queries' parts run at once;
//! a mutation's root fields run one after another, as GraphQL requires, in runs of
//! consecutive fields of one owner.
//!
//! Owners are opaque names chosen by the caller (`owner_of`); [`HERE`] is the process
//! itself. A document this module cannot route (no such operation, an unknown fragment)
//! goes to [`HERE`] whole, where validation answers it.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use async_graphql::Name;
use async_graphql::parser::Positioned;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql_value::indexmap::IndexMap;
use async_graphql_value::{ConstValue, Value};
use serde_json::{Map, Value as Json};

/// The owner that is this process.
pub const HERE: &str = "";

/// Where a request goes.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// Whole, to one owner.
    Whole(String),
    /// In parts.
    Split(Plan),
}

/// A document split by owner.
#[derive(Debug, PartialEq)]
pub struct Plan {
    pub parts: Vec<Part>,
    /// Whether the parts must run one after another (a mutation).
    pub serial: bool,
    /// Every response key, in the order asked, with the root field it names.
    keys: Vec<(String, String)>,
}

/// One owner's share of a document.
#[derive(Debug, PartialEq)]
pub struct Part {
    pub owner: String,
    /// A GraphQL request body: `query`, `operationName` and the `variables` it uses.
    pub body: Json,
    /// The response keys this part answers.
    keys: Vec<String>,
}

/// Routes `doc`'s operation (`operation_name`, or its only one) by the owners of its root
/// fields. `owner_of(type, field)` names the owner of a root field.
pub fn route(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Map<String, Json>,
    owner_of: impl Fn(OperationType, &str) -> String,
) -> Route {
    let Some((name, op)) = operation(doc, operation_name) else {
        return Route::Whole(HERE.to_owned());
    };
    let Some(fields) = root_fields(doc, &op.selection_set.node, &[]) else {
        return Route::Whole(HERE.to_owned());
    };
    let owned: Vec<(String, Field)> = fields
        .into_iter()
        .map(|f| (owner_of(op.ty, &f.name.node), f))
        .collect();
    let first = owned.first().map_or(HERE, |(o, _)| o.as_str()).to_owned();
    if op.ty == OperationType::Subscription || owned.iter().all(|(o, _)| *o == first) {
        return Route::Whole(first);
    }
    let serial = op.ty == OperationType::Mutation;
    // A mutation's runs of consecutive fields keep their order; a query's fields are
    // grouped by owner, one part each.
    let mut groups: Vec<(String, Vec<Field>)> = Vec::new();
    let mut keys = Vec::new();
    for (owner, field) in owned {
        keys.push((
            field.response_key().node.to_string(),
            field.name.node.to_string(),
        ));
        let at = if serial {
            groups
                .last()
                .filter(|(o, _)| *o == owner)
                .map(|_| groups.len() - 1)
        } else {
            groups.iter().position(|(o, _)| *o == owner)
        };
        match at {
            Some(i) => groups[i].1.push(field),
            None => groups.push((owner, vec![field])),
        }
    }
    let parts = groups
        .into_iter()
        .map(|(owner, fields)| part(doc, op, name, variables, owner, &fields))
        .collect();
    Route::Split(Plan {
        parts,
        serial,
        keys,
    })
}

/// The operation asked for: the named one, or the only one.
fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'a str>, &'a OperationDefinition)> {
    let mut ops = doc.operations.iter();
    match name {
        Some(wanted) => ops
            .find(|(n, _)| n.is_some_and(|n| n.as_str() == wanted))
            .map(|(n, op)| (n.map(Name::as_str), &op.node)),
        None if ops.len() == 1 => ops.next().map(|(n, op)| (n.map(Name::as_str), &op.node)),
        None => None,
    }
}

/// The root fields of `set`, fragments at the root expanded (their directives carried
/// onto each field, which means the same). `None` for an unknown fragment.
fn root_fields(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    carried: &[Positioned<Directive>],
) -> Option<Vec<Field>> {
    let mut out = Vec::new();
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let mut field = field.node.clone();
                field.directives.extend(carried.iter().cloned());
                out.push(field);
            }
            Selection::FragmentSpread(spread) => {
                let fragment = doc.fragments.get(&spread.node.fragment_name.node)?;
                let mut more = carried.to_vec();
                more.extend(spread.node.directives.iter().cloned());
                out.extend(root_fields(doc, &fragment.node.selection_set.node, &more)?);
            }
            Selection::InlineFragment(inline) => {
                let mut more = carried.to_vec();
                more.extend(inline.node.directives.iter().cloned());
                out.extend(root_fields(doc, &inline.node.selection_set.node, &more)?);
            }
        }
    }
    Some(out)
}

/// One owner's document: its fields, the fragments they reach and the variables used.
fn part(
    doc: &ExecutableDocument,
    op: &OperationDefinition,
    name: Option<&str>,
    variables: &Map<String, Json>,
    owner: String,
    fields: &[Field],
) -> Part {
    let mut used = Used::default();
    for field in fields {
        used.field(doc, field);
    }
    let mut text = String::new();
    let _ = write!(text, "{}", op.ty);
    if let Some(name) = name {
        let _ = write!(text, " {name}");
    }
    let definitions: Vec<_> = op
        .variable_definitions
        .iter()
        .filter(|d| used.variables.contains(d.node.name.node.as_str()))
        .collect();
    if !definitions.is_empty() {
        text.push('(');
        for (i, d) in definitions.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            let _ = write!(text, "${}: {}", d.node.name.node, d.node.var_type.node);
            if let Some(default) = &d.node.default_value {
                text.push_str(" = ");
                value(&mut text, &Value::from(default.node.clone()));
            }
        }
        text.push(')');
    }
    directives(&mut text, &op.directives);
    text.push_str(" {");
    for field in fields {
        text.push(' ');
        print_field(&mut text, field);
    }
    text.push_str(" }");
    for fragment in &used.fragments {
        if let Some(def) = doc.fragments.get(fragment.as_str()) {
            let _ = write!(
                text,
                "\nfragment {fragment} on {}",
                def.node.type_condition.node.on.node
            );
            directives(&mut text, &def.node.directives);
            selection_set(&mut text, &def.node.selection_set.node);
        }
    }
    let vars: Map<String, Json> = variables
        .iter()
        .filter(|(k, _)| used.variables.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut body = Map::new();
    body.insert("query".to_owned(), Json::String(text));
    if let Some(name) = name {
        body.insert("operationName".to_owned(), Json::String(name.to_owned()));
    }
    body.insert("variables".to_owned(), Json::Object(vars));
    Part {
        owner,
        body: Json::Object(body),
        keys: fields
            .iter()
            .map(|f| f.response_key().node.to_string())
            .collect(),
    }
}

/// The fragments and variables a selection reaches.
#[derive(Default)]
struct Used {
    fragments: BTreeSet<String>,
    variables: BTreeSet<String>,
}

impl Used {
    fn field(&mut self, doc: &ExecutableDocument, field: &Field) {
        for (_, arg) in &field.arguments {
            self.value(&arg.node);
        }
        self.directives(&field.directives);
        self.set(doc, &field.selection_set.node);
    }

    fn set(&mut self, doc: &ExecutableDocument, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => self.field(doc, &field.node),
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives);
                    let name = spread.node.fragment_name.node.to_string();
                    if self.fragments.insert(name)
                        && let Some(def) = doc.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.directives(&def.node.directives);
                        self.set(doc, &def.node.selection_set.node);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.directives(&inline.node.directives);
                    self.set(doc, &inline.node.selection_set.node);
                }
            }
        }
    }

    fn directives(&mut self, directives: &[Positioned<Directive>]) {
        for d in directives {
            for (_, arg) in &d.node.arguments {
                self.value(&arg.node);
            }
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Variable(name) => {
                self.variables.insert(name.to_string());
            }
            Value::List(items) => items.iter().for_each(|v| self.value(v)),
            Value::Object(fields) => fields.values().for_each(|v| self.value(v)),
            _ => {}
        }
    }
}

fn print_field(out: &mut String, field: &Field) {
    if let Some(alias) = &field.alias {
        let _ = write!(out, "{}: ", alias.node);
    }
    out.push_str(&field.name.node);
    if !field.arguments.is_empty() {
        out.push('(');
        for (i, (name, arg)) in field.arguments.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}: ", name.node);
            value(out, &arg.node);
        }
        out.push(')');
    }
    directives(out, &field.directives);
    if !field.selection_set.node.items.is_empty() {
        selection_set(out, &field.selection_set.node);
    }
}

fn selection_set(out: &mut String, set: &SelectionSet) {
    out.push_str(" {");
    for item in &set.items {
        out.push(' ');
        match &item.node {
            Selection::Field(field) => print_field(out, &field.node),
            Selection::FragmentSpread(spread) => {
                let _ = write!(out, "...{}", spread.node.fragment_name.node);
                directives(out, &spread.node.directives);
            }
            Selection::InlineFragment(inline) => {
                out.push_str("...");
                if let Some(on) = &inline.node.type_condition {
                    let _ = write!(out, " on {}", on.node.on.node);
                }
                directives(out, &inline.node.directives);
                selection_set(out, &inline.node.selection_set.node);
            }
        }
    }
    out.push_str(" }");
}

fn directives(out: &mut String, directives: &[Positioned<Directive>]) {
    for d in directives {
        let _ = write!(out, " @{}", d.node.name.node);
        if !d.node.arguments.is_empty() {
            out.push('(');
            for (i, (name, arg)) in d.node.arguments.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}: ", name.node);
                value(out, &arg.node);
            }
            out.push(')');
        }
    }
}

/// A value in GraphQL syntax. Strings are written here rather than with the value's
/// `Display`, which writes control characters' code points in decimal.
fn value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => {
            out.push('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    c if c.is_control() => {
                        let _ = write!(out, "\\u{:04x}", u32::from(c));
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value(out, item);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (i, (name, item)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{name}: ");
                value(out, item);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// What became of one part.
#[derive(Debug)]
pub enum Answer {
    /// A GraphQL response (`data`, `errors`, `extensions`), its objects in the order
    /// they were answered.
    Response(ConstValue),
    /// No GraphQL response: why, as an error `code` and message.
    Failed { code: String, message: String },
}

impl Plan {
    /// One response from the parts' answers (in the order of [`Plan::parts`]), its
    /// fields in the order asked. A root field a part could not answer is null with an
    /// error; when that field, or any part's whole `data`, cannot be null
    /// (`non_null(field)`), `data` is null, as GraphQL's null propagation would have it.
    /// Error locations name the part's own document, not the client's: dropped.
    pub fn merge(&self, answers: Vec<Answer>, non_null: impl Fn(&str) -> bool) -> ConstValue {
        let mut found: HashMap<&str, ConstValue> = HashMap::new();
        let mut errors = Vec::new();
        let mut data_null = false;
        for (part, answer) in self.parts.iter().zip(answers) {
            match answer {
                Answer::Response(ConstValue::Object(mut response)) => {
                    if let Some(ConstValue::List(list)) = response.shift_remove("errors") {
                        errors.extend(list.into_iter().map(|mut e| {
                            if let ConstValue::Object(e) = &mut e {
                                e.shift_remove("locations");
                            }
                            e
                        }));
                    }
                    match response.shift_remove("data") {
                        Some(ConstValue::Object(mut data)) => {
                            for key in &part.keys {
                                if let Some(v) = data.shift_remove(key.as_str()) {
                                    found.insert(key, v);
                                }
                            }
                        }
                        _ => data_null = true,
                    }
                }
                Answer::Response(_) => {
                    data_null = true;
                    errors.push(error(
                        "upstream_invalid",
                        "The service answered no GraphQL response.",
                        None,
                    ));
                }
                Answer::Failed { code, message } => {
                    for key in &part.keys {
                        errors.push(error(&code, &message, Some(key)));
                    }
                }
            }
        }
        let mut data = IndexMap::new();
        for (key, field) in &self.keys {
            let name = Name::new(key);
            if data.contains_key(&name) {
                continue;
            }
            let v = found.remove(key.as_str()).unwrap_or(ConstValue::Null);
            if v == ConstValue::Null && non_null(field) {
                data_null = true;
            }
            data.insert(name, v);
        }
        let mut response = IndexMap::new();
        response.insert(
            Name::new("data"),
            if data_null {
                ConstValue::Null
            } else {
                ConstValue::Object(data)
            },
        );
        if !errors.is_empty() {
            response.insert(Name::new("errors"), ConstValue::List(errors));
        }
        ConstValue::Object(response)
    }
}

fn error(code: &str, message: &str, key: Option<&str>) -> ConstValue {
    let mut e = IndexMap::new();
    e.insert(Name::new("message"), ConstValue::String(message.to_owned()));
    if let Some(key) = key {
        let path = vec![ConstValue::String(key.to_owned())];
        e.insert(Name::new("path"), ConstValue::List(path));
    }
    let mut extensions = IndexMap::new();
    extensions.insert(Name::new("code"), ConstValue::String(code.to_owned()));
    e.insert(Name::new("extensions"), ConstValue::Object(extensions));
    ConstValue::Object(e)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::needless_pass_by_value)]

    use super::*;
    use async_graphql::parser::parse_query;
    use serde_json::json;

    fn owner(_: OperationType, field: &str) -> String {
        match field {
            "products" | "product" | "createProduct" => "catalog",
            "cart" | "addCartItem" => "cart",
            _ => HERE,
        }
        .to_owned()
    }

    fn answer(v: Json) -> Answer {
        Answer::Response(ConstValue::from_json(v).unwrap())
    }

    fn text(v: &ConstValue) -> String {
        serde_json::to_string(v).unwrap()
    }

    fn split(query: &str, name: Option<&str>, vars: Json) -> Plan {
        let doc = parse_query(query).unwrap();
        match route(&doc, name, vars.as_object().unwrap(), owner) {
            Route::Split(plan) => plan,
            Route::Whole(o) => panic!("not split: whole to {o:?}"),
        }
    }

    /// Every part must itself be a valid document.
    fn queries(plan: &Plan) -> Vec<(String, String)> {
        plan.parts
            .iter()
            .map(|p| {
                let q = p.body["query"].as_str().unwrap().to_owned();
                parse_query(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
                (p.owner.clone(), q)
            })
            .collect()
    }

    #[test]
    fn a_document_of_one_owner_goes_whole_and_an_unroutable_one_stays_here() {
        let doc = parse_query("{ products(first: 2) { edges { node { id } } } }").unwrap();
        assert_eq!(
            route(&doc, None, &Map::new(), owner),
            Route::Whole("catalog".into())
        );
        let doc = parse_query("{ ...Missing }").unwrap();
        assert_eq!(
            route(&doc, None, &Map::new(), owner),
            Route::Whole(HERE.into())
        );
        let doc =
            parse_query("query A { meta { name } } query B { cart(id: \"c\") { id } }").unwrap();
        assert_eq!(
            route(&doc, None, &Map::new(), owner),
            Route::Whole(HERE.into())
        );
        assert_eq!(
            route(&doc, Some("B"), &Map::new(), owner),
            Route::Whole("cart".into())
        );
        let doc = parse_query("subscription { cart(id: \"c\") { id } meta }").unwrap();
        assert_eq!(
            route(&doc, None, &Map::new(), owner),
            Route::Whole("cart".into())
        );
    }

    #[test]
    fn each_part_keeps_only_its_fragments_and_variables() {
        let plan = split(
            r#"query Shop($first: Int = 3, $cart: ID!, $unused: String) @x {
                 list: products(first: $first, filter: {q: "tab\t\"quoted\"", tags: ["a", $unused]}) { ...P }
                 cart(id: $cart) { id ... on Cart { lines { ...L } } }
                 ... on Query { product(handle: "h") @include(if: true) { ...P } }
               }
               fragment P on Product { id name }
               fragment L on CartLine { id quantity }"#,
            Some("Shop"),
            json!({"first": 3, "cart": "cart_1", "unused": "x", "other": 1}),
        );
        assert!(!plan.serial);
        let q = queries(&plan);
        assert_eq!(q[0].0, "catalog");
        assert_eq!(
            q[0].1,
            "query Shop($first: Int = 3, $unused: String) @x { list: products(first: $first, filter: {q: \"tab\\t\\\"quoted\\\"\", tags: [\"a\", $unused]}) { ...P } product(handle: \"h\") @include(if: true) { ...P } }\nfragment P on Product { id name }"
        );
        assert_eq!(
            plan.parts[0].body["variables"],
            json!({"first": 3, "unused": "x"})
        );
        assert_eq!(plan.parts[0].body["operationName"], "Shop");
        assert_eq!(q[1].0, "cart");
        assert_eq!(
            q[1].1,
            "query Shop($cart: ID!) @x { cart(id: $cart) { id ... on Cart { lines { ...L } } } }\nfragment L on CartLine { id quantity }"
        );
        assert_eq!(plan.parts[1].body["variables"], json!({"cart": "cart_1"}));
    }

    #[test]
    fn a_mutation_s_fields_run_in_order_in_runs_of_one_owner() {
        let plan = split(
            "mutation { a: createProduct(x: 1) { id } b: addCartItem(x: 2) { id } c: addCartItem(x: 3) { id } d: createProduct(x: 4) { id } }",
            None,
            json!({}),
        );
        assert!(plan.serial);
        let owners: Vec<_> = plan.parts.iter().map(|p| p.owner.as_str()).collect();
        assert_eq!(owners, ["catalog", "cart", "catalog"]);
        assert_eq!(plan.parts[1].keys, ["b", "c"]);
    }

    #[test]
    fn answers_merge_in_the_order_asked_and_a_failed_part_nulls_only_what_may_be_null() {
        let plan = split(
            "{ cart(id: \"c\") { id } products { id } meta { name } }",
            None,
            json!({}),
        );
        let owners: Vec<_> = plan.parts.iter().map(|p| p.owner.as_str()).collect();
        assert_eq!(owners, ["cart", "catalog", HERE]);
        let answers = || {
            vec![
                answer(json!({"data": {"cart": {"id": "c"}}})),
                Answer::Failed {
                    code: "upstream_unavailable".into(),
                    message: "down".into(),
                },
                answer(json!({"data": {"meta": {"name": "weft"}},
                    "errors": [{"message": "m", "locations": [{"line": 1, "column": 3}], "path": ["meta"]}]})),
            ]
        };
        let merged = plan.merge(answers(), |_| false);
        assert_eq!(
            text(&merged),
            r#"{"data":{"cart":{"id":"c"},"products":null,"meta":{"name":"weft"}},"errors":[{"message":"down","path":["products"],"extensions":{"code":"upstream_unavailable"}},{"message":"m","path":["meta"]}]}"#
        );
        let merged = plan.merge(answers(), |field| field == "products");
        assert!(text(&merged).starts_with(r#"{"data":null,"errors":"#));
        let merged = plan.merge(
            vec![
                answer(json!({"data": null, "errors": [{"message": "x"}]})),
                answer(json!({"data": {"products": []}})),
                answer(json!({"data": {"meta": {}}})),
            ],
            |_| false,
        );
        assert_eq!(text(&merged), r#"{"data":null,"errors":[{"message":"x"}]}"#);
    }
}
