// Shared class names of the merchant screens.
export const input = 'mt-1 w-full rounded border border-neutral-500 px-3 py-2';
export const button = 'rounded bg-neutral-900 px-4 py-2 font-medium text-white hover:bg-neutral-700 disabled:opacity-50';
export const secondary = 'rounded border border-neutral-700 px-3 py-1.5 font-medium hover:bg-neutral-100 disabled:opacity-50';
export const table = 'w-full border-collapse text-left text-sm [&_td]:border-b [&_td]:border-neutral-200 [&_td]:py-2 [&_td]:pr-3 [&_th]:border-b [&_th]:border-neutral-400 [&_th]:py-2 [&_th]:pr-3';
export const h1 = 'mb-4 text-2xl font-semibold';
export const h2 = 'mb-2 mt-6 text-lg font-semibold';
