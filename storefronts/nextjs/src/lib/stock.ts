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
