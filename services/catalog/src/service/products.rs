//! Writing products and their variants.

use std::collections::BTreeMap;

use chrono::SubsecRound as _;

use weft_bus::events::ProductUpdated;
use weft_kernel::FieldError;
use weft_kernel::id::PrefixedId as _;
use weft_storage::DbConn;

use super::documents::render;
use super::{
    CatalogService, NewProduct, NewVariant, Product, ProductPatch, Variant, VariantPatch,
    from_json, price_rows, to_json, unique_to_conflict,
};
use crate::domain::{
    Image, Price, ProductId, ProductOption, ProductStatus, VariantId, handle_from, parse_handle,
    parse_option_values, parse_options, parse_prices, parse_sku, parse_text,
};
use crate::error::CatalogError;
use crate::store::{self, NewVariantRows, OptionRow, PriceRow, ProductRow, RangeRow, VariantRow};

/// Optional text: `""` clears it; anything else must be 1..=max characters.
fn optional_text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    match parse_text(field, v, max) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

fn check_tags(errors: &mut Vec<FieldError>, tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if tags.len() > 50 {
        errors.push(FieldError::new("tags", "at most 50 tags"));
    }
    for (i, tag) in tags.iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 50 {
            errors.push(FieldError::new(
                format!("tags[{i}]"),
                "must be 1–50 characters",
            ));
        } else if !out.contains(&tag) {
            out.push(tag);
        }
    }
    out
}

fn check_images(errors: &mut Vec<FieldError>, images: &[Image]) -> Vec<Image> {
    if images.len() > 30 {
        errors.push(FieldError::new("images", "at most 30 images"));
    }
    images
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let url = img.url.trim();
            let ok =
                (url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/'))
                    && url.len() <= 2000
                    && !url.chars().any(char::is_whitespace);
            if !ok {
                errors.push(FieldError::new(
                    format!("images[{i}].url"),
                    "must be an http(s) URL or a path, without spaces",
                ));
            }
            if img.alt.chars().count() > 300 {
                errors.push(FieldError::new(
                    format!("images[{i}].alt"),
                    "at most 300 characters",
                ));
            }
            Image {
                url: url.to_owned(),
                alt: img.alt.trim().to_owned(),
            }
        })
        .collect()
}

/// Validated variant parts, ready to write.
struct CheckedVariant {
    sku: String,
    values: BTreeMap<String, String>,
    key: String,
    prices: Vec<Price>,
    weight_grams: Option<i32>,
    barcode: Option<String>,
}

fn check_variant(
    errors: &mut Vec<FieldError>,
    field: &str,
    options: &[ProductOption],
    v: &NewVariant,
) -> Option<CheckedVariant> {
    let sku = parse_sku(&format!("{field}.sku"), &v.sku)
        .map_err(|e| errors.push(e))
        .ok();
    let values = parse_option_values(&format!("{field}.options"), options, &v.options)
        .map_err(|e| errors.extend(e))
        .ok();
    let prices = parse_prices(&format!("{field}.prices"), &v.prices)
        .map_err(|e| errors.extend(e))
        .ok();
    if v.weight_grams.is_some_and(|w| !(0..=100_000).contains(&w)) {
        errors.push(FieldError::new(
            format!("{field}.weight_grams"),
            "must be 0–100000",
        ));
    }
    let barcode = optional_text(
        errors,
        &format!("{field}.barcode"),
        v.barcode.as_deref(),
        64,
    );
    let (values, key) = values?;
    Some(CheckedVariant {
        sku: sku?,
        values,
        key,
        prices: prices?,
        weight_grams: v.weight_grams,
        barcode,
    })
}

/// A new product checked and turned into rows, ready to write; its category is still
/// the id or handle it was given.
#[derive(Debug, Clone)]
struct PreparedProduct {
    row: ProductRow,
    category: Option<String>,
    variants: Vec<NewVariantRows>,
}

/// Each product's lowest and highest variant price per currency.
fn ranges_of(products: &[PreparedProduct]) -> Vec<RangeRow> {
    let mut out = Vec::new();
    for p in products {
        let mut by_currency: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for price in p.variants.iter().flat_map(|v| &v.prices) {
            let entry = by_currency
                .entry(&price.currency)
                .or_insert((price.amount, price.amount));
            entry.0 = entry.0.min(price.amount);
            entry.1 = entry.1.max(price.amount);
        }
        out.extend(
            by_currency
                .into_iter()
                .map(|(currency, (min, max))| RangeRow {
                    product_id: p.row.id.clone(),
                    currency: currency.to_owned(),
                    min_amount: min,
                    max_amount: max,
                }),
        );
    }
    out
}

/// The product `p` will be once written, assembled from its rows as a read would
/// assemble it (prices in the order they are read back): no stock or rating yet.
fn assembled(p: &PreparedProduct) -> Result<Product, CatalogError> {
    let mut prices: Vec<PriceRow> = p
        .variants
        .iter()
        .flat_map(|v| v.prices.iter().cloned())
        .collect();
    prices.sort_by(|a, b| (&a.variant_id, &a.currency).cmp(&(&b.variant_id, &b.currency)));
    let parts = store::ProductParts {
        variants: p.variants.iter().map(|v| v.row.clone()).collect(),
        prices,
        ranges: ranges_of(std::slice::from_ref(p)),
        ..store::ProductParts::default()
    };
    super::assemble(vec![p.row.clone()], parts)?
        .pop()
        .ok_or(CatalogError::ProductNotFound)
}

impl CatalogService {
    // --- writing products -----------------------------------------------------------

    async fn publish(
        &self,
        conn: &mut DbConn,
        product_id: &str,
        change: &str,
    ) -> Result<(), CatalogError> {
        weft_bus::append(
            conn,
            &ProductUpdated {
                product_id: product_id.to_owned(),
                change: change.to_owned(),
            },
        )
        .await?;
        Ok(())
    }

    /// Creates a product with its variants.
    pub async fn create_product(&self, input: NewProduct) -> Result<Product, CatalogError> {
        let prepared = self.prepare_product(&input)?;
        let written = self
            .db
            .transaction(async move |conn: &mut DbConn| {
                let mut prepared = prepared;
                self.write_product(conn, &mut prepared).await
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        // Debug only: the request log already records who created it, and a seed or an
        // import would otherwise print a line per product.
        tracing::debug!(product_id = %written.id, "product created");
        Ok(written)
    }

    /// Creates several products in one transaction, each whole or not at all: the answer
    /// has one outcome per input, in order. A refusal (invalid, handle or SKU taken,
    /// unknown category) refuses only its product; a database failure rolls the batch
    /// back and creates its products one at a time instead.
    pub async fn create_products(
        &self,
        inputs: Vec<NewProduct>,
    ) -> Vec<Result<String, CatalogError>> {
        let prepared: Vec<Result<PreparedProduct, CatalogError>> = inputs
            .iter()
            .map(|input| self.prepare_product(input))
            .collect();
        let written = self
            .db
            .transaction(async move |conn: &mut DbConn| {
                let mut batch = prepared;
                self.write_products(conn, &mut batch).await?;
                Ok::<_, CatalogError>(batch)
            })
            .await;
        match written {
            Ok(batch) => {
                if batch.iter().any(Result::is_ok) {
                    self.changed().await;
                }
                batch.into_iter().map(|p| p.map(|p| p.row.id)).collect()
            }
            Err(err) => {
                tracing::warn!(error = %err, products = inputs.len(), "a batch of new products failed; creating them one at a time");
                let mut out = Vec::with_capacity(inputs.len());
                for input in inputs {
                    out.push(self.create_product(input).await.map(|p| p.id));
                }
                out
            }
        }
    }

    /// Checks a new product and turns it into rows (with fresh ids); nothing is read.
    fn prepare_product(&self, input: &NewProduct) -> Result<PreparedProduct, CatalogError> {
        let mut errors = Vec::new();
        let title = parse_text("title", &input.title, 200)
            .map_err(|e| errors.push(e))
            .ok();
        let handle = match &input.handle {
            Some(h) => parse_handle("handle", h.trim())
                .map_err(|e| errors.push(e))
                .ok(),
            None => title.as_deref().map(handle_from).filter(|h| !h.is_empty()),
        };
        let brand = parse_text("brand", &input.brand, 100)
            .map_err(|e| errors.push(e))
            .ok();
        let description = input.description.as_deref().unwrap_or("").trim().to_owned();
        if description.chars().count() > 20_000 {
            errors.push(FieldError::new("description", "at most 20000 characters"));
        }
        let status = ProductStatus::parse(input.status.as_deref().unwrap_or("draft"))
            .map_err(|e| errors.push(e))
            .ok();
        let material = optional_text(&mut errors, "material", input.material.as_deref(), 200);
        let care = optional_text(&mut errors, "care", input.care.as_deref(), 1000);
        let fit = optional_text(&mut errors, "fit", input.fit.as_deref(), 200);
        let seo_title = optional_text(&mut errors, "seo_title", input.seo_title.as_deref(), 70);
        let seo_description = optional_text(
            &mut errors,
            "seo_description",
            input.seo_description.as_deref(),
            320,
        );
        let tags = check_tags(&mut errors, &input.tags);
        let images = check_images(&mut errors, &input.images);
        let options = parse_options(&input.options)
            .map_err(|e| errors.extend(e))
            .unwrap_or_default();
        if input.variants.len() > 250 {
            errors.push(FieldError::new("variants", "at most 250 variants"));
        }
        let mut checked = Vec::new();
        for (i, v) in input.variants.iter().enumerate() {
            let field = format!("variants[{i}]");
            if let Some(c) = check_variant(&mut errors, &field, &options, v) {
                if checked.iter().any(|o: &CheckedVariant| o.key == c.key) {
                    errors.push(FieldError::new(
                        format!("{field}.options"),
                        "repeats another variant's option values",
                    ));
                }
                if checked.iter().any(|o: &CheckedVariant| o.sku == c.sku) {
                    errors.push(FieldError::new(
                        format!("{field}.sku"),
                        "repeats another variant's sku",
                    ));
                }
                checked.push(c);
            }
        }
        let (Some(title), Some(handle), Some(brand), Some(status), true) =
            (title, handle, brand, status, errors.is_empty())
        else {
            if errors.is_empty() {
                errors.push(FieldError::new(
                    "handle",
                    "cannot be made from this title; give one",
                ));
            }
            return Err(CatalogError::Invalid(errors));
        };
        // To the microsecond, as PostgreSQL keeps it: the document is written from these
        // rows before they are stored, and must say what reading them back would.
        let now = self.clock.now().naive_utc().trunc_subsecs(6);
        let id = ProductId::generate().to_string();
        let row = ProductRow {
            id: id.clone(),
            handle,
            title,
            description,
            brand,
            status: status.as_str().to_owned(),
            material,
            care,
            fit,
            seo_title,
            seo_description,
            tags: to_json(&tags)?,
            images: to_json(&images)?,
            options: to_json(&options)?,
            size_chart: input.size_chart.as_ref().map(to_json).transpose()?,
            category_id: None,
            ordered: false,
            created_at: now,
            updated_at: now,
            document: None,
        };
        let category = input.category_id.clone().filter(|c| !c.is_empty());
        let variants = checked
            .iter()
            .enumerate()
            .map(|(position, v)| {
                self.variant_rows(&id, v, i32::try_from(position).unwrap_or(i32::MAX))
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok(PreparedProduct {
            row,
            category,
            variants,
        })
    }

    /// Writes one prepared product and its document in `conn`'s transaction, after
    /// checking its category, handle and SKUs; returns it as written.
    async fn write_product(
        &self,
        conn: &mut DbConn,
        p: &mut PreparedProduct,
    ) -> Result<Product, CatalogError> {
        if let Some(c) = &p.category {
            let found = store::find_category(conn, c)
                .await?
                .ok_or_else(|| CatalogError::field("category_id", "is not a category"))?;
            p.row.category_id = Some(found.id);
        }
        if store::product_handle_taken(conn, &p.row.handle, None).await? {
            return Err(CatalogError::HandleTaken(p.row.handle.clone()));
        }
        let skus: Vec<String> = p.variants.iter().map(|v| v.row.sku.clone()).collect();
        let taken = store::skus_taken(conn, &skus).await?;
        // The first in the product's own order, as one query per variant named it.
        if let Some(sku) = skus.into_iter().find(|s| taken.contains(s)) {
            return Err(CatalogError::SkuTaken(sku));
        }
        let product = assembled(p)?;
        p.row.document = Some(render(&product)?);
        store::insert_products(conn, std::slice::from_ref(&p.row)).await?;
        store::insert_variants(conn, &p.variants.iter().collect::<Vec<_>>()).await?;
        store::insert_ranges(conn, &ranges_of(std::slice::from_ref(p))).await?;
        self.publish(conn, &p.row.id, "created").await?;
        Ok(product)
    }

    /// [`Self::write_product`] for a batch: one read of the categories, handles and SKUs
    /// for all, then one insert per table (in chunks). A product that cannot be written
    /// becomes its refusal; the rest are written.
    async fn write_products(
        &self,
        conn: &mut DbConn,
        batch: &mut [Result<PreparedProduct, CatalogError>],
    ) -> Result<(), CatalogError> {
        let categories = store::list_categories(conn).await?;
        let handles: Vec<String> = batch
            .iter()
            .flatten()
            .map(|p| p.row.handle.clone())
            .collect();
        let skus: Vec<String> = batch
            .iter()
            .flatten()
            .flat_map(|p| p.variants.iter().map(|v| v.row.sku.clone()))
            .collect();
        let mut taken_handles: std::collections::HashSet<String> =
            store::handles_taken(conn, &handles)
                .await?
                .into_iter()
                .collect();
        let mut taken_skus: std::collections::HashSet<String> =
            store::skus_taken(conn, &skus).await?.into_iter().collect();
        for item in batch.iter_mut() {
            let Ok(p) = item else { continue };
            let refusal = if let Some(c) = &p.category
                && let Some(found) = categories
                    .iter()
                    .find(|row| &row.id == c || &row.handle == c)
            {
                p.row.category_id = Some(found.id.clone());
                None
            } else if p.category.is_some() {
                Some(CatalogError::field("category_id", "is not a category"))
            } else {
                None
            };
            let refusal = refusal
                .or_else(|| {
                    taken_handles
                        .contains(&p.row.handle)
                        .then(|| CatalogError::HandleTaken(p.row.handle.clone()))
                })
                .or_else(|| {
                    p.variants
                        .iter()
                        .find(|v| taken_skus.contains(&v.row.sku))
                        .map(|v| CatalogError::SkuTaken(v.row.sku.clone()))
                });
            if let Some(refusal) = refusal {
                *item = Err(refusal);
            } else {
                // Later products of the batch cannot take them again.
                taken_handles.insert(p.row.handle.clone());
                taken_skus.extend(p.variants.iter().map(|v| v.row.sku.clone()));
            }
        }
        for p in batch.iter_mut().flatten() {
            p.row.document = Some(render(&assembled(p)?)?);
        }
        let accepted: Vec<&PreparedProduct> = batch.iter().flatten().collect();
        let rows: Vec<ProductRow> = accepted.iter().map(|p| p.row.clone()).collect();
        store::insert_products(conn, &rows).await?;
        let variants: Vec<&NewVariantRows> = accepted.iter().flat_map(|p| &p.variants).collect();
        store::insert_variants(conn, &variants).await?;
        let ranges: Vec<RangeRow> = accepted
            .iter()
            .flat_map(|p| ranges_of(std::slice::from_ref(*p)))
            .collect();
        store::insert_ranges(conn, &ranges).await?;
        for p in &accepted {
            self.publish(conn, &p.row.id, "created").await?;
        }
        Ok(())
    }

    /// The rows of a new variant of `product_id`, with a fresh id.
    fn variant_rows(
        &self,
        product_id: &str,
        v: &CheckedVariant,
        position: i32,
    ) -> Result<NewVariantRows, CatalogError> {
        let now = self.clock.now().naive_utc();
        let id = VariantId::generate().to_string();
        let options = v
            .values
            .iter()
            .map(|(name, value)| OptionRow {
                variant_id: id.clone(),
                product_id: product_id.to_owned(),
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        Ok(NewVariantRows {
            prices: price_rows(&id, product_id, &v.prices),
            options,
            row: VariantRow {
                id,
                product_id: product_id.to_owned(),
                sku: v.sku.clone(),
                options_key: v.key.clone(),
                option_values: to_json(&v.values)?,
                weight_grams: v.weight_grams,
                barcode: v.barcode.clone(),
                position,
                created_at: now,
                updated_at: now,
            },
        })
    }

    async fn write_variant(
        &self,
        conn: &mut DbConn,
        product_id: &str,
        v: &CheckedVariant,
        position: i32,
    ) -> Result<String, CatalogError> {
        let rows = self.variant_rows(product_id, v, position)?;
        store::insert_variants(conn, &[&rows]).await?;
        Ok(rows.row.id)
    }

    /// Edits a product's own fields (its options and variants have their own calls).
    pub async fn update_product(
        &self,
        id: &str,
        patch: ProductPatch,
    ) -> Result<Product, CatalogError> {
        let mut errors = Vec::new();
        let title = patch
            .title
            .as_deref()
            .map(|t| parse_text("title", t, 200))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let handle = patch
            .handle
            .as_deref()
            .map(|h| parse_handle("handle", h.trim()))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let brand = patch
            .brand
            .as_deref()
            .map(|b| parse_text("brand", b, 100))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let status = patch
            .status
            .as_deref()
            .map(ProductStatus::parse)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if patch
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 20_000)
        {
            errors.push(FieldError::new("description", "at most 20000 characters"));
        }
        let texts = [
            ("material", &patch.material, 200),
            ("care", &patch.care, 1000),
            ("fit", &patch.fit, 200),
            ("seo_title", &patch.seo_title, 70),
            ("seo_description", &patch.seo_description, 320),
        ];
        let mut cleaned: BTreeMap<&str, Option<String>> = BTreeMap::new();
        for (field, value, max) in texts {
            if let Some(v) = value {
                cleaned.insert(field, optional_text(&mut errors, field, Some(v), max));
            }
        }
        let tags = patch.tags.as_ref().map(|t| check_tags(&mut errors, t));
        let images = patch.images.as_ref().map(|i| check_images(&mut errors, i));
        if !errors.is_empty() {
            return Err(CatalogError::Invalid(errors));
        }
        let now = self.clock.now().naive_utc();
        let product = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_product(conn, id)
                    .await?
                    .filter(|r| r.id == id)
                    .ok_or(CatalogError::ProductNotFound)?;
                if let Some(t) = &title {
                    row.title.clone_from(t);
                }
                if let Some(h) = &handle {
                    if store::product_handle_taken(conn, h, Some(id)).await? {
                        return Err(CatalogError::HandleTaken(h.clone()));
                    }
                    row.handle.clone_from(h);
                }
                if let Some(b) = &brand {
                    row.brand.clone_from(b);
                }
                if let Some(s) = status {
                    s.as_str().clone_into(&mut row.status);
                }
                if let Some(d) = &patch.description {
                    d.trim().clone_into(&mut row.description);
                }
                for (field, value) in &cleaned {
                    let slot = match *field {
                        "material" => &mut row.material,
                        "care" => &mut row.care,
                        "fit" => &mut row.fit,
                        "seo_title" => &mut row.seo_title,
                        _ => &mut row.seo_description,
                    };
                    slot.clone_from(value);
                }
                if let Some(t) = &tags {
                    row.tags = to_json(t)?;
                }
                if let Some(i) = &images {
                    row.images = to_json(i)?;
                }
                if let Some(chart) = &patch.size_chart {
                    row.size_chart = if chart.is_null() {
                        None
                    } else {
                        Some(to_json(chart)?)
                    };
                }
                if let Some(c) = &patch.category_id {
                    row.category_id = if c.is_empty() {
                        None
                    } else {
                        Some(
                            store::find_category(conn, c)
                                .await?
                                .ok_or_else(|| {
                                    CatalogError::field("category_id", "is not a category")
                                })?
                                .id,
                        )
                    };
                }
                row.updated_at = now;
                store::update_product(conn, &row).await?;
                self.publish(conn, id, "updated").await?;
                let mut products = self.write_documents(conn, &[row.id]).await?;
                products.pop().ok_or(CatalogError::ProductNotFound)
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        Ok(product)
    }

    /// Deletes a product, or archives it when an order holds it. `true` when deleted.
    pub async fn delete_product(&self, id: &str) -> Result<bool, CatalogError> {
        let now = self.clock.now().naive_utc();
        let deleted = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_product(conn, id)
                    .await?
                    .filter(|r| r.id == id)
                    .ok_or(CatalogError::ProductNotFound)?;
                if row.ordered {
                    ProductStatus::Archived.as_str().clone_into(&mut row.status);
                    row.updated_at = now;
                    store::update_product(conn, &row).await?;
                    self.write_documents(conn, &[row.id]).await?;
                    self.publish(conn, id, "updated").await?;
                    return Ok(false);
                }
                store::delete_product(conn, id).await?;
                self.publish(conn, id, "deleted").await?;
                Ok::<_, CatalogError>(true)
            })
            .await?;
        self.changed().await;
        Ok(deleted)
    }

    // --- writing variants --------------------------------------------------------------

    /// Adds a variant to a product.
    pub async fn add_variant(
        &self,
        product_id: &str,
        input: NewVariant,
    ) -> Result<Variant, CatalogError> {
        let variant_id = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let row = store::find_product(conn, product_id)
                    .await?
                    .filter(|r| r.id == product_id)
                    .ok_or(CatalogError::ProductNotFound)?;
                // Variants of one product are written one transaction at a time (see
                // `locked_variant`).
                store::lock_products(conn, std::slice::from_ref(&row.id)).await?;
                let options: Vec<ProductOption> = from_json(&row.options)?;
                let mut errors = Vec::new();
                let Some(v) = check_variant(&mut errors, "variant", &options, &input) else {
                    return Err(CatalogError::Invalid(errors));
                };
                if !errors.is_empty() {
                    return Err(CatalogError::Invalid(errors));
                }
                if store::sku_taken(conn, &v.sku, None).await? {
                    return Err(CatalogError::SkuTaken(v.sku.clone()));
                }
                if store::combination_taken(conn, product_id, &v.key).await? {
                    return Err(CatalogError::DuplicateVariant);
                }
                let position = store::next_variant_position(conn, product_id).await?;
                let id = self.write_variant(conn, product_id, &v, position).await?;
                store::refresh_ranges(conn, product_id).await?;
                self.write_documents(conn, &[row.id]).await?;
                self.publish(conn, product_id, "updated").await?;
                Ok(id)
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.variant(&variant_id).await
    }

    /// A variant, read once its product is locked for this transaction: writes to one
    /// product's variants run one at a time, since each recomputes the product's price
    /// ranges from all its prices (two at once on PostgreSQL would each miss the other's
    /// price, or both insert the same range), and a patch must start from the variant as
    /// the previous one left it.
    async fn locked_variant(
        &self,
        conn: &mut DbConn,
        id: &str,
    ) -> Result<VariantRow, CatalogError> {
        let product = store::find_variant(conn, id)
            .await?
            .ok_or(CatalogError::VariantNotFound)?
            .product_id;
        store::lock_products(conn, &[product]).await?;
        store::find_variant(conn, id)
            .await?
            .ok_or(CatalogError::VariantNotFound)
    }

    async fn variant(&self, id: &str) -> Result<Variant, CatalogError> {
        let mut conn = self.db.conn().await?;
        let row = store::find_variant(&mut conn, id)
            .await?
            .ok_or(CatalogError::VariantNotFound)?;
        let product = store::find_product(&mut conn, &row.product_id)
            .await?
            .ok_or(CatalogError::ProductNotFound)?;
        self.assemble(&mut conn, vec![product])
            .await?
            .pop()
            .and_then(|p| p.variants.into_iter().find(|v| v.id == id))
            .ok_or(CatalogError::VariantNotFound)
    }

    /// Edits a variant's sku, prices, weight or barcode.
    pub async fn update_variant(
        &self,
        id: &str,
        patch: VariantPatch,
    ) -> Result<Variant, CatalogError> {
        let mut errors = Vec::new();
        let sku = patch
            .sku
            .as_deref()
            .map(|s| parse_sku("sku", s))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let prices = patch
            .prices
            .as_deref()
            .map(|p| parse_prices("prices", p))
            .transpose()
            .map_err(|e| errors.extend(e))
            .ok()
            .flatten();
        if patch
            .weight_grams
            .is_some_and(|w| !(0..=100_000).contains(&w))
        {
            errors.push(FieldError::new("weight_grams", "must be 0–100000"));
        }
        let barcode = patch
            .barcode
            .as_deref()
            .map(|b| optional_text(&mut errors, "barcode", Some(b), 64));
        if !errors.is_empty() {
            return Err(CatalogError::Invalid(errors));
        }
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = self.locked_variant(conn, id).await?;
                if let Some(s) = &sku {
                    if store::sku_taken(conn, s, Some(id)).await? {
                        return Err(CatalogError::SkuTaken(s.clone()));
                    }
                    row.sku.clone_from(s);
                }
                if let Some(w) = patch.weight_grams {
                    row.weight_grams = Some(w);
                }
                if let Some(b) = &barcode {
                    row.barcode.clone_from(b);
                }
                row.updated_at = now;
                store::update_variant(conn, &row).await?;
                if let Some(p) = &prices {
                    store::replace_prices(conn, id, &price_rows(id, &row.product_id, p)).await?;
                    store::refresh_ranges(conn, &row.product_id).await?;
                }
                self.write_documents(conn, std::slice::from_ref(&row.product_id))
                    .await?;
                self.publish(conn, &row.product_id, "updated").await?;
                Ok(())
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.variant(id).await
    }

    pub async fn delete_variant(&self, id: &str) -> Result<(), CatalogError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                let row = self.locked_variant(conn, id).await?;
                store::delete_variant(conn, id).await?;
                store::refresh_ranges(conn, &row.product_id).await?;
                self.write_documents(conn, std::slice::from_ref(&row.product_id))
                    .await?;
                self.publish(conn, &row.product_id, "updated").await
            })
            .await?;
        self.changed().await;
        Ok(())
    }
}
