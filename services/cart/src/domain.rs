//! The cart's vocabulary and its arithmetic.

weft_kernel::define_id!(CartId, "cart", "A shopping cart.");
weft_kernel::define_id!(CartItemId, "item", "A line of a cart.");

/// `amount × numerator / denominator`, rounded half to even (banker's rounding), in
/// exact integer arithmetic: 0.5 cent goes to the even cent, so roundings do not drift
/// up over many lines.
pub fn mul_div_half_even(amount: i64, numerator: i64, denominator: i64) -> i64 {
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
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

/// Tax in a price without tax, at `rate_bps` basis points (7.25% = 725).
pub fn tax_on_net(net: i64, rate_bps: u32) -> i64 {
    mul_div_half_even(net, i64::from(rate_bps), 10_000)
}

/// Tax inside a price that includes it (EU-style): gross × rate / (1 + rate).
pub fn tax_in_gross(gross: i64, rate_bps: u32) -> i64 {
    mul_div_half_even(gross, i64::from(rate_bps), 10_000 + i64::from(rate_bps))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_go_to_the_even_neighbour() {
        // 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4 (in units of the denominator).
        assert_eq!(mul_div_half_even(1, 1, 2), 0);
        assert_eq!(mul_div_half_even(3, 1, 2), 2);
        assert_eq!(mul_div_half_even(5, 1, 2), 2);
        assert_eq!(mul_div_half_even(7, 1, 2), 4);
        assert_eq!(mul_div_half_even(-5, 1, 2), -2);
        // Not halves: ordinary rounding.
        assert_eq!(mul_div_half_even(10, 1, 3), 3);
        assert_eq!(mul_div_half_even(20, 1, 3), 7);
    }

    #[test]
    fn tax_rounds_half_to_even() {
        // 7.25% of $10.00 = 72.5 cents → 72; of $10.20 = 73.95 → 74.
        assert_eq!(tax_on_net(1000, 725), 72);
        assert_eq!(tax_on_net(1020, 725), 74);
        // 20% of $0.10 = 2 cents exactly.
        assert_eq!(tax_on_net(10, 2000), 2);
        // 19% inside €119.00 is €19.00 exactly; inside €10.00 it is 1.5966 → 160.
        assert_eq!(tax_in_gross(11_900, 1900), 1900);
        assert_eq!(tax_in_gross(1000, 1900), 160);
        assert_eq!(tax_on_net(0, 725), 0);
        assert_eq!(tax_on_net(i64::MAX, 10_000), i64::MAX, "no overflow");
    }
}
