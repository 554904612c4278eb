//! The demo catalog `weft serve --demo` seeds once: a clothing shop of a little over a
//! thousand products across Women / Men / Kids × Tops, Bottoms, Dresses, Outerwear, Shoes
//! and Accessories, eight brands, sizes × colors variants, USD and EUR prices, some on
//! sale, and pictures Weft draws itself (SVG at `/media/demo/…`), so a storefront works
//! with no internet. Generation is deterministic; seeding skips what exists, so a seed cut
//! short by a crash finishes on the next start, and a flag in `platform_system` marks it
//! done.

use weft_storage::Db;

use crate::domain::{Image, ProductOption, handle_from};
use crate::error::CatalogError;
use crate::service::{CatalogService, CategoryInput, NewProduct, NewVariant};

const DONE_KEY: &str = "catalog.demo_seeded";
/// The demo's default size: 64 products in each of its 17 categories.
pub const DEFAULT_PRODUCTS: usize = 1088;
/// Products created per transaction while seeding.
const SEED_BATCH: usize = 100;

const BRANDS: &[&str] = &[
    "Loom & Co",
    "Northbound",
    "Atelier Nine",
    "Fieldhouse",
    "Selvedge Supply",
    "Marlow",
    "Kin & Thread",
    "Tidewater",
];

const ADJECTIVES: &[&str] = &[
    "Classic",
    "Organic",
    "Relaxed",
    "Slim",
    "Vintage",
    "Everyday",
    "Essential",
    "Lightweight",
    "Heavyweight",
    "Recycled",
    "Tailored",
    "Cropped",
];

/// Color name → swatch for the placeholder pictures.
pub const COLORS: &[(&str, &str)] = &[
    ("Black", "#1f1f1f"),
    ("White", "#f4f1ea"),
    ("Navy", "#1d2b4f"),
    ("Olive", "#5b6236"),
    ("Sand", "#d8c3a0"),
    ("Burgundy", "#6d1f2f"),
    ("Grey", "#8a8d91"),
    ("Sky Blue", "#8fb8de"),
    ("Rust", "#a5522b"),
];

struct Kind {
    name: &'static str,
    /// USD cents before the adjective's markup.
    base: i64,
    material: &'static str,
    care: &'static str,
    fit: &'static str,
}

const fn kind(
    name: &'static str,
    base: i64,
    material: &'static str,
    care: &'static str,
    fit: &'static str,
) -> Kind {
    Kind {
        name,
        base,
        material,
        care,
        fit,
    }
}

const TOPS: &[Kind] = &[
    kind(
        "T-Shirt",
        2500,
        "100% organic cotton",
        "Machine wash cold",
        "Regular",
    ),
    kind(
        "Linen Shirt",
        5900,
        "100% linen",
        "Machine wash cold, line dry",
        "Relaxed",
    ),
    kind(
        "Oxford Shirt",
        6500,
        "100% cotton oxford",
        "Machine wash warm",
        "Regular",
    ),
    kind("Polo", 4500, "Cotton piqué", "Machine wash cold", "Regular"),
    kind(
        "Sweater",
        8900,
        "Merino wool",
        "Hand wash cold, dry flat",
        "Regular",
    ),
    kind(
        "Hoodie",
        6900,
        "Cotton fleece",
        "Machine wash cold",
        "Relaxed",
    ),
];
const BOTTOMS: &[Kind] = &[
    kind(
        "Jeans",
        7900,
        "98% cotton denim, 2% elastane",
        "Wash inside out, cold",
        "Straight",
    ),
    kind("Chinos", 6900, "Cotton twill", "Machine wash cold", "Slim"),
    kind(
        "Shorts",
        3900,
        "Cotton twill",
        "Machine wash cold",
        "Regular",
    ),
    kind(
        "Joggers",
        5500,
        "Cotton fleece",
        "Machine wash cold",
        "Tapered",
    ),
    kind("Trousers", 8900, "Wool blend", "Dry clean", "Tailored"),
];
const DRESSES: &[Kind] = &[
    kind(
        "Midi Dress",
        8900,
        "Viscose crepe",
        "Hand wash cold",
        "A-line",
    ),
    kind("Wrap Dress", 9500, "Silk blend", "Dry clean", "Wrap"),
    kind(
        "Maxi Dress",
        9900,
        "Cotton voile",
        "Machine wash cold",
        "Flowing",
    ),
    kind(
        "Shirt Dress",
        7900,
        "Cotton poplin",
        "Machine wash cold",
        "Relaxed",
    ),
];
const OUTERWEAR: &[Kind] = &[
    kind(
        "Parka",
        19900,
        "Recycled nylon shell, down fill",
        "Spot clean",
        "Regular",
    ),
    kind(
        "Trench Coat",
        22900,
        "Cotton gabardine",
        "Dry clean",
        "Tailored",
    ),
    kind(
        "Denim Jacket",
        9900,
        "Cotton denim",
        "Wash inside out, cold",
        "Regular",
    ),
    kind(
        "Puffer Jacket",
        15900,
        "Recycled polyester",
        "Machine wash cold",
        "Boxy",
    ),
    kind(
        "Rain Jacket",
        12900,
        "Waterproof 3-layer shell",
        "Machine wash cold",
        "Regular",
    ),
    kind(
        "Wool Coat",
        24900,
        "80% wool, 20% polyamide",
        "Dry clean",
        "Tailored",
    ),
];
const SHOES: &[Kind] = &[
    kind(
        "Sneakers",
        8900,
        "Leather upper, rubber sole",
        "Wipe clean",
        "True to size",
    ),
    kind("Loafers", 12900, "Suede", "Suede brush", "True to size"),
    kind(
        "Ankle Boots",
        15900,
        "Leather",
        "Polish regularly",
        "True to size",
    ),
    kind(
        "Sandals",
        5900,
        "Leather straps, cork footbed",
        "Wipe clean",
        "True to size",
    ),
    kind(
        "Running Shoes",
        11900,
        "Engineered mesh",
        "Hand wash",
        "True to size",
    ),
];
const ACCESSORIES: &[Kind] = &[
    kind("Scarf", 3900, "Lambswool", "Hand wash cold", "One size"),
    kind("Beanie", 2500, "Merino wool", "Hand wash cold", "One size"),
    kind(
        "Belt",
        4500,
        "Vegetable-tanned leather",
        "Wipe clean",
        "One size",
    ),
    kind("Tote Bag", 3500, "Heavy canvas", "Spot clean", "One size"),
    kind("Cap", 2900, "Cotton twill", "Hand wash", "Adjustable"),
];

/// (handle suffix, name, kinds, adult sizes?) — shoes and accessories have their own sizes.
const CATEGORIES: &[(&str, &str, &[Kind])] = &[
    ("tops", "Tops", TOPS),
    ("bottoms", "Bottoms", BOTTOMS),
    ("dresses", "Dresses", DRESSES),
    ("outerwear", "Outerwear", OUTERWEAR),
    ("shoes", "Shoes", SHOES),
    ("accessories", "Accessories", ACCESSORIES),
];

const DEPARTMENTS: &[(&str, &str)] = &[("women", "Women"), ("men", "Men"), ("kids", "Kids")];

fn sizes(department: &str, category: &str) -> Vec<&'static str> {
    match (department, category) {
        (_, "accessories") => vec!["One Size"],
        ("kids", "shoes") => vec!["28", "30", "32", "34"],
        ("women", "shoes") => vec!["36", "37", "38", "39", "40", "41"],
        (_, "shoes") => vec!["40", "41", "42", "43", "44", "45"],
        ("kids", _) => vec!["4Y", "6Y", "8Y", "10Y", "12Y"],
        _ => vec!["XS", "S", "M", "L", "XL"],
    }
}

/// A price ending in 99 cents.
fn charm(cents: i64) -> i64 {
    (cents / 100).max(1) * 100 - 1
}

/// Products `window` (0-based positions) of the demo catalog of `count` products, with
/// the handle of their category: the same share in every category, so a bigger catalog
/// has the same shape. A window at a time keeps a big seed's memory to one batch.
fn products(count: usize, window: std::ops::Range<usize>) -> Vec<(String, NewProduct)> {
    let categories = DEPARTMENTS.len() * CATEGORIES.len() - 1; // no men's dresses
    let per_category = count.div_ceil(categories);
    let mut out = Vec::with_capacity(window.len());
    let mut n = 0usize;
    for (dept_handle, dept_name) in DEPARTMENTS {
        for (cat_handle, _, kinds) in CATEGORIES {
            // Men's dresses are not a category this shop carries.
            if *dept_handle == "men" && *cat_handle == "dresses" {
                continue;
            }
            let sizes = sizes(dept_handle, cat_handle);
            for i in 0..per_category {
                if n == count {
                    break;
                }
                n += 1;
                if !window.contains(&(n - 1)) {
                    continue;
                }
                let kind = &kinds[i % kinds.len()];
                let adjective = ADJECTIVES[(i / kinds.len() + n) % ADJECTIVES.len()];
                let brand = BRANDS[(n * 3 + n / 8) % BRANDS.len()];
                let title = format!("{adjective} {}", kind.name);
                let handle = handle_from(&format!("{dept_handle} {title} {brand} {n}"));
                let markup = i64::try_from((n * 13) % 9).unwrap_or_default();
                let kids_discount = if *dept_handle == "kids" { 60 } else { 100 };
                let usd = charm(kind.base * (100 + markup * 5) / 100 * kids_discount / 100);
                let eur = charm(usd * 92 / 100);
                let on_sale = n.is_multiple_of(7);
                let colors: Vec<&str> = (0..3)
                    .map(|k| COLORS[(n + k * 2) % COLORS.len()].0)
                    .collect();
                let mut variants = Vec::new();
                for color in &colors {
                    for size in &sizes {
                        let sku = format!(
                            "WD{n:04}-{}-{}",
                            color
                                .replace(' ', "")
                                .to_uppercase()
                                .chars()
                                .take(3)
                                .collect::<String>(),
                            size.replace(' ', "").to_uppercase()
                        );
                        variants.push(NewVariant {
                            sku,
                            options: [
                                ("size".to_owned(), (*size).to_owned()),
                                ("color".to_owned(), (*color).to_owned()),
                            ]
                            .into(),
                            prices: vec![
                                (
                                    "USD".to_owned(),
                                    usd,
                                    on_sale.then_some(charm(usd * 130 / 100)),
                                ),
                                (
                                    "EUR".to_owned(),
                                    eur,
                                    on_sale.then_some(charm(eur * 130 / 100)),
                                ),
                            ],
                            weight_grams: Some(i32::try_from(kind.base / 20).unwrap_or(500)),
                            barcode: None,
                        });
                    }
                }
                let images = colors
                    .iter()
                    .take(2)
                    .map(|color| Image {
                        url: format!("/media/demo/{handle}--{}.svg", handle_from(color)),
                        alt: format!("{title} in {color}"),
                    })
                    .collect();
                let size_chart = (*cat_handle == "tops" || *cat_handle == "outerwear").then(|| {
                    let chest: serde_json::Map<String, serde_json::Value> = sizes
                        .iter()
                        .enumerate()
                        .map(|(k, s)| ((*s).to_owned(), serde_json::json!(84 + 6 * k)))
                        .collect();
                    serde_json::json!({ "chest_cm": chest })
                });
                let season = if [
                    "Parka",
                    "Puffer Jacket",
                    "Wool Coat",
                    "Sweater",
                    "Beanie",
                    "Scarf",
                    "Ankle Boots",
                ]
                .contains(&kind.name)
                {
                    "winter"
                } else {
                    "summer"
                };
                out.push((
                    format!("{dept_handle}-{cat_handle}"),
                    NewProduct {
                        title: title.clone(),
                        handle: Some(handle),
                        description: Some(format!(
                            "The {title} from {brand}: {}, cut for a {} fit. Part of our {dept_name} {} range.",
                            kind.material.to_lowercase(),
                            kind.fit.to_lowercase(),
                            season
                        )),
                        brand: (*brand).to_owned(),
                        status: Some("active".to_owned()),
                        material: Some(kind.material.to_owned()),
                        care: Some(kind.care.to_owned()),
                        fit: Some(kind.fit.to_owned()),
                        seo_title: Some(format!("{title} | {brand}").chars().take(70).collect()),
                        seo_description: None,
                        tags: vec![season.to_owned(), dept_handle.to_string(), kind.name.to_lowercase()],
                        images,
                        options: vec![
                            ProductOption { name: "size".to_owned(), values: sizes.iter().map(|s| (*s).to_owned()).collect() },
                            ProductOption { name: "color".to_owned(), values: colors.iter().map(|c| (*c).to_owned()).collect() },
                        ],
                        size_chart,
                        category_id: None,
                        variants,
                    },
                ));
            }
        }
    }
    out
}

/// Seeds the demo catalog unless it was seeded before; returns how many products it added.
/// `progress(done, total)` follows the products (for a progress bar).
pub async fn seed(
    svc: &CatalogService,
    db: &Db,
    count: usize,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<usize, CatalogError> {
    if weft_storage::system::get(db, DONE_KEY).await?.is_some() {
        return Ok(0);
    }
    for (position, (dept_handle, dept_name)) in DEPARTMENTS.iter().enumerate() {
        let dept = ensure_category(svc, dept_handle, dept_name, None, position).await?;
        for (k, (cat_handle, cat_name, _)) in CATEGORIES.iter().enumerate() {
            if *dept_handle == "men" && *cat_handle == "dresses" {
                continue;
            }
            ensure_category(
                svc,
                &format!("{dept_handle}-{cat_handle}"),
                cat_name,
                Some(&dept),
                k,
            )
            .await?;
        }
    }
    let total = count as u64;
    let mut added = 0;
    for start in (0..count).step_by(SEED_BATCH) {
        let batch: Vec<NewProduct> = products(count, start..(start + SEED_BATCH).min(count))
            .into_iter()
            .map(|(category, mut product)| {
                product.category_id = Some(category);
                product
            })
            .collect();
        let done = (start + batch.len()) as u64;
        for outcome in svc.create_products(batch).await {
            match outcome {
                Ok(_) => added += 1,
                // Seeded before a restart cut the seed short.
                Err(CatalogError::HandleTaken(_)) => {}
                Err(err) => return Err(err),
            }
        }
        progress(done, total);
    }
    weft_storage::system::get_or_insert(db, DONE_KEY, "1").await?;
    Ok(added)
}

async fn ensure_category(
    svc: &CatalogService,
    handle: &str,
    name: &str,
    parent: Option<&str>,
    position: usize,
) -> Result<String, CatalogError> {
    if let Ok(existing) = svc.category(handle).await {
        return Ok(existing.id);
    }
    let created = svc
        .create_category(CategoryInput {
            name: Some(name.to_owned()),
            handle: Some(handle.to_owned()),
            description: Some(String::new()),
            parent_id: parent.map(str::to_owned),
            position: Some(i32::try_from(position).unwrap_or_default()),
        })
        .await?;
    Ok(created.id)
}

/// The placeholder picture for `/media/demo/<handle>--<color>.svg`: the product's name on
/// its color. `None` for names that are not of that shape.
pub fn placeholder_svg(file: &str) -> Option<String> {
    let stem = file.strip_suffix(".svg")?;
    let (handle, color) = stem.rsplit_once("--")?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 200
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !valid(handle) || !valid(color) {
        return None;
    }
    let (name, swatch) = COLORS
        .iter()
        .find(|(name, _)| handle_from(name) == color)
        .copied()
        .unwrap_or(("", "#cccccc"));
    let ink = if ["White", "Sand", "Sky Blue"].contains(&name) {
        "#222222"
    } else {
        "#f7f7f7"
    };
    // The handle is `<department>-<words…>-<brand…>-<n>`; show the words in between.
    let words: Vec<&str> = handle.split('-').collect();
    let label = words
        .get(1..words.len().saturating_sub(1))
        .unwrap_or_default()
        .join(" ");
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"1000\" viewBox=\"0 0 800 1000\">\
<rect width=\"800\" height=\"1000\" fill=\"{swatch}\"/>\
<path d=\"M250 220 L340 180 Q400 230 460 180 L550 220 L620 360 L560 390 L540 330 L540 760 L260 760 L260 330 L240 390 L180 360 Z\" fill=\"{ink}\" fill-opacity=\"0.18\"/>\
<text x=\"400\" y=\"860\" font-family=\"sans-serif\" font-size=\"34\" fill=\"{ink}\" text-anchor=\"middle\">{label}</text>\
<text x=\"400\" y=\"910\" font-family=\"sans-serif\" font-size=\"26\" fill=\"{ink}\" fill-opacity=\"0.7\" text-anchor=\"middle\">{name}</text>\
</svg>"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_demo_catalog_is_big_varied_and_consistent() {
        let all = products(DEFAULT_PRODUCTS, 0..DEFAULT_PRODUCTS);
        assert_eq!(all.len(), DEFAULT_PRODUCTS);
        let mut handles: Vec<_> = all.iter().map(|(_, p)| p.handle.clone().unwrap()).collect();
        handles.sort();
        handles.dedup();
        assert_eq!(handles.len(), all.len(), "handles are unique");
        let mut skus: Vec<_> = all
            .iter()
            .flat_map(|(_, p)| p.variants.iter().map(|v| v.sku.clone()))
            .collect();
        let total = skus.len();
        skus.sort();
        skus.dedup();
        assert_eq!(skus.len(), total, "skus are unique");
        let brands: std::collections::BTreeSet<_> =
            all.iter().map(|(_, p)| p.brand.clone()).collect();
        assert_eq!(brands.len(), BRANDS.len());
        for (_, p) in &all {
            crate::domain::parse_handle("h", p.handle.as_deref().unwrap()).unwrap();
            for v in &p.variants {
                crate::domain::parse_sku("s", &v.sku).unwrap();
                assert!(
                    v.prices
                        .iter()
                        .all(|(_, a, c)| *a > 0 && c.is_none_or(|c| c > *a))
                );
            }
        }
    }

    #[test]
    fn a_bigger_demo_has_the_asked_size_unique_names_and_every_category() {
        for count in [1, 17, 5_000] {
            let all = products(count, 0..count);
            assert_eq!(all.len(), count);
            let handles: std::collections::BTreeSet<_> =
                all.iter().map(|(_, p)| p.handle.clone().unwrap()).collect();
            assert_eq!(handles.len(), count, "handles are unique");
            let variants = all.iter().map(|(_, p)| p.variants.len()).sum::<usize>();
            let skus: std::collections::BTreeSet<_> = all
                .iter()
                .flat_map(|(_, p)| p.variants.iter().map(|v| v.sku.clone()))
                .collect();
            assert_eq!(skus.len(), variants, "skus are unique");
        }
        let categories: std::collections::BTreeSet<_> = products(5_000, 0..5_000)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(categories.len(), 17);
        // Windows, as the seed takes them, add up to the whole.
        let handles = |all: Vec<(String, NewProduct)>| -> Vec<String> {
            all.into_iter().map(|(_, p)| p.handle.unwrap()).collect()
        };
        let mut pieces = handles(products(250, 0..100));
        pieces.extend(handles(products(250, 100..200)));
        pieces.extend(handles(products(250, 200..250)));
        assert_eq!(pieces, handles(products(250, 0..250)));
    }

    #[test]
    fn placeholders_draw_names_on_colors_and_refuse_odd_paths() {
        let svg = placeholder_svg("women-classic-linen-shirt-loom-co-12--sky-blue.svg").unwrap();
        assert!(
            svg.contains("#8fb8de")
                && svg.contains("classic linen shirt loom co")
                && svg.contains("Sky Blue"),
            "{svg}"
        );
        for bad in [
            "x.png",
            "no-color.svg",
            "a--B.svg",
            "<script>--black.svg",
            "--black.svg",
        ] {
            assert!(placeholder_svg(bad).is_none(), "{bad}");
        }
    }
}
