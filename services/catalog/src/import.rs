//! Reading product files for import: CSV (one row per variant) or JSON Lines (one product
//! per line, shaped like `POST /v1/admin/products`). Every problem is reported with its
//! line number; the rows of a broken product are skipped whole, so no product is ever
//! half-imported.
//!
//! CSV columns (header row required; any order; unknown columns are an error):
//! `handle` (required: rows with the same handle are one product), `title`, `brand`,
//! `status`, `category`, `description`, `material`, `care`, `fit`, `tags` (`|`-separated),
//! `images` (`|`-separated URLs), `sku`, `weight_grams`, `barcode`, `option:<name>` (one
//! column per option, e.g. `option:size`), `price:<CUR>` and `compare_at:<CUR>` (minor
//! units, e.g. `price:USD`). Product columns are read from a product's first row.

use std::collections::BTreeMap;

use crate::domain::{Image, ProductOption};
use crate::service::{NewProduct, NewVariant};

/// One product read from a file, with the line it starts on.
#[derive(Debug, Clone)]
pub struct ImportItem {
    pub line: usize,
    pub product: NewProduct,
}

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImportProblem {
    pub line: usize,
    pub reason: String,
}

/// The file formats `weft import` and the import endpoint read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// From a file name or a content type.
    pub fn guess(name: &str) -> Option<Self> {
        let name = name.to_ascii_lowercase();
        let extension = std::path::Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default()
            .to_owned();
        if extension == "csv" || name.contains("text/csv") {
            Some(Self::Csv)
        } else if matches!(extension.as_str(), "jsonl" | "ndjson")
            || name.contains("ndjson")
            || name.contains("jsonl")
        {
            Some(Self::JsonLines)
        } else {
            None
        }
    }
}

/// Reads every product of `text`; problems do not stop the reading.
pub fn read(format: Format, text: &str) -> (Vec<ImportItem>, Vec<ImportProblem>) {
    match format {
        Format::Csv => read_csv(text),
        Format::JsonLines => read_jsonl(text),
    }
}

fn read_jsonl(text: &str) -> (Vec<ImportItem>, Vec<ImportProblem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<JsonProduct>(raw) {
            Ok(p) => items.push(ImportItem {
                line,
                product: p.into(),
            }),
            Err(e) => problems.push(ImportProblem {
                line,
                reason: format!("not a product: {e}"),
            }),
        }
    }
    (items, problems)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonPrice {
    currency: String,
    amount: i64,
    #[serde(default)]
    compare_at_amount: Option<i64>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonVariant {
    sku: String,
    #[serde(default)]
    options: BTreeMap<String, String>,
    prices: Vec<JsonPrice>,
    #[serde(default)]
    weight_grams: Option<i32>,
    #[serde(default)]
    barcode: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonProduct {
    title: String,
    #[serde(default)]
    handle: Option<String>,
    #[serde(default)]
    description: Option<String>,
    brand: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    material: Option<String>,
    #[serde(default)]
    care: Option<String>,
    #[serde(default)]
    fit: Option<String>,
    #[serde(default)]
    seo_title: Option<String>,
    #[serde(default)]
    seo_description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    images: Vec<Image>,
    #[serde(default)]
    options: Vec<ProductOption>,
    #[serde(default)]
    size_chart: Option<serde_json::Value>,
    #[serde(default)]
    category_id: Option<String>,
    #[serde(default)]
    variants: Vec<JsonVariant>,
}

impl From<JsonProduct> for NewProduct {
    fn from(p: JsonProduct) -> Self {
        Self {
            title: p.title,
            handle: p.handle,
            description: p.description,
            brand: p.brand,
            status: p.status,
            material: p.material,
            care: p.care,
            fit: p.fit,
            seo_title: p.seo_title,
            seo_description: p.seo_description,
            tags: p.tags,
            images: p.images,
            options: p.options,
            size_chart: p.size_chart,
            category_id: p.category_id,
            variants: p
                .variants
                .into_iter()
                .map(|v| NewVariant {
                    sku: v.sku,
                    options: v.options,
                    prices: v
                        .prices
                        .into_iter()
                        .map(|p| (p.currency, p.amount, p.compare_at_amount))
                        .collect(),
                    weight_grams: v.weight_grams,
                    barcode: v.barcode,
                })
                .collect(),
        }
    }
}

const PRODUCT_COLUMNS: &[&str] = &[
    "handle",
    "title",
    "brand",
    "status",
    "category",
    "description",
    "material",
    "care",
    "fit",
    "tags",
    "images",
];
const VARIANT_COLUMNS: &[&str] = &["sku", "weight_grams", "barcode"];

fn read_csv(text: &str) -> (Vec<ImportItem>, Vec<ImportProblem>) {
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_ascii_lowercase).collect(),
        Err(e) => {
            problems.push(ImportProblem {
                line: 1,
                reason: format!("unreadable header: {e}"),
            });
            return (Vec::new(), problems);
        }
    };
    let unknown: Vec<&String> = headers
        .iter()
        .filter(|h| {
            !PRODUCT_COLUMNS.contains(&h.as_str())
                && !VARIANT_COLUMNS.contains(&h.as_str())
                && !h.starts_with("option:")
                && !h.starts_with("price:")
                && !h.starts_with("compare_at:")
        })
        .collect();
    if !unknown.is_empty() || !headers.iter().any(|h| h == "handle") {
        let reason = if unknown.is_empty() {
            "the header has no `handle` column".to_owned()
        } else {
            format!(
                "unknown columns: {}",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        problems.push(ImportProblem { line: 1, reason });
        return (Vec::new(), problems);
    }
    let option_names: Vec<String> = headers
        .iter()
        .filter_map(|h| h.strip_prefix("option:").map(str::to_owned))
        .collect();

    // Products in file order; a product whose row fails is dropped whole.
    let mut items: Vec<ImportItem> = Vec::new();
    // Handle → position in `items`, and handles of dropped products: lookups stay O(1)
    // on files of hundreds of thousands of rows.
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut broken: std::collections::HashSet<String> = std::collections::HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                problems.push(ImportProblem {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        let cell = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let Some(handle) = cell("handle") else {
            problems.push(ImportProblem {
                line,
                reason: "`handle` is empty".to_owned(),
            });
            continue;
        };
        if broken.contains(&handle) {
            continue;
        }
        let variant = match read_variant(&headers, &record, &cell) {
            Ok(v) => v,
            Err(reason) => {
                problems.push(ImportProblem { line, reason });
                if let Some(at) = index.remove(&handle) {
                    items.remove(at);
                    for position in index.values_mut() {
                        if *position > at {
                            *position -= 1;
                        }
                    }
                }
                broken.insert(handle);
                continue;
            }
        };
        if let Some(item) = index.get(&handle).and_then(|at| items.get_mut(*at)) {
            // Collect each option's values in first-seen order.
            for option in &mut item.product.options {
                if let Some(v) = variant.options.get(&option.name)
                    && !option.values.contains(v)
                {
                    option.values.push(v.clone());
                }
            }
            item.product.variants.push(variant);
            continue;
        }
        let list = |name: &str| -> Vec<String> {
            cell(name)
                .map(|v| {
                    v.split('|')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let options = option_names
            .iter()
            .filter_map(|name| {
                variant.options.get(name).map(|v| ProductOption {
                    name: name.clone(),
                    values: vec![v.clone()],
                })
            })
            .collect();
        let title = cell("title").unwrap_or_default();
        index.insert(handle.clone(), items.len());
        items.push(ImportItem {
            line,
            product: NewProduct {
                images: list("images")
                    .into_iter()
                    .map(|url| Image {
                        url,
                        alt: title.clone(),
                    })
                    .collect(),
                title,
                handle: Some(handle),
                description: cell("description"),
                brand: cell("brand").unwrap_or_default(),
                status: cell("status"),
                material: cell("material"),
                care: cell("care"),
                fit: cell("fit"),
                seo_title: None,
                seo_description: None,
                tags: list("tags"),
                options,
                size_chart: None,
                category_id: cell("category"),
                variants: vec![variant],
            },
        });
    }
    (items, problems)
}

fn read_variant(
    headers: &[String],
    record: &csv::StringRecord,
    cell: &dyn Fn(&str) -> Option<String>,
) -> Result<NewVariant, String> {
    let sku = cell("sku").ok_or("`sku` is empty")?;
    let mut options = BTreeMap::new();
    let mut prices: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for (i, header) in headers.iter().enumerate() {
        let Some(value) = record.get(i).filter(|v| !v.is_empty()) else {
            continue;
        };
        if let Some(name) = header.strip_prefix("option:") {
            options.insert(name.to_owned(), value.to_owned());
        } else if let Some(currency) = header.strip_prefix("price:") {
            let amount = value
                .parse::<i64>()
                .map_err(|_| format!("`{header}` must be a whole number of minor units"))?;
            prices.entry(currency.to_uppercase()).or_default().0 = Some(amount);
        } else if let Some(currency) = header.strip_prefix("compare_at:") {
            let amount = value
                .parse::<i64>()
                .map_err(|_| format!("`{header}` must be a whole number of minor units"))?;
            prices.entry(currency.to_uppercase()).or_default().1 = Some(amount);
        }
    }
    let prices = prices
        .into_iter()
        .map(|(currency, (amount, compare_at))| {
            amount
                .map(|a| (currency.clone(), a, compare_at))
                .ok_or_else(|| format!("`compare_at:{currency}` without `price:{currency}`"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let weight_grams = cell("weight_grams")
        .map(|w| {
            w.parse::<i32>()
                .map_err(|_| "`weight_grams` must be a whole number".to_owned())
        })
        .transpose()?;
    Ok(NewVariant {
        sku,
        options,
        prices,
        weight_grams,
        barcode: cell("barcode"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csv_rows_group_into_products_and_bad_rows_drop_their_product() {
        let text = "handle,title,brand,status,tags,option:size,option:color,sku,price:USD,price:eur,compare_at:USD\n\
            tee,Tee,Plain,active,summer|cotton,S,Black,TEE-S-B,1500,1400,\n\
            tee,,,,,M,Black,TEE-M-B,1500,1400,1900\n\
            shirt,Shirt,Loom,active,,S,White,SH-S,abc,,\n\
            shirt,,,,,M,White,SH-M,5000,,\n\
            ,Orphan,X,,,,,,,,\n\
            coat,Coat,Loom,draft,,L,Navy,CO-L,20000,,\n";
        let (items, problems) = read(Format::Csv, text);
        let handles: Vec<_> = items
            .iter()
            .map(|i| i.product.handle.clone().unwrap())
            .collect();
        assert_eq!(handles, ["tee", "coat"]);
        let tee = &items[0].product;
        assert_eq!(items[0].line, 2);
        assert_eq!(tee.variants.len(), 2);
        assert_eq!(tee.options[0].values, ["S", "M"]);
        assert_eq!(tee.tags, ["summer", "cotton"]);
        assert_eq!(
            tee.variants[1].prices,
            [
                ("EUR".to_owned(), 1400, None),
                ("USD".to_owned(), 1500, Some(1900))
            ]
        );
        assert_eq!(
            problems,
            [
                ImportProblem {
                    line: 4,
                    reason: "`price:usd` must be a whole number of minor units".into()
                },
                ImportProblem {
                    line: 6,
                    reason: "`handle` is empty".into()
                },
            ]
        );
    }

    #[test]
    fn bad_headers_and_json_lines_are_reported_by_line() {
        let (items, problems) = read(Format::Csv, "handle,colour\nx,red\n");
        assert!(items.is_empty());
        assert_eq!(problems[0].line, 1);
        assert!(problems[0].reason.contains("colour"));
        let jsonl = "{\"title\":\"A\",\"brand\":\"B\"}\n\n{\"title\":\"C\"}\nnot json\n";
        let (items, problems) = read(Format::JsonLines, jsonl);
        assert_eq!(items.len(), 1);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(Format::guess("products.CSV"), Some(Format::Csv));
        assert_eq!(
            Format::guess("application/x-ndjson"),
            Some(Format::JsonLines)
        );
        assert_eq!(Format::guess("x.xml"), None);
    }
}
