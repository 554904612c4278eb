//! An order's invoice as a PDF (`GET /v1/orders/{id}/invoice`): seller, buyer, lines,
//! taxes and totals, order number and date. Written with `pdf-writer` in the standard
//! Helvetica fonts (nothing embedded, a few kilobytes), A4, as many pages as the lines
//! need. Text is WinAnsi-encoded: Latin letters, accents and € print; anything else
//! prints as `?`.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};
use weft_kernel::{Currency, Money, PostalAddress};

use crate::service::Order;

/// Who sells: the shop's own details (settings `orders.seller_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
    pub tax_id: Option<String>,
}

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
/// Table rows stop here and continue on the next page.
const BOTTOM: f32 = 110.0;

/// `12345` in EUR → `123.45 EUR`; JPY has no minor unit.
pub fn format_money(amount: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::new(amount, c).to_string(),
        // Orders keep only currencies that parsed when they were made.
        Err(_) => format!("{amount} {currency}"),
    }
}

/// WinAnsi bytes of `text` (what the standard fonts print).
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance widths (thousandths of an em), close enough to right-align.
fn text_width(text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .map(|c| match c {
            '.' | ',' | ' ' | 'i' | 'j' | 'l' | '!' | '\'' | 'f' | 't' | 'I' => 278,
            '-' | '(' | ')' | 'r' => 333,
            'm' | 'M' => 833,
            'w' | 'W' => 944,
            'A'..='Z' => 667,
            // Digits, most lower-case letters and the rest.
            _ => 556,
        })
        .sum();
    #[allow(clippy::cast_precision_loss)] // widths are small
    let units = units as f32;
    units * size / 1000.0
}

/// One page's drawing, with a cursor going down it.
struct PageWriter {
    content: Content,
    y: f32,
}

impl PageWriter {
    fn new() -> Self {
        Self {
            content: Content::new(),
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn text(&mut self, font: Name<'_>, size: f32, x: f32, y: f32, text: &str) {
        let bytes = win_ansi(text);
        self.content
            .begin_text()
            .set_font(font, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// Text whose right edge is at `right`.
    fn text_right(&mut self, font: Name<'_>, size: f32, right: f32, y: f32, text: &str) {
        let x = right - text_width(text, size);
        self.text(font, size, x, y, text);
    }

    fn rule(&mut self, y: f32) {
        self.content
            .set_line_width(0.5)
            .move_to(MARGIN, y)
            .line_to(PAGE_WIDTH - MARGIN, y)
            .stroke();
    }
}

fn address_lines(a: &PostalAddress) -> Vec<String> {
    let mut lines = vec![a.name.clone()];
    lines.extend(a.company.clone());
    lines.push(a.line1.clone());
    lines.extend(a.line2.clone());
    let mut city = String::new();
    if let Some(p) = &a.postal_code {
        city.push_str(p);
        city.push(' ');
    }
    city.push_str(&a.city);
    if let Some(r) = &a.region {
        city.push_str(", ");
        city.push_str(r);
    }
    lines.push(city);
    lines.push(a.country.clone());
    lines
}

/// Cuts `text` to at most `max` characters, with an ellipsis.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

// Column positions of the lines table.
const COL_ITEM: f32 = MARGIN;
const COL_SKU: f32 = 300.0;
const COL_QTY: f32 = 400.0;
const COL_UNIT: f32 = 475.0;
const COL_TOTAL: f32 = PAGE_WIDTH - MARGIN;

fn table_header(page: &mut PageWriter) {
    let y = page.y;
    page.text(BOLD, 9.0, COL_ITEM, y, "Item");
    page.text(BOLD, 9.0, COL_SKU, y, "SKU");
    page.text_right(BOLD, 9.0, COL_QTY, y, "Qty");
    page.text_right(BOLD, 9.0, COL_UNIT, y, "Unit price");
    page.text_right(BOLD, 9.0, COL_TOTAL, y, "Amount");
    page.rule(y - 5.0);
    page.y -= 18.0;
}

/// The order's invoice, as PDF bytes.
pub fn render(order: &Order, seller: &Seller) -> Vec<u8> {
    let money = |amount: i64| format_money(amount, &order.currency);
    // Pages written in full, and the one being written.
    let mut done: Vec<PageWriter> = Vec::new();
    let mut page = PageWriter::new();

    // Heading: the seller on the left, the invoice's number and date on the right.
    let top = page.y;
    page.text(BOLD, 22.0, MARGIN, top - 10.0, "INVOICE");
    let mut y = top - 36.0;
    page.text(BOLD, 10.0, MARGIN, y, &seller.name);
    for line in &seller.address {
        y -= 13.0;
        page.text(REGULAR, 10.0, MARGIN, y, line);
    }
    if let Some(tax_id) = &seller.tax_id {
        y -= 13.0;
        page.text(
            REGULAR,
            10.0,
            MARGIN,
            y,
            &format!("VAT / tax number: {tax_id}"),
        );
    }
    let right = PAGE_WIDTH - MARGIN;
    let facts = [
        format!("Invoice number: {}", order.id),
        format!("Order number: {}", order.id),
        format!("Date: {}", order.created_at.format("%Y-%m-%d")),
        format!("Status: {}", order.status.as_str().replace('_', " ")),
    ];
    for (i, fact) in facts.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)] // four lines
        let dy = i as f32 * 13.0;
        page.text_right(REGULAR, 10.0, right, top - 36.0 - dy, fact);
    }

    // Buyer: billed to and shipped to.
    y -= 36.0;
    let mut y_left = y;
    page.text(BOLD, 10.0, MARGIN, y_left, "Bill to");
    let bill_to = order
        .billing_address
        .as_ref()
        .or(order.shipping_address.as_ref());
    let mut buyer: Vec<String> = bill_to.map(address_lines).unwrap_or_default();
    buyer.push(order.email.clone());
    for line in &buyer {
        y_left -= 13.0;
        page.text(REGULAR, 10.0, MARGIN, y_left, &clip(line, 45));
    }
    let mut y_right = y;
    if let Some(ship_to) = &order.shipping_address {
        page.text(BOLD, 10.0, 320.0, y_right, "Ship to");
        for line in address_lines(ship_to) {
            y_right -= 13.0;
            page.text(REGULAR, 10.0, 320.0, y_right, &clip(&line, 40));
        }
    }
    page.y = y_left.min(y_right) - 30.0;
    table_header(&mut page);

    for line in &order.lines {
        if page.y < BOTTOM {
            done.push(std::mem::replace(&mut page, PageWriter::new()));
            table_header(&mut page);
        }
        let y = page.y;
        page.text(REGULAR, 9.0, COL_ITEM, y, &clip(&line.title, 48));
        page.text(
            REGULAR,
            9.0,
            COL_SKU,
            y,
            &clip(line.sku.as_deref().unwrap_or("-"), 16),
        );
        page.text_right(REGULAR, 9.0, COL_QTY, y, &line.quantity.to_string());
        page.text_right(REGULAR, 9.0, COL_UNIT, y, &money(line.unit_price));
        page.text_right(REGULAR, 9.0, COL_TOTAL, y, &money(line.line_total));
        page.y -= 14.0;
    }

    // Totals, kept together on one page.
    let mut totals = vec![
        ("Subtotal", money(order.subtotal)),
        ("Discounts", money(-order.discounts)),
        ("Shipping", money(order.shipping)),
        ("Tax", money(order.tax)),
        ("Total", money(order.total)),
    ];
    if order.refunded_total > 0 {
        totals.push(("Refunded", money(-order.refunded_total)));
    }
    #[allow(clippy::cast_precision_loss)] // a handful of rows
    let needed = totals.len() as f32 * 15.0 + 30.0;
    if page.y - needed < MARGIN + 20.0 {
        done.push(std::mem::replace(&mut page, PageWriter::new()));
    }
    page.rule(page.y + 6.0);
    page.y -= 10.0;
    for (label, amount) in &totals {
        let font = if *label == "Total" { BOLD } else { REGULAR };
        let y = page.y;
        page.text_right(font, 10.0, COL_UNIT, y, label);
        page.text_right(font, 10.0, COL_TOTAL, y, amount);
        page.y -= 15.0;
    }
    let y = page.y - 10.0;
    page.text(
        REGULAR,
        8.0,
        MARGIN,
        y,
        "Tax is charged as shown above. Thank you for your order.",
    );

    done.push(page);
    let mut pages = done;
    let count = pages.len();
    for (i, page) in pages.iter_mut().enumerate() {
        page.text_right(
            REGULAR,
            8.0,
            PAGE_WIDTH - MARGIN,
            MARGIN - 20.0,
            &format!("{} - page {} of {count}", order.id, i + 1),
        );
    }
    write(order, pages)
}

fn write(order: &Order, pages: Vec<PageWriter>) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first_page + 2 * i32::try_from(i).unwrap_or(0)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("Invoice {}", order.id);
    pdf.document_info(info)
        .title(TextStr(&title))
        .producer(TextStr("Weft"));
    for (page, id) in pages.into_iter().zip(page_ids) {
        let content_id = Ref::new(id.get() + 1);
        let mut p = pdf.page(id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(tree)
            .contents(content_id);
        p.resources()
            .fonts()
            .pair(REGULAR, regular)
            .pair(BOLD, bold);
        drop(p);
        let bytes = page.content.finish();
        pdf.stream(content_id, &bytes);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_in_its_currencys_minor_units() {
        assert_eq!(format_money(12_345, "EUR"), "123.45 EUR");
        assert_eq!(format_money(-5, "USD"), "-0.05 USD");
        assert_eq!(format_money(1200, "JPY"), "1200 JPY");
        assert_eq!(format_money(1_000, "KWD"), "1.000 KWD");
    }

    fn sample(lines: usize) -> Order {
        let address = PostalAddress {
            name: "Zoë Müller".into(),
            company: None,
            line1: "12 Rue de la Paix".into(),
            line2: Some("Bâtiment B".into()),
            city: "Paris".into(),
            region: None,
            postal_code: Some("75002".into()),
            country: "FR".into(),
            phone: None,
        };
        let now = chrono::Utc::now();
        Order {
            id: "ord_0192d4f6a8e47b4c9a1d2e3f4a5b6c7d".into(),
            checkout_id: "chk_1".into(),
            customer_id: None,
            email: "zoe@example.com".into(),
            currency: "EUR".into(),
            status: crate::domain::OrderStatus::Paid,
            lines: (0..lines)
                .map(|i| crate::service::OrderLine {
                    variant_id: format!("var_{i}"),
                    title: format!("Robe en lin écru {i}"),
                    sku: Some(format!("DRS-{i}")),
                    quantity: 2,
                    unit_price: 4_950,
                    line_total: 9_900,
                })
                .collect(),
            subtotal: 9_900 * i64::try_from(lines).unwrap_or(0),
            discounts: 990,
            shipping: 500,
            tax: 1_650,
            total: 9_900 * i64::try_from(lines).unwrap_or(0) - 490,
            refunded_total: 0,
            shipping_address: Some(address.clone()),
            billing_address: Some(address),
            shipping_method_id: Some("standard".into()),
            payment_id: Some("pay_1".into()),
            history: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn lines_run_onto_as_many_pages_as_they_need() {
        let seller = Seller {
            name: "Maison Tissée".into(),
            address: vec!["1 Loom Street".into()],
            tax_id: Some("FR12345678901".into()),
        };
        let one = render(&sample(3), &seller);
        let text = String::from_utf8_lossy(&one);
        assert!(text.contains("/Count 1"));
        assert!(text.contains("(Total)"));
        let many = render(&sample(90), &seller);
        let text = String::from_utf8_lossy(&many);
        assert!(text.contains("/Count 3"), "90 lines take three pages");
        assert!(text.contains("page 3 of 3"));
    }

    #[test]
    fn text_is_win_ansi() {
        assert_eq!(win_ansi("Café €5"), b"Caf\xe9 \x805".to_vec());
        assert_eq!(win_ansi("漢"), b"?".to_vec());
    }
}
