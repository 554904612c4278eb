/** The shopper-facing words for Weft's promotion refusal codes (docs/promotions.md). */
export function promotionReason(code: string | null | undefined): string {
  switch (code) {
    case 'promotion_not_found':
      return 'This code does not exist or is no longer active.';
    case 'promotion_not_started':
      return 'This code is not valid yet.';
    case 'promotion_expired':
      return 'This code has expired.';
    case 'promotion_exhausted':
      return 'This code has been used up.';
    case 'promotion_limit_reached':
      return 'You have already used this code as often as it allows.';
    case 'promotion_minimum_not_met':
      return 'Your cart is below the minimum spend for this code.';
    case 'promotion_not_applicable':
      return 'Nothing in your cart qualifies for this code.';
    case 'promotion_not_combinable':
      return 'This code cannot be combined with another code on your cart.';
    default:
      return code ? `This code cannot be used (${code}).` : 'This code cannot be used.';
  }
}
