// A receiver written with `@weft/sdk/webhooks` takes a real delivery from the run's server:
// an app subscribes a local endpoint, asks for a test event, and verifies what arrives; a
// changed body, another secret or an old signature is refused.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookSignatureError, SIGNATURE_HEADER } from '../src/webhooks.js';
import { staff } from './helpers.js';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const received: Delivery[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.end('ok');
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => {
  server.close();
});

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookSignatureError);
    return (e as WebhookSignatureError).reason;
  }
  throw new Error('expected a refusal');
}

describe('webhooks', () => {
  it('a real delivery verifies; a changed body, another secret or an old signature does not', async () => {
    const { port } = server.address() as AddressInfo;
    const { api } = staff();
    const { data: endpoint } = await api.POST('/v1/admin/webhooks', {
      body: { url: `http://127.0.0.1:${port}/hook`, events: ['order.created'] },
    });
    expect(endpoint!.secret).toMatch(/^whsec_/);
    const { data: queued } = await api.POST('/v1/admin/webhooks/{id}/test', {
      params: { path: { id: endpoint!.id } },
    });
    let delivery: Delivery | undefined;
    for (let i = 0; i < 300 && !delivery; i++) {
      delivery = received.find((d) => d.headers['weft-event-id'] === queued!.event_id);
      if (!delivery) await new Promise((r) => setTimeout(r, 100));
    }
    expect(delivery, 'the test event arrived').toBeDefined();
    const header = delivery!.headers[SIGNATURE_HEADER.toLowerCase()] as string;

    const event = await verifyWebhook<{ endpoint_id: string }>(endpoint!.secret, header, delivery!.body);
    expect(event).toMatchObject({ id: queued!.event_id, type: 'webhook.test', data: { endpoint_id: endpoint!.id } });
    // the raw text verifies as well as the bytes
    expect((await verifyWebhook(endpoint!.secret, header, delivery!.body.toString('utf8'))).id).toBe(event.id);

    const tampered = delivery!.body.toString('utf8').replace('webhook.test', 'order.created');
    expect(await refusal(verifyWebhook(endpoint!.secret, header, tampered))).toBe('mismatch');
    expect(await refusal(verifyWebhook('whsec_someone_else', header, delivery!.body))).toBe('mismatch');
    expect(await refusal(verifyWebhook(endpoint!.secret, undefined, delivery!.body))).toBe('missing');
    expect(await refusal(verifyWebhook(endpoint!.secret, 'v1=abc', delivery!.body))).toBe('malformed');
    const later = Math.floor(Date.now() / 1000) + 301;
    expect(await refusal(verifyWebhook(endpoint!.secret, header, delivery!.body, { now: later }))).toBe('stale');

    // the delivery log shows what was sent
    const { data: log } = await api.GET('/v1/admin/webhooks/{id}/deliveries/{delivery_id}', {
      params: { path: { id: endpoint!.id, delivery_id: queued!.id } },
    });
    expect(log!.request_body).toBe(delivery!.body.toString('utf8'));
    await api.DELETE('/v1/admin/webhooks/{id}', { params: { path: { id: endpoint!.id } } });
  });

  it('matches a signature computed apart from this code', async () => {
    // HMAC-SHA256("whsec_test_secret", "1800000000." + body), computed with Python's hmac.
    const body = '{"id":"evt_1","type":"payment_intent.succeeded"}';
    const header = 't=1800000000,v1=334f9dbfd609cf6c38f112f028756732c80faa7fdbeab117549d6303a5dcf896';
    await expect(verifyWebhook('whsec_test_secret', header, body, { now: 1_800_000_000 })).resolves.toMatchObject({
      id: 'evt_1',
    });
  });
});
