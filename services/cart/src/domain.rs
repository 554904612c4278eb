//! The cart's vocabulary and its arithmetic: tax rounding and promotions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use weft_kernel::MoneyError;

weft_kernel::define_id!(CartId, "cart", "A shopping cart.");
weft_kernel::define_id!(CartItemId, "item", "A line of a cart.");

/// `amount × numerator / denominator`, rounded half to even (banker's rounding), in
/// exact integer arithmetic: 0.5 cent goes to the even cent, so roundings do not drift
/// up over many lines. A result beyond ±`MAX_AMOUNT` is refused, never saturated.
pub fn mul_div_half_even(amount: i64, numerator: i64, denominator: i64) -> Result<i64, MoneyError> {
    debug_assert!(denominator > 0);
    let product = i128::from(amount) * i128::from(numerator);
    let d = i128::from(denominator);
    let quotient = product.div_euclid(d);
    let remainder = product.rem_euclid(d);
    let twice = remainder * 2;
    let rounded = if twice > d || (twice == d && quotient % 2 != 0) {
        quotient + 1
    } else {
        quotient
    };
    weft_kernel::money::in_range(rounded)
}

/// Tax in a price without tax, at `rate_bps` basis points (7.25% = 725).
pub fn tax_on_net(net: i64, rate_bps: u32) -> Result<i64, MoneyError> {
    mul_div_half_even(net, i64::from(rate_bps), 10_000)
}

/// Tax inside a price that includes it (EU-style): gross × rate / (1 + rate).
pub fn tax_in_gross(gross: i64, rate_bps: u32) -> Result<i64, MoneyError> {
    mul_div_half_even(gross, i64::from(rate_bps), 10_000 + i64::from(rate_bps))
}

weft_kernel::define_id!(PromotionId, "promo", "A promotion code.");

/// What a promotion takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionKind {
    /// A whole percentage (1–100) of the goods in scope.
    Percentage,
    /// An amount per currency off the goods in scope (never more than they cost).
    FixedAmount,
    /// The chosen shipping method's price.
    FreeShipping,
}

impl PromotionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Percentage => "percentage",
            Self::FixedAmount => "fixed_amount",
            Self::FreeShipping => "free_shipping",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "percentage" => Some(Self::Percentage),
            "fixed_amount" => Some(Self::FixedAmount),
            "free_shipping" => Some(Self::FreeShipping),
            _ => None,
        }
    }
}

/// Which goods a promotion applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromotionScope {
    All,
    /// Products in these categories or anywhere below them.
    Categories(Vec<String>),
    /// Products in these collections.
    Collections(Vec<String>),
}

impl PromotionScope {
    pub fn name(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Categories(_) => "categories",
            Self::Collections(_) => "collections",
        }
    }

    pub fn ids(&self) -> &[String] {
        match self {
            Self::All => &[],
            Self::Categories(ids) | Self::Collections(ids) => ids,
        }
    }

    fn covers(&self, line: &PricedLine) -> bool {
        match self {
            Self::All => true,
            Self::Categories(ids) => line.category_ids.iter().any(|c| ids.contains(c)),
            Self::Collections(ids) => line.collection_ids.iter().any(|c| ids.contains(c)),
        }
    }
}

/// A promotion's rules.
#[derive(Debug, Clone, PartialEq)]
pub struct PromotionRules {
    pub code: String,
    pub kind: PromotionKind,
    /// For [`PromotionKind::Percentage`]: 1–100.
    pub percentage: Option<i64>,
    /// For [`PromotionKind::FixedAmount`]: currency → minor units.
    pub amounts: BTreeMap<String, i64>,
    /// Currency → the least subtotal; when set, a cart in another currency does not
    /// qualify.
    pub minimum_subtotal: BTreeMap<String, i64>,
    pub scope: PromotionScope,
    pub combinable: bool,
    pub active: bool,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub times_used: i64,
}

/// Why a code does not (or no longer) take anything off a cart; each is a 422 `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Switched off by the merchant (to a shopper, as good as unknown).
    Inactive,
    NotStarted,
    Expired,
    /// Its total usage limit is used up.
    Exhausted,
    /// This customer used it as often as they may.
    LimitReached,
    MinimumNotMet,
    /// Nothing in the cart is in its scope, or it has no amount in the cart's currency.
    NotApplicable,
    NotCombinable,
}

impl Rejection {
    pub fn code(self) -> &'static str {
        match self {
            Self::Inactive => "promotion_not_found",
            Self::NotStarted => "promotion_not_started",
            Self::Expired => "promotion_expired",
            Self::Exhausted => "promotion_exhausted",
            Self::LimitReached => "promotion_limit_reached",
            Self::MinimumNotMet => "promotion_minimum_not_met",
            Self::NotApplicable => "promotion_not_applicable",
            Self::NotCombinable => "promotion_not_combinable",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::Inactive => "no such promotion code",
            Self::NotStarted => "the promotion has not started yet",
            Self::Expired => "the promotion has ended",
            Self::Exhausted => "the promotion has been used up",
            Self::LimitReached => "you have already used this promotion",
            Self::MinimumNotMet => "the cart does not reach the promotion's minimum subtotal",
            Self::NotApplicable => "nothing in the cart qualifies for this promotion",
            Self::NotCombinable => "this promotion cannot be combined with the cart's other codes",
        }
    }
}

/// A cart line as promotions see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// Price × quantity; 0 for a line that cannot be bought.
    pub line_total: i64,
    pub category_ids: Vec<String>,
    pub collection_ids: Vec<String>,
}

/// What one code does to a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromotionOutcome {
    /// Off the goods, per line (same order as the lines).
    pub line_discounts: Vec<i64>,
    /// Off shipping.
    pub shipping_discount: i64,
    pub rejection: Option<Rejection>,
}

impl PromotionOutcome {
    /// What it takes off, goods and shipping (refused beyond ±`MAX_AMOUNT`).
    pub fn amount(&self) -> Result<i64, MoneyError> {
        weft_kernel::money::sum_amounts(
            self.line_discounts
                .iter()
                .copied()
                .chain([self.shipping_discount]),
        )
    }
}

/// Whether `rules` may be used at `now` at all (dates, switch, total limit).
pub fn availability(rules: &PromotionRules, now: DateTime<Utc>) -> Result<(), Rejection> {
    if !rules.active {
        return Err(Rejection::Inactive);
    }
    if rules.starts_at.is_some_and(|s| now < s) {
        return Err(Rejection::NotStarted);
    }
    if rules.ends_at.is_some_and(|e| now >= e) {
        return Err(Rejection::Expired);
    }
    if rules.usage_limit.is_some_and(|l| rules.times_used >= l) {
        return Err(Rejection::Exhausted);
    }
    Ok(())
}

/// Applies a cart's codes in the order they were added. Each takes off what is left of
/// its lines after the codes before it (two 50% codes leave 25%, never less than zero);
/// a code that does not qualify takes nothing and says why.
pub fn apply_promotions(
    promotions: &[PromotionRules],
    lines: &[PricedLine],
    currency: &str,
    shipping: i64,
    now: DateTime<Utc>,
) -> Vec<PromotionOutcome> {
    // In 128 bits: only compared with a minimum, so it needs no range of its own.
    let subtotal: i128 = lines.iter().map(|l| i128::from(l.line_total)).sum();
    let mut remaining: Vec<i64> = lines.iter().map(|l| l.line_total).collect();
    let mut shipping_left = shipping;
    // Whether a code already took something, and whether one of those refuses company.
    let (mut taken, mut taken_exclusive) = (false, false);
    let mut outcomes = Vec::with_capacity(promotions.len());
    for rules in promotions {
        let reject = |rejection| PromotionOutcome {
            line_discounts: vec![0; lines.len()],
            shipping_discount: 0,
            rejection: Some(rejection),
        };
        if let Err(rejection) = availability(rules, now) {
            outcomes.push(reject(rejection));
            continue;
        }
        if !rules.minimum_subtotal.is_empty() {
            match rules.minimum_subtotal.get(currency) {
                Some(min) if subtotal >= i128::from(*min) => {}
                Some(_) => {
                    outcomes.push(reject(Rejection::MinimumNotMet));
                    continue;
                }
                None => {
                    outcomes.push(reject(Rejection::NotApplicable));
                    continue;
                }
            }
        }
        let in_scope: Vec<bool> = lines
            .iter()
            .map(|l| l.line_total > 0 && rules.scope.covers(l))
            .collect();
        if !in_scope.iter().any(|x| *x) {
            outcomes.push(reject(Rejection::NotApplicable));
            continue;
        }
        if taken && (taken_exclusive || !rules.combinable) {
            outcomes.push(reject(Rejection::NotCombinable));
            continue;
        }
        let mut line_discounts = vec![0; lines.len()];
        let mut shipping_discount = 0;
        match rules.kind {
            PromotionKind::Percentage => {
                let pct = rules.percentage.unwrap_or(0).clamp(0, 100);
                for (i, left) in remaining.iter_mut().enumerate() {
                    if in_scope[i] {
                        // At most 100 % of what is left: it cannot leave the range.
                        let off =
                            mul_div_half_even(*left, pct, 100).map_or(*left, |o| o.min(*left));
                        line_discounts[i] = off;
                        *left -= off;
                    }
                }
            }
            PromotionKind::FixedAmount => {
                let Some(amount) = rules.amounts.get(currency).copied() else {
                    outcomes.push(reject(Rejection::NotApplicable));
                    continue;
                };
                // Spread over the lines in scope, in order, never below zero.
                let mut to_take = amount.max(0);
                for (i, left) in remaining.iter_mut().enumerate() {
                    if in_scope[i] && to_take > 0 {
                        let off = to_take.min(*left);
                        line_discounts[i] = off;
                        *left -= off;
                        to_take -= off;
                    }
                }
            }
            PromotionKind::FreeShipping => {
                shipping_discount = shipping_left;
                shipping_left = 0;
            }
        }
        taken = true;
        taken_exclusive |= !rules.combinable;
        outcomes.push(PromotionOutcome {
            line_discounts,
            shipping_discount,
            rejection: None,
        });
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_go_to_the_even_neighbour() {
        // 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4 (in units of the denominator).
        assert_eq!(mul_div_half_even(1, 1, 2), Ok(0));
        assert_eq!(mul_div_half_even(3, 1, 2), Ok(2));
        assert_eq!(mul_div_half_even(5, 1, 2), Ok(2));
        assert_eq!(mul_div_half_even(7, 1, 2), Ok(4));
        assert_eq!(mul_div_half_even(-5, 1, 2), Ok(-2));
        // Not halves: ordinary rounding.
        assert_eq!(mul_div_half_even(10, 1, 3), Ok(3));
        assert_eq!(mul_div_half_even(20, 1, 3), Ok(7));
    }

    #[test]
    fn tax_rounds_half_to_even() {
        // 7.25% of $10.00 = 72.5 cents → 72; of $10.20 = 73.95 → 74.
        assert_eq!(tax_on_net(1000, 725), Ok(72));
        assert_eq!(tax_on_net(1020, 725), Ok(74));
        // 20% of $0.10 = 2 cents exactly.
        assert_eq!(tax_on_net(10, 2000), Ok(2));
        // 19% inside €119.00 is €19.00 exactly; inside €10.00 it is 1.5966 → 160.
        assert_eq!(tax_in_gross(11_900, 1900), Ok(1900));
        assert_eq!(tax_in_gross(1000, 1900), Ok(160));
        assert_eq!(tax_on_net(0, 725), Ok(0));
        let max = weft_kernel::MAX_AMOUNT;
        assert_eq!(tax_on_net(max, 10_000), Ok(max));
        assert_eq!(
            tax_on_net(i64::MAX, 10_000),
            Err(MoneyError::Overflow),
            "refused, never saturated"
        );
    }

    fn rules(kind: PromotionKind) -> PromotionRules {
        PromotionRules {
            code: "X".into(),
            kind,
            percentage: Some(10),
            amounts: BTreeMap::from([("USD".into(), 1500)]),
            minimum_subtotal: BTreeMap::new(),
            scope: PromotionScope::All,
            combinable: false,
            active: true,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            times_used: 0,
        }
    }

    fn line(total: i64, category: &str) -> PricedLine {
        PricedLine {
            line_total: total,
            category_ids: vec![category.into(), "cat_root".into()],
            collection_ids: Vec::new(),
        }
    }

    #[test]
    fn percentages_round_half_even_per_line_and_stack_on_what_is_left() {
        let now = Utc::now();
        let lines = [line(1005, "cat_a"), line(2000, "cat_b")];
        let mut half = rules(PromotionKind::Percentage);
        half.percentage = Some(50);
        half.combinable = true;
        // 50% of 10.05 = 5.025 → 5.02 (half to even); of 20.00 = 10.00.
        let out = apply_promotions(std::slice::from_ref(&half), &lines, "USD", 0, now);
        assert_eq!(out[0].line_discounts, vec![502, 1000]);
        // Two combinable halves leave a quarter, not zero.
        let out = apply_promotions(&[half.clone(), half], &lines, "USD", 0, now);
        assert_eq!(out[1].line_discounts, vec![252, 500]);
        assert_eq!(
            out[0].amount().unwrap() + out[1].amount().unwrap(),
            1005 + 2000 - 251 - 500
        );
    }

    #[test]
    fn fixed_amounts_never_exceed_the_goods_in_scope() {
        let now = Utc::now();
        let mut fixed = rules(PromotionKind::FixedAmount);
        fixed.scope = PromotionScope::Categories(vec!["cat_b".into()]);
        let out = apply_promotions(
            &[fixed.clone()],
            &[line(5000, "cat_a"), line(1000, "cat_b")],
            "USD",
            0,
            now,
        );
        assert_eq!(
            out[0].line_discounts,
            vec![0, 1000],
            "15.00 off a 10.00 line in scope"
        );
        let out = apply_promotions(&[fixed.clone()], &[line(5000, "cat_a")], "USD", 0, now);
        assert_eq!(out[0].rejection, Some(Rejection::NotApplicable));
        let out = apply_promotions(&[fixed], &[line(5000, "cat_b")], "EUR", 0, now);
        assert_eq!(
            out[0].rejection,
            Some(Rejection::NotApplicable),
            "no EUR amount"
        );
    }

    #[test]
    fn dates_limits_minimums_and_combination_reject_with_their_reason() {
        let now = Utc::now();
        let lines = [line(3000, "cat_a")];
        let check =
            |r: PromotionRules| apply_promotions(&[r], &lines, "USD", 500, now)[0].rejection;
        let mut r = rules(PromotionKind::Percentage);
        r.starts_at = Some(now + chrono::Duration::hours(1));
        assert_eq!(check(r), Some(Rejection::NotStarted));
        let mut r = rules(PromotionKind::Percentage);
        r.ends_at = Some(now);
        assert_eq!(check(r), Some(Rejection::Expired), "the end is exclusive");
        let mut r = rules(PromotionKind::Percentage);
        (r.usage_limit, r.times_used) = (Some(3), 3);
        assert_eq!(check(r), Some(Rejection::Exhausted));
        let mut r = rules(PromotionKind::Percentage);
        r.minimum_subtotal = BTreeMap::from([("USD".into(), 3001)]);
        assert_eq!(check(r), Some(Rejection::MinimumNotMet));
        let mut r = rules(PromotionKind::Percentage);
        r.minimum_subtotal = BTreeMap::from([("USD".into(), 3000)]);
        assert_eq!(check(r), None, "the minimum is inclusive");
        let mut r = rules(PromotionKind::Percentage);
        r.minimum_subtotal = BTreeMap::from([("EUR".into(), 1)]);
        assert_eq!(
            check(r),
            Some(Rejection::NotApplicable),
            "minimum in another currency"
        );
        let mut r = rules(PromotionKind::Percentage);
        r.active = false;
        assert_eq!(check(r), Some(Rejection::Inactive));

        // An exclusive code first: the second takes nothing, whatever it says.
        let exclusive = rules(PromotionKind::Percentage);
        let mut friendly = rules(PromotionKind::FreeShipping);
        friendly.combinable = true;
        let out = apply_promotions(
            &[exclusive.clone(), friendly.clone()],
            &lines,
            "USD",
            500,
            now,
        );
        assert_eq!(out[0].amount(), Ok(300));
        assert_eq!(out[1].rejection, Some(Rejection::NotCombinable));
        // Free shipping takes the shipping price off, and only that.
        let out = apply_promotions(&[friendly], &lines, "USD", 500, now);
        assert_eq!(
            (out[0].shipping_discount, out[0].line_discounts.clone()),
            (500, vec![0])
        );
        // An exclusive code that does not qualify leaves room for the next.
        let mut expired = exclusive;
        expired.ends_at = Some(now - chrono::Duration::days(1));
        let mut other = rules(PromotionKind::FixedAmount);
        other.combinable = true;
        let out = apply_promotions(&[expired, other], &lines, "USD", 500, now);
        assert_eq!(out[1].amount(), Ok(1500));
    }
}
