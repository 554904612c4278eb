/** Stock states a variant can be bought in now (Weft's `stock_status`). */
export function purchasable(status: string): boolean {
  return status === 'in_stock' || status === 'low_stock' || status === 'backorder';
}

export function stockLabel(status: string): string {
  switch (status) {
    case 'in_stock':
      return 'In stock';
    case 'low_stock':
      return 'Only a few left';
    case 'backorder':
      return 'On backorder: ships when restocked';
    default:
      return 'Sold out';
  }
}

/** A variant's option values for people: size first, then colour, then any other. */
export function describeOptions(options: Record<string, string>): string {
  const rank = (k: string) => (k === 'size' ? 0 : k === 'color' ? 1 : 2);
  return Object.entries(options)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
    .map(([, v]) => v)
    .join(' / ');
}
