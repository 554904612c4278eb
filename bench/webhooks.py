"""Drives bench/webhooks.sh: subscribes $ENDPOINTS endpoints to product.updated at the
receiver, creates $PRODUCTS products (8 clients at once; each emits one product.updated),
and times how long until every delivery (products x endpoints) has reached the receiver.
Prints: products/s written, deliveries/s end to end, and delivery lag after the last write."""
import json, os, threading, time, urllib.request

base, key, receiver = os.environ["BASE"], os.environ["KEY"], os.environ["RECEIVER"]
endpoints, products = int(os.environ.get("ENDPOINTS", 20)), int(os.environ.get("PRODUCTS", 250))


def call(method, url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method=method,
                                 headers={"content-type": "application/json", "x-api-key": key})
    with urllib.request.urlopen(req) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def received():
    with urllib.request.urlopen(receiver + "/count") as r:
        return int(r.read())


for i in range(endpoints):
    call("POST", base + "/v1/admin/webhooks",
         {"url": f"{receiver}/hook/{i}", "events": ["product.updated"]})

before = received()
expected = before + endpoints * products
start = time.monotonic()


def writer(offset):
    for n in range(offset, products, 8):
        call("POST", base + "/v1/admin/products", {
            "title": f"Bench hook {n}", "brand": "Bench", "status": "active",
            "options": [{"name": "size", "values": ["M"]}],
            "variants": [{"sku": f"HOOK-{n}-{int(start)}", "options": {"size": "M"},
                          "prices": [{"amount": 2000, "currency": "USD"}]}]})


threads = [threading.Thread(target=writer, args=(o,)) for o in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
written = time.monotonic()
while received() < expected:
    if time.monotonic() - start > 600:
        raise SystemExit(f"only {received() - before} of {expected - before} deliveries in 600 s")
    time.sleep(0.05)
done = time.monotonic()
print(f"{products} products written in {written - start:.1f} s ({products / (written - start):.0f}/s)")
print(f"{endpoints * products} deliveries in {done - start:.1f} s: "
      f"{endpoints * products / (done - start):.0f} deliveries/s end to end, "
      f"the last {done - written:.1f} s after the last write")
