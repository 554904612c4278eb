//! The cluster index: Elasticsearch, through the official client. One index per shop
//! (`weft-products` by default), created with Weft's mapping on first use.

use elasticsearch::http::request::JsonBody;
use elasticsearch::http::transport::Transport;
use elasticsearch::indices::{
    IndicesCreateParts, IndicesDeleteParts, IndicesExistsParts, IndicesPutMappingParts,
    IndicesRefreshParts,
};
use elasticsearch::{BulkParts, CountParts, DeleteByQueryParts, Elasticsearch, SearchParts};
use serde_json::{Value, json};

use crate::{
    FIELD_BOOSTS, FUZZINESS, FacetCount, Facets, Hit, PriceBucket, ProductDoc, SearchError,
    SearchIndex, SearchRequest, SearchResults, SearchSort, empty_buckets, sort_facet,
};

/// Facet values asked for per facet: more than a clothing shop has brands or sizes.
const FACET_SIZE: usize = 500;
const EXCERPT_CHARS: usize = 160;

/// A product search index in Elasticsearch.
#[derive(Clone)]
pub struct ElasticIndex {
    client: Elasticsearch,
    name: String,
}

impl std::fmt::Debug for ElasticIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElasticIndex")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> SearchError {
    SearchError::Unavailable(e.to_string())
}

/// The index's settings and mapping: the same analysis as the tantivy index (words
/// lowercased and folded to ASCII, no stemming).
fn mapping() -> Value {
    let text = json!({"type": "text", "analyzer": "weft"});
    json!({
        "settings": {
            "analysis": {
                "analyzer": {
                    "weft": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
                }
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "title": text,
                "brand": {"type": "text", "analyzer": "weft", "fields": {"key": {"type": "keyword"}}},
                "description": text,
                "tags": text,
                "status": {"type": "keyword"},
                "stock": {"type": "keyword"},
                "category": {"type": "keyword"},
                "size": {"type": "keyword"},
                "color": {"type": "keyword"},
                "created": {"type": "long"},
                // Mean rating × 100.
                "rating": {"type": "long"},
                // `USD_min`, `USD_max`, … : any currency, each a long.
                "prices": {"type": "object", "dynamic": true},
                "card": {"type": "object", "enabled": false}
            },
            "dynamic_templates": [
                {"prices": {"path_match": "prices.*", "mapping": {"type": "long"}}}
            ]
        }
    })
}

fn source(doc: &ProductDoc) -> Value {
    let mut prices = serde_json::Map::new();
    for (currency, span) in &doc.prices {
        prices.insert(format!("{currency}_min"), json!(span.min));
        prices.insert(format!("{currency}_max"), json!(span.max));
    }
    json!({
        "id": doc.id,
        "title": doc.title,
        "brand": doc.brand,
        "description": doc.description,
        "tags": doc.tags,
        "status": doc.status,
        "stock": crate::stock_term(doc.in_stock),
        "category": doc.category_id,
        "size": doc.sizes,
        "color": doc.colors,
        "created": doc.created_at_ms,
        "rating": doc.rating,
        "prices": prices,
        "card": doc.card,
    })
}

/// The search body for `request`: Weft's rules in Elasticsearch's query language.
fn body(request: &SearchRequest) -> Value {
    let currency = &request.currency;
    let min_field = format!("prices.{currency}_min");
    let max_field = format!("prices.{currency}_max");
    let mut must = Vec::new();
    let text = request.text.trim();
    if !text.is_empty() {
        let fields: Vec<String> = FIELD_BOOSTS
            .iter()
            .map(|(field, boost)| format!("{field}^{boost}"))
            .collect();
        // Every word must match some field; each may carry typos; the last is a prefix.
        must.push(json!({"multi_match": {
            "query": text,
            "type": "bool_prefix",
            "fields": fields,
            "fuzziness": FUZZINESS,
            "operator": "and",
            // "!!!" has no words: match like no text, as the tantivy index does.
            "zero_terms_query": "all"
        }}));
    }
    let mut filter = Vec::new();
    if !request.statuses.is_empty() {
        filter.push(json!({"terms": {"status": request.statuses}}));
    }
    if let Some(wanted) = request.in_stock {
        filter.push(json!({"term": {"stock": crate::stock_term(wanted)}}));
    }
    if let Some(ids) = &request.category_ids {
        filter.push(json!({"terms": {"category": ids}}));
    }
    if let Some(ids) = &request.product_ids {
        filter.push(json!({"terms": {"id": ids}}));
    }
    for (field, value) in [
        ("brand.key", &request.brand),
        ("size", &request.size),
        ("color", &request.color),
    ] {
        if let Some(value) = value {
            filter.push(json!({"term": {field: value}}));
        }
    }
    if let Some(floor) = request.min_price {
        filter.push(json!({"range": {max_field.clone(): {"gte": floor}}}));
    }
    if let Some(ceiling) = request.max_price {
        filter.push(json!({"range": {min_field.clone(): {"lte": ceiling}}}));
    }
    if let Some(stars) = request.min_rating {
        filter.push(json!({"range": {"rating": {"gte": stars * 100}}}));
    }
    let newest = json!({"created": {"order": "desc"}});
    let by_price =
        |order: &str| json!({min_field.clone(): {"order": order, "unmapped_type": "long"}});
    let sort = match request.sort {
        SearchSort::Relevance if !text.is_empty() => json!(["_score", newest]),
        SearchSort::Relevance | SearchSort::Newest => json!([newest]),
        SearchSort::PriceAsc => json!([by_price("asc"), newest]),
        SearchSort::PriceDesc => json!([by_price("desc"), newest]),
        SearchSort::Rating => {
            json!([{"rating": {"order": "desc", "unmapped_type": "long"}}, newest])
        }
    };
    if matches!(request.sort, SearchSort::PriceAsc | SearchSort::PriceDesc) {
        filter.push(json!({"exists": {"field": min_field}}));
    }
    let ranges: Vec<Value> = empty_buckets(&request.price_bucket_bounds)
        .iter()
        .map(|b| match b.to {
            Some(to) if b.from == 0 => json!({"to": to}),
            Some(to) => json!({"from": b.from, "to": to}),
            None => json!({"from": b.from}),
        })
        .collect();
    let mut body = json!({
        "from": request.offset,
        "size": request.limit,
        "track_total_hits": true,
        "track_scores": true,
        "query": {"bool": {"must": must, "filter": filter}},
        "sort": sort,
    });
    if request.hits_only {
        body["_source"] = json!(["id"]);
        return body;
    }
    let terms = |field: &str| json!({"terms": {"field": field, "size": FACET_SIZE}});
    body["aggs"] = json!({
        "category": terms("category"),
        "brand": terms("brand.key"),
        "size": terms("size"),
        "color": terms("color"),
        "price": {"range": {"field": min_field, "ranges": ranges}},
        // One open-ended range per floor: "4 stars & up", …
        "rating": {"range": {"field": "rating", "keyed": false, "ranges": crate::RATING_FLOORS
            .iter()
            .map(|stars| json!({"from": stars * 100}))
            .collect::<Vec<_>>()}}
    });
    body["highlight"] = json!({
        "pre_tags": ["<em>"],
        "post_tags": ["</em>"],
        "encoder": "html",
        "fields": {
            "title": {"number_of_fragments": 0},
            "brand": {"number_of_fragments": 0},
            "description": {"fragment_size": EXCERPT_CHARS, "number_of_fragments": 1}
        }
    });
    body
}

fn results(request: &SearchRequest, answer: &Value) -> Result<SearchResults, SearchError> {
    let bad = |what: &str| SearchError::Failed(format!("unexpected Elasticsearch answer: {what}"));
    let total = answer["hits"]["total"]["value"]
        .as_u64()
        .ok_or_else(|| bad("hits.total"))?;
    let hits = answer["hits"]["hits"]
        .as_array()
        .ok_or_else(|| bad("hits.hits"))?
        .iter()
        .map(|h| {
            let mut highlights = std::collections::BTreeMap::new();
            if let Some(fields) = h["highlight"].as_object() {
                for (field, fragments) in fields {
                    if let Some(first) = fragments.get(0).and_then(Value::as_str) {
                        highlights.insert(field.clone(), first.to_owned());
                    }
                }
            }
            #[allow(clippy::cast_possible_truncation)]
            Hit {
                id: h["_source"]["id"].as_str().unwrap_or_default().to_owned(),
                score: h["_score"].as_f64().unwrap_or_default() as f32,
                card: h["_source"]["card"].clone(),
                highlights,
            }
        })
        .collect();
    if request.hits_only {
        return Ok(SearchResults {
            total,
            hits,
            facets: Facets::default(),
        });
    }
    let aggs = &answer["aggregations"];
    let terms = |name: &str| {
        let mut counts: Vec<FacetCount> = aggs[name]["buckets"]
            .as_array()
            .map(|buckets| {
                buckets
                    .iter()
                    .filter_map(|b| {
                        Some(FacetCount {
                            value: b["key"].as_str()?.to_owned(),
                            count: b["doc_count"].as_u64()?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        sort_facet(&mut counts);
        counts
    };
    let mut price: Vec<PriceBucket> = empty_buckets(&request.price_bucket_bounds);
    if let Some(buckets) = aggs["price"]["buckets"].as_array() {
        for (into, from) in price.iter_mut().zip(buckets) {
            into.count = from["doc_count"].as_u64().unwrap_or_default();
        }
    }
    // Elasticsearch answers range buckets in ascending order of `from`: match by floor.
    let mut ratings = [0u64; 4];
    if let Some(buckets) = aggs["rating"]["buckets"].as_array() {
        for bucket in buckets {
            let from = bucket["from"].as_f64().unwrap_or(-1.0);
            for (floor, count) in crate::RATING_FLOORS.iter().zip(ratings.iter_mut()) {
                #[allow(clippy::cast_precision_loss)]
                if (from - (floor * 100) as f64).abs() < 0.5 {
                    *count = bucket["doc_count"].as_u64().unwrap_or_default();
                }
            }
        }
    }
    Ok(SearchResults {
        total,
        hits,
        facets: Facets {
            category: terms("category"),
            brand: terms("brand"),
            size: terms("size"),
            color: terms("color"),
            price,
            rating: crate::rating_facet(ratings),
        },
    })
}

impl ElasticIndex {
    /// Connects to `url` and makes sure index `name` exists with Weft's mapping. The
    /// second value is true when the index was created now and is empty.
    pub async fn open(url: &str, name: &str) -> Result<(Self, bool), SearchError> {
        let transport = Transport::single_node(url).map_err(unavailable)?;
        let index = Self {
            client: Elasticsearch::new(transport),
            name: name.to_owned(),
        };
        let exists = index
            .client
            .indices()
            .exists(IndicesExistsParts::Index(&[name]))
            .send()
            .await
            .map_err(unavailable)?;
        let created = match exists.status_code().as_u16() {
            200 => {
                // Fields added since the index was made (adding is all a mapping allows).
                index
                    .client
                    .indices()
                    .put_mapping(IndicesPutMappingParts::Index(&[name]))
                    .body(mapping()["mappings"].clone())
                    .send()
                    .await
                    .map_err(unavailable)?
                    .error_for_status_code()
                    .map_err(unavailable)?;
                false
            }
            404 => {
                index
                    .client
                    .indices()
                    .create(IndicesCreateParts::Index(name))
                    .body(mapping())
                    .send()
                    .await
                    .map_err(unavailable)?
                    .error_for_status_code()
                    .map_err(unavailable)?;
                true
            }
            status => return Err(unavailable(format!("index {name}: status {status}"))),
        };
        let empty = index.count().await? == 0;
        Ok((index, created || empty))
    }

    /// Deletes the index (tests clean up after themselves).
    pub async fn drop_index(&self) -> Result<(), SearchError> {
        self.client
            .indices()
            .delete(IndicesDeleteParts::Index(&[&self.name]))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn bulk(&self, lines: Vec<JsonBody<Value>>) -> Result<(), SearchError> {
        if lines.is_empty() {
            return Ok(());
        }
        let answer: Value = self
            .client
            .bulk(BulkParts::Index(&self.name))
            .body(lines)
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        if answer["errors"].as_bool() == Some(true) {
            // Deleting what is not there is not an error.
            let first = answer["items"].as_array().and_then(|items| {
                items.iter().find_map(|item| {
                    let (op, result) = item.as_object()?.iter().next()?;
                    let status = result["status"].as_u64()?;
                    (status >= 300 && !(op == "delete" && status == 404))
                        .then(|| result["error"].to_string())
                })
            });
            if let Some(error) = first {
                return Err(SearchError::Failed(format!("bulk write: {error}")));
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl SearchIndex for ElasticIndex {
    fn backend(&self) -> &'static str {
        "elasticsearch"
    }

    async fn upsert(&self, docs: Vec<ProductDoc>) -> Result<(), SearchError> {
        let mut lines = Vec::with_capacity(docs.len() * 2);
        for doc in &docs {
            lines.push(JsonBody::new(json!({"index": {"_id": doc.id}})));
            lines.push(JsonBody::new(source(doc)));
        }
        self.bulk(lines).await
    }

    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError> {
        let lines = ids
            .iter()
            .map(|id| JsonBody::new(json!({"delete": {"_id": id}})))
            .collect();
        self.bulk(lines).await
    }

    async fn clear(&self) -> Result<(), SearchError> {
        self.client
            .delete_by_query(DeleteByQueryParts::Index(&[&self.name]))
            .conflicts(elasticsearch::params::Conflicts::Proceed)
            .refresh(true)
            .body(json!({"query": {"match_all": {}}}))
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(unavailable)?;
        Ok(())
    }

    async fn refresh(&self) -> Result<(), SearchError> {
        self.client
            .indices()
            .refresh(IndicesRefreshParts::Index(&[&self.name]))
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(unavailable)?;
        Ok(())
    }

    async fn count(&self) -> Result<u64, SearchError> {
        let answer: Value = self
            .client
            .count(CountParts::Index(&[&self.name]))
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        answer["count"]
            .as_u64()
            .ok_or_else(|| SearchError::Failed("count: no count".into()))
    }

    async fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let answer: Value = self
            .client
            .search(SearchParts::Index(&[&self.name]))
            .body(body(request))
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(|e| SearchError::Failed(e.to_string()))?
            .json()
            .await
            .map_err(unavailable)?;
        results(request, &answer)
    }

    async fn ping(&self) -> Result<(), SearchError> {
        self.client
            .ping()
            .send()
            .await
            .map_err(unavailable)?
            .error_for_status_code()
            .map_err(unavailable)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_spells_weft_rules_in_elasticsearch_terms() {
        let request = SearchRequest {
            text: "wool jaket".into(),
            statuses: vec!["active".into()],
            size: Some("M".into()),
            currency: "EUR".into(),
            min_price: Some(1000),
            price_bucket_bounds: vec![2500, 5000],
            sort: SearchSort::PriceAsc,
            limit: 20,
            ..SearchRequest::default()
        };
        let b = body(&request);
        let text = &b["query"]["bool"]["must"][0]["multi_match"];
        assert_eq!(text["fuzziness"], "AUTO:4,8");
        assert_eq!(text["type"], "bool_prefix");
        assert_eq!(text["operator"], "and");
        let filters = b["query"]["bool"]["filter"].to_string();
        assert!(
            filters.contains(r#"{"range":{"prices.EUR_max":{"gte":1000}}}"#),
            "{filters}"
        );
        assert!(
            filters.contains(r#"{"exists":{"field":"prices.EUR_min"}}"#),
            "{filters}"
        );
        assert!(filters.contains(r#"{"term":{"size":"M"}}"#), "{filters}");
        assert_eq!(b["sort"][0]["prices.EUR_min"]["order"], "asc");
        let bare = body(&SearchRequest {
            hits_only: true,
            ..request.clone()
        });
        assert_eq!(
            (bare.get("aggs"), bare.get("highlight"), &bare["_source"]),
            (None, None, &json!(["id"]))
        );
        assert_eq!(bare["query"], b["query"]);
        assert_eq!(
            b["aggs"]["price"]["range"]["ranges"],
            json!([{"to": 2500}, {"from": 2500, "to": 5000}, {"from": 5000}])
        );
    }
}
