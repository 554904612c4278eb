//! The embedded index: tantivy on local disk (`<data_dir>/search`).
//!
//! Writes go to one `IndexWriter` (tantivy allows one per directory, across processes) and
//! become visible when a background task commits them, at most [`COMMIT_DELAY`] later, so
//! a burst of edits (an import, the demo seed) costs one commit, not one per product.
//! Searches read the last committed state and never wait for a writer.

use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, JsonObjectOptions, OwnedValue, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer, TokenStream,
};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentOrdinal,
    SegmentReader, TantivyDocument, TantivyError, Term,
};

use crate::highlight::{self, QueryWord};
use crate::{
    FIELD_BOOSTS, FacetCount, Facets, Hit, PriceBucket, ProductDoc, SearchError, SearchIndex,
    SearchRequest, SearchResults, SearchSort, bucket_of, empty_buckets, sort_facet,
};

/// How long a write may wait before it is committed and visible.
pub const COMMIT_DELAY: Duration = Duration::from_millis(150);
/// The writer's memory budget: tantivy's minimum per indexing thread is 15 MB.
const WRITER_MEMORY: usize = 20_000_000;
/// Up to this many values, a filter is a union of term queries rather than a term set.
const FEW_TERMS: usize = 64;
/// The analyzer of every full-text field and of the query.
const ANALYZER: &str = "weft";
/// Length of a description excerpt in a highlight.
const EXCERPT_BYTES: usize = 160;

/// Words split on non-alphanumerics, lowercased and folded to ASCII (`Café` → `cafe`);
/// no stemming, so typo tolerance sees the words as written.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    brand: Field,
    description: Field,
    tags: Field,
    brand_key: Field,
    category: Field,
    size: Field,
    color: Field,
    status: Field,
    /// `in_stock` or `out_of_stock`.
    stock: Field,
    created: Field,
    /// Mean rating × 100.
    rating: Field,
    prices: Field,
    card: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED | FAST),
        title: b.add_text_field("title", text(true)),
        brand: b.add_text_field("brand", text(true)),
        description: b.add_text_field("description", text(true)),
        tags: b.add_text_field("tags", text(false)),
        brand_key: b.add_text_field("brand_key", STRING | FAST),
        category: b.add_text_field("category", STRING | FAST),
        size: b.add_text_field("size", STRING | FAST),
        color: b.add_text_field("color", STRING | FAST),
        status: b.add_text_field("status", STRING),
        stock: b.add_text_field("stock", STRING),
        created: b.add_i64_field("created", INDEXED | FAST),
        rating: b.add_i64_field("rating", INDEXED | FAST),
        // `{"USD_min": 1999, "USD_max": 2999, …}`: any currency, no schema change.
        prices: b.add_json_field("prices", JsonObjectOptions::from(FAST)),
        card: b.add_text_field("card", STORED),
    };
    (b.build(), fields)
}

fn failed(e: impl std::fmt::Display) -> SearchError {
    SearchError::Failed(e.to_string())
}

/// A product search index in a local directory.
#[derive(Clone)]
pub struct TantivyIndex {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Writes not committed yet.
    dirty: AtomicBool,
    wake: Arc<tokio::sync::Notify>,
}

impl std::fmt::Debug for TantivyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TantivyIndex").finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Last holder gone (shutdown, end of `weft reindex`): keep what was written.
        if self.dirty.load(Ordering::Acquire)
            && let Ok(mut writer) = self.writer.lock()
            && let Err(err) = writer.commit()
        {
            tracing::warn!(error = %err, "search index: last commit failed");
        }
        self.wake.notify_one();
    }
}

impl TantivyIndex {
    /// Opens the index in `dir`, creating it (and the directory) when absent. The second
    /// value is true when the index was created now and is empty: the catalog should be
    /// indexed into it. An index of an older layout is recreated empty.
    ///
    /// Must run inside a tokio runtime (it starts the committing task).
    pub fn open(dir: &Path) -> Result<(Self, bool), SearchError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| SearchError::Unavailable(format!("{}: {e}", dir.display())))?;
        let (schema, fields) = schema();
        let open = |dir: &Path| -> Result<(Index, bool), TantivyError> {
            let directory = MmapDirectory::open(dir)?;
            let existed = Index::exists(&directory)?;
            let index = Index::open_or_create(directory, schema.clone())?;
            Ok((index, !existed))
        };
        let (index, created) = match open(dir) {
            Ok(opened) => opened,
            Err(TantivyError::SchemaError(reason)) => {
                tracing::warn!(%reason, dir = %dir.display(), "search index has an older layout; recreating it");
                std::fs::remove_dir_all(dir)
                    .and_then(|()| std::fs::create_dir_all(dir))
                    .map_err(|e| SearchError::Unavailable(format!("{}: {e}", dir.display())))?;
                open(dir).map_err(|e| SearchError::Unavailable(e.to_string()))?
            }
            Err(e) => return Err(SearchError::Unavailable(e.to_string())),
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| match e {
                TantivyError::LockFailure(..) => SearchError::Unavailable(format!(
                    "{} is in use by another weft process (only one may write it; stop it first)",
                    dir.display()
                )),
                e => SearchError::Unavailable(e.to_string()),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e: TantivyError| SearchError::Unavailable(e.to_string()))?;
        let wake = Arc::new(tokio::sync::Notify::new());
        let inner = Arc::new(Inner {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            dirty: AtomicBool::new(false),
            wake: Arc::clone(&wake),
        });
        tokio::spawn(commit_loop(Arc::downgrade(&inner), wake));
        let empty = inner.reader.searcher().num_docs() == 0;
        Ok((Self { inner }, created || empty))
    }

    fn document(&self, doc: &ProductDoc) -> Result<TantivyDocument, SearchError> {
        let f = &self.inner.fields;
        let mut d = TantivyDocument::default();
        d.add_text(f.id, &doc.id);
        d.add_text(f.title, &doc.title);
        d.add_text(f.brand, &doc.brand);
        d.add_text(f.brand_key, &doc.brand);
        d.add_text(f.description, &doc.description);
        for tag in &doc.tags {
            d.add_text(f.tags, tag);
        }
        d.add_text(f.status, &doc.status);
        d.add_text(f.stock, crate::stock_term(doc.in_stock));
        if let Some(category) = &doc.category_id {
            d.add_text(f.category, category);
        }
        for size in &doc.sizes {
            d.add_text(f.size, size);
        }
        for color in &doc.colors {
            d.add_text(f.color, color);
        }
        d.add_i64(f.created, doc.created_at_ms);
        d.add_i64(f.rating, doc.rating);
        let mut prices = BTreeMap::new();
        for (currency, span) in &doc.prices {
            prices.insert(format!("{currency}_min"), OwnedValue::I64(span.min));
            prices.insert(format!("{currency}_max"), OwnedValue::I64(span.max));
        }
        d.add_object(f.prices, prices);
        d.add_text(f.card, serde_json::to_string(&doc.card).map_err(failed)?);
        Ok(d)
    }

    fn mark_dirty(&self) {
        self.inner.dirty.store(true, Ordering::Release);
        self.inner.wake.notify_one();
    }

    fn words(text: &str) -> Vec<QueryWord> {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while let Some(token) = stream.next() {
            words.push(token.text.clone());
        }
        // Only a word still being typed is a prefix: "wool " (trailing space) is whole.
        let typing = !text.ends_with(char::is_whitespace);
        let last = words.len().saturating_sub(1);
        words
            .into_iter()
            .enumerate()
            .map(|(i, w)| QueryWord::new(w, typing && i == last))
            .collect()
    }

    fn query(&self, request: &SearchRequest, words: &[QueryWord]) -> Box<dyn Query> {
        let f = &self.inner.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let text_fields = [f.title, f.brand, f.tags, f.description];
        for word in words {
            let mut either: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, (_, boost)) in text_fields.iter().zip(FIELD_BOOSTS) {
                let term = Term::from_field_text(*field, &word.text);
                // Exact words outrank typos and completions.
                either.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                        boost * 2.0,
                    )),
                ));
                if word.typos > 0 {
                    either.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new(term.clone(), word.typos, true)),
                            boost * 0.5,
                        )),
                    ));
                }
                if word.prefix {
                    either.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(
                            Box::new(FuzzyTermQuery::new_prefix(term, word.typos, true)),
                            boost * 0.5,
                        )),
                    ));
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(either))));
        }
        let filter = |clauses: &mut Vec<(Occur, Box<dyn Query>)>, q: Box<dyn Query>| {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0))));
        };
        let terms = |field: Field, values: &[String]| -> Box<dyn Query> {
            let terms = values.iter().map(|v| Term::from_field_text(field, v));
            // A `TermSetQuery` builds an FST of its terms for every search, a fixed
            // cost (a 10,000-cell registry) that was a third of an uncached search;
            // a few terms are cheaper as a union of term queries.
            if values.len() > FEW_TERMS {
                return Box::new(TermSetQuery::new(terms));
            }
            let mut any: Vec<(Occur, Box<dyn Query>)> = terms
                .map(|term| {
                    let one: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, one)
                })
                .collect();
            if any.len() == 1 {
                return any.remove(0).1;
            }
            // None of no values matches nothing, as a term set of none did.
            Box::new(BooleanQuery::new(any))
        };
        if !request.statuses.is_empty() {
            filter(&mut clauses, terms(f.status, &request.statuses));
        }
        if let Some(wanted) = request.in_stock {
            filter(
                &mut clauses,
                terms(f.stock, &[crate::stock_term(wanted).to_owned()]),
            );
        }
        if let Some(ids) = &request.category_ids {
            filter(&mut clauses, terms(f.category, ids));
        }
        if let Some(ids) = &request.product_ids {
            filter(&mut clauses, terms(f.id, ids));
        }
        for (field, value) in [
            (f.brand_key, &request.brand),
            (f.size, &request.size),
            (f.color, &request.color),
        ] {
            if let Some(value) = value {
                filter(&mut clauses, terms(field, std::slice::from_ref(value)));
            }
        }
        if clauses.is_empty() {
            Box::new(AllQuery)
        } else {
            if words.is_empty() {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
    }

    /// A hit's id from its fast column: no stored document is read.
    fn bare_hit(
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: Score,
    ) -> Result<Hit, SearchError> {
        let ids = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .str("id")
            .map_err(failed)?
            .ok_or_else(|| SearchError::Failed("no id column".to_owned()))?;
        let mut id = String::new();
        if let Some(ord) = ids.term_ords(address.doc_id).next() {
            ids.ord_to_str(ord, &mut id).map_err(failed)?;
        }
        Ok(Hit {
            id,
            score,
            card: serde_json::Value::Null,
            highlights: BTreeMap::new(),
        })
    }

    fn hit(
        &self,
        searcher: &tantivy::Searcher,
        address: DocAddress,
        score: Score,
        words: &[QueryWord],
        analyzer: &mut TextAnalyzer,
    ) -> Result<Hit, SearchError> {
        let f = &self.inner.fields;
        let doc: TantivyDocument = searcher.doc(address).map_err(failed)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let card = serde_json::from_str(&text(f.card)).map_err(failed)?;
        let mut highlights = BTreeMap::new();
        if !words.is_empty() {
            for (name, field) in [("title", f.title), ("brand", f.brand)] {
                if let Some(marked) = highlight::whole(analyzer, &text(field), words) {
                    highlights.insert(name.to_owned(), marked);
                }
            }
            if let Some(marked) =
                highlight::excerpt(analyzer, &text(f.description), words, EXCERPT_BYTES)
            {
                highlights.insert("description".to_owned(), marked);
            }
        }
        Ok(Hit {
            id: text(f.id),
            score,
            card,
            highlights,
        })
    }
}

/// Commits pending writes shortly after they happen, until the index is dropped.
async fn commit_loop(inner: Weak<Inner>, wake: Arc<tokio::sync::Notify>) {
    loop {
        wake.notified().await;
        tokio::time::sleep(COMMIT_DELAY).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let result = tokio::task::spawn_blocking(move || commit(&inner)).await;
        match result {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "search index: commit failed; will retry"),
            Err(err) => tracing::warn!(error = %err, "search index: commit task failed"),
        }
    }
}

fn commit(inner: &Inner) -> Result<(), SearchError> {
    if !inner.dirty.swap(false, Ordering::AcqRel) {
        return Ok(());
    }
    let result = {
        let mut writer = inner
            .writer
            .lock()
            .map_err(|_| failed("writer lock poisoned"))?;
        writer.commit().map(|_| ())
    };
    if let Err(err) = result {
        inner.dirty.store(true, Ordering::Release);
        inner.wake.notify_one();
        return Err(failed(err));
    }
    inner.reader.reload().map_err(failed)
}

#[async_trait::async_trait]
impl SearchIndex for TantivyIndex {
    fn backend(&self) -> &'static str {
        "tantivy"
    }

    async fn upsert(&self, docs: Vec<ProductDoc>) -> Result<(), SearchError> {
        let documents = docs
            .iter()
            .map(|d| self.document(d).map(|t| (d.id.clone(), t)))
            .collect::<Result<Vec<_>, _>>()?;
        {
            let writer = self
                .inner
                .writer
                .lock()
                .map_err(|_| failed("writer lock poisoned"))?;
            for (id, document) in documents {
                writer.delete_term(Term::from_field_text(self.inner.fields.id, &id));
                writer.add_document(document).map_err(failed)?;
            }
        }
        self.mark_dirty();
        Ok(())
    }

    async fn delete(&self, ids: Vec<String>) -> Result<(), SearchError> {
        {
            let writer = self
                .inner
                .writer
                .lock()
                .map_err(|_| failed("writer lock poisoned"))?;
            for id in ids {
                writer.delete_term(Term::from_field_text(self.inner.fields.id, &id));
            }
        }
        self.mark_dirty();
        Ok(())
    }

    async fn clear(&self) -> Result<(), SearchError> {
        self.inner
            .writer
            .lock()
            .map_err(|_| failed("writer lock poisoned"))?
            .delete_all_documents()
            .map_err(failed)?;
        self.mark_dirty();
        Ok(())
    }

    async fn refresh(&self) -> Result<(), SearchError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || commit(&inner))
            .await
            .map_err(failed)?
    }

    async fn count(&self) -> Result<u64, SearchError> {
        Ok(self.inner.reader.searcher().num_docs())
    }

    async fn search(&self, request: &SearchRequest) -> Result<SearchResults, SearchError> {
        let words = Self::words(&request.text);
        let query = self.query(request, &words);
        let searcher = self.inner.reader.searcher();
        let collector = SearchCollector {
            request,
            scored: !words.is_empty(),
        };
        let gathered = searcher.search(&*query, &collector).map_err(failed)?;
        let mut analyzer = analyzer();
        let page = gathered.top.into_iter().skip(request.offset);
        let hits = if request.hits_only {
            page.map(|e| Self::bare_hit(&searcher, e.address, e.score))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            page.map(|e| self.hit(&searcher, e.address, e.score, &words, &mut analyzer))
                .collect::<Result<Vec<_>, _>>()?
        };
        let facet = |counts: HashMap<String, u64>| {
            let mut v: Vec<FacetCount> = counts
                .into_iter()
                .map(|(value, count)| FacetCount { value, count })
                .collect();
            sort_facet(&mut v);
            v
        };
        let [category, brand, size, color] = gathered.facets;
        if request.hits_only {
            return Ok(SearchResults {
                total: gathered.total,
                hits,
                facets: Facets::default(),
            });
        }
        Ok(SearchResults {
            total: gathered.total,
            hits,
            facets: Facets {
                category: facet(category),
                brand: facet(brand),
                size: facet(size),
                color: facet(color),
                price: gathered.buckets,
                rating: crate::rating_facet(gathered.ratings),
            },
        })
    }

    fn generation(&self) -> Option<u64> {
        Some(self.inner.reader.searcher().generation().generation_id())
    }

    async fn ping(&self) -> Result<(), SearchError> {
        // The reader is in memory; reading its segment list proves the files are there.
        self.inner.index.searchable_segment_ids().map_err(failed)?;
        Ok(())
    }
}

// --- one pass over the matches: total, facets, price buckets and the top of the page ---

/// Which facet columns, in the order of `Gathered::facets`.
const FACET_COLUMNS: [&str; 4] = ["category", "brand_key", "size", "color"];

struct SearchCollector<'a> {
    request: &'a SearchRequest,
    scored: bool,
}

struct Gathered {
    total: u64,
    facets: [HashMap<String, u64>; 4],
    buckets: Vec<PriceBucket>,
    /// Matches at or above each of the rating floors.
    ratings: [u64; 4],
    /// Best first, `offset + limit` at most.
    top: Vec<Entry>,
}

/// A candidate for the page, ordered so that the better one is greater.
#[derive(Clone, Copy)]
struct Entry {
    key: f64,
    /// Ties: newer first (then the index's own order).
    created: i64,
    score: Score,
    address: DocAddress,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key
            .total_cmp(&other.key)
            .then(self.created.cmp(&other.created))
            .then(other.address.cmp(&self.address))
    }
}

/// Keeps the `n` greatest entries.
struct Top {
    n: usize,
    heap: BinaryHeap<std::cmp::Reverse<Entry>>,
}

impl Top {
    fn new(n: usize) -> Self {
        Self {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
        }
    }

    fn push(&mut self, entry: Entry) {
        if self.n == 0 {
            return;
        }
        if self.heap.len() < self.n {
            self.heap.push(std::cmp::Reverse(entry));
        } else if self.heap.peek().is_some_and(|min| entry > min.0) {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(entry));
        }
    }

    fn best_first(self) -> Vec<Entry> {
        let mut v: Vec<Entry> = self.heap.into_iter().map(|r| r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

struct SegmentSearch {
    segment: SegmentOrdinal,
    floor: Option<i64>,
    ceiling: Option<i64>,
    sort: SearchSort,
    bounds: Vec<i64>,
    hits_only: bool,
    scored: bool,
    min_price: Option<Column<i64>>,
    max_price: Option<Column<i64>>,
    created: Option<Column<i64>>,
    rating: Option<Column<i64>>,
    /// The least rating × 100 a match needs.
    rating_floor: Option<i64>,
    facet_columns: [Option<StrColumn>; 4],
    facet_counts: [Vec<u64>; 4],
    total: u64,
    buckets: Vec<PriceBucket>,
    ratings: [u64; 4],
    top: Top,
}

impl Collector for SearchCollector<'_> {
    type Fruit = Gathered;
    type Child = SegmentSearch;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentSearch> {
        let fast = reader.fast_fields();
        let currency = &self.request.currency;
        // Without facets no column is read, so none is counted.
        let facet_columns = if self.request.hits_only {
            [None, None, None, None]
        } else {
            [
                fast.str(FACET_COLUMNS[0])?,
                fast.str(FACET_COLUMNS[1])?,
                fast.str(FACET_COLUMNS[2])?,
                fast.str(FACET_COLUMNS[3])?,
            ]
        };
        let bounds = if self.request.hits_only {
            Vec::new()
        } else {
            self.request.price_bucket_bounds.clone()
        };
        let facet_counts = facet_columns
            .each_ref()
            .map(|c| vec![0u64; c.as_ref().map_or(0, |c| c.num_terms())]);
        Ok(SegmentSearch {
            segment,
            floor: self.request.min_price,
            ceiling: self.request.max_price,
            sort: self.request.sort,
            buckets: empty_buckets(&bounds),
            bounds,
            hits_only: self.request.hits_only,
            scored: self.scored,
            min_price: fast.column_opt::<i64>(&format!("prices.{currency}_min"))?,
            max_price: fast.column_opt::<i64>(&format!("prices.{currency}_max"))?,
            created: fast.column_opt::<i64>("created")?,
            rating: fast.column_opt::<i64>("rating")?,
            rating_floor: self.request.min_rating.map(|stars| stars * 100),
            facet_columns,
            facet_counts,
            total: 0,
            ratings: [0; 4],
            top: Top::new(self.request.offset + self.request.limit),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    fn merge_fruits(&self, fruits: Vec<Gathered>) -> tantivy::Result<Gathered> {
        let mut merged = Gathered {
            total: 0,
            facets: Default::default(),
            buckets: if self.request.hits_only {
                Vec::new()
            } else {
                empty_buckets(&self.request.price_bucket_bounds)
            },
            ratings: [0; 4],
            top: Vec::new(),
        };
        let mut top = Top::new(self.request.offset + self.request.limit);
        for fruit in fruits {
            merged.total += fruit.total;
            for (into, from) in merged.facets.iter_mut().zip(fruit.facets) {
                for (value, count) in from {
                    *into.entry(value).or_default() += count;
                }
            }
            for (into, from) in merged.buckets.iter_mut().zip(fruit.buckets) {
                into.count += from.count;
            }
            for (into, from) in merged.ratings.iter_mut().zip(fruit.ratings) {
                *into += from;
            }
            for entry in fruit.top {
                top.push(entry);
            }
        }
        merged.top = top.best_first();
        Ok(merged)
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Gathered;

    fn collect(&mut self, doc: DocId, score: Score) {
        let min = self.min_price.as_ref().and_then(|c| c.first(doc));
        let max = self.max_price.as_ref().and_then(|c| c.first(doc));
        // The product's price span must reach into the asked range.
        if self
            .floor
            .is_some_and(|floor| max.is_none_or(|m| m < floor))
            || self
                .ceiling
                .is_some_and(|ceiling| min.is_none_or(|m| m > ceiling))
        {
            return;
        }
        let priced_sort = matches!(self.sort, SearchSort::PriceAsc | SearchSort::PriceDesc);
        if priced_sort && min.is_none() {
            return;
        }
        let rating = self
            .rating
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or_default();
        if self.rating_floor.is_some_and(|floor| rating < floor) {
            return;
        }
        self.total += 1;
        if !self.hits_only {
            self.count_facets(doc, min, rating);
        }
        let created = self
            .created
            .as_ref()
            .and_then(|c| c.first(doc))
            .unwrap_or_default();
        #[allow(clippy::cast_precision_loss)] // prices and times are far below 2^53
        let key = match self.sort {
            SearchSort::Relevance if self.scored => f64::from(score),
            SearchSort::Relevance | SearchSort::Newest => created as f64,
            SearchSort::PriceAsc => -(min.unwrap_or_default() as f64),
            SearchSort::PriceDesc => min.unwrap_or_default() as f64,
            SearchSort::Rating => rating as f64,
        };
        self.top.push(Entry {
            key,
            created,
            score,
            address: DocAddress::new(self.segment, doc),
        });
    }

    fn harvest(self) -> Gathered {
        let mut facets: [HashMap<String, u64>; 4] = Default::default();
        for ((column, counts), into) in self
            .facet_columns
            .iter()
            .zip(self.facet_counts)
            .zip(facets.iter_mut())
        {
            let Some(column) = column else { continue };
            let mut value = String::new();
            for (ord, count) in counts.into_iter().enumerate() {
                if count == 0 {
                    continue;
                }
                if column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    into.insert(value.clone(), count);
                }
            }
        }
        Gathered {
            total: self.total,
            facets,
            buckets: self.buckets,
            ratings: self.ratings,
            top: self.top.best_first(),
        }
    }
}

impl SegmentSearch {
    /// Counts a match in the rating floors, facets and price buckets it falls in.
    fn count_facets(&mut self, doc: DocId, min: Option<i64>, rating: i64) {
        for (floor, count) in crate::RATING_FLOORS.iter().zip(self.ratings.iter_mut()) {
            if rating >= floor * 100 {
                *count += 1;
            }
        }
        for (column, counts) in self.facet_columns.iter().zip(self.facet_counts.iter_mut()) {
            if let Some(column) = column {
                for ord in column.term_ords(doc) {
                    if let Some(count) = usize::try_from(ord).ok().and_then(|o| counts.get_mut(o)) {
                        *count += 1;
                    }
                }
            }
        }
        if let Some(min) = min {
            let bucket = bucket_of(&self.bounds, min);
            if let Some(b) = self.buckets.get_mut(bucket) {
                b.count += 1;
            }
        }
    }
}
