// pages(): every item of a cursor-paged list, following next_cursor to the end.
import { beforeAll, describe, expect, it } from 'vitest';
import { client, productInStock, recordingFetch, staff, unique } from './helpers.js';

describe('pages', () => {
  const made: string[] = [];
  let category = '';

  beforeAll(async () => {
    // a category of our own, so the count is known whatever else the shop holds
    category = unique('sdk-pages');
    const { data } = await staff().api.POST('/v1/admin/categories', { body: { name: 'SDK pages', handle: category } });
    for (let i = 0; i < 7; i++) made.push((await productInStock({ categoryId: data!.id })).product.id);
  });

  it('walks every page of a list to the end, each item once', async () => {
    const rec = recordingFetch();
    const weft = client({ fetch: rec.fetch });
    const seen: string[] = [];
    for await (const product of weft.pages('/v1/products', { params: { query: { category, limit: 2 } } })) {
      seen.push(product.id);
    }
    expect(seen.sort()).toEqual([...made].sort());
    // 7 items at 2 a page: 4 pages, each after the first asking with a cursor
    const calls = rec.sent.filter((s) => s.path === '/v1/products');
    expect(calls).toHaveLength(4);
  });

  it('keeps the caller’s query on every page and stops early when the loop breaks', async () => {
    const rec = recordingFetch();
    const weft = client({ fetch: rec.fetch });
    let n = 0;
    for await (const product of weft.pages('/v1/products', { params: { query: { category, limit: 3, sort: 'price_asc' } } })) {
      expect(made).toContain(product.id);
      if (++n === 4) break;
    }
    expect(n).toBe(4);
    expect(rec.sent).toHaveLength(2);
  });

  it('matches a paged list against its count: the search total', async () => {
    const weft = client();
    const title = unique('Quokka');
    const mine: string[] = [];
    for (let i = 0; i < 3; i++) mine.push((await productInStock({ title: `${title} ${i}` })).product.id);
    // the search index catches up with new products in the background: behind the demo's
    // background stocking (thousands of stock events ahead of ours on the bus) that can
    // take minutes on a busy debug build, so the wait is generous (the backlog is issue 20's)
    let total = 0;
    for (const until = Date.now() + 150_000; total < 3 && Date.now() < until; ) {
      const { data } = await weft.api.GET('/v1/search/products', { params: { query: { q: title } } });
      total = data!.total;
      if (total < 3) await new Promise((r) => setTimeout(r, 200));
    }
    expect(total).toBeGreaterThanOrEqual(3);
    const hits = [];
    for await (const hit of weft.pages('/v1/search/products', { params: { query: { q: title, limit: 1 } } })) hits.push(hit);
    expect(hits).toHaveLength(total);
    expect(hits.map((h) => h.id).sort()).toEqual(expect.arrayContaining([...mine].sort()));
  }, 180_000);

  it('pages a staff list (the admin products) as far as it goes', async () => {
    const weft = staff();
    let count = 0;
    const ids = new Set<string>();
    for await (const p of weft.pages('/v1/admin/products', { params: { query: { limit: 100 } } })) {
      ids.add(p.id);
      count++;
    }
    expect(ids.size).toBe(count);
    for (const id of made) expect(ids.has(id)).toBe(true);
  });
});
