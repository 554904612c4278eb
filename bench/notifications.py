"""Drives bench/notifications.sh: creates $VARIANTS variants (stocked 10, threshold 5),
then sets each to 1 unit (8 clients at once; each write emits one inventory.low) and
times how long until every staff e-mail ($VARIANTS x $STAFF) was accepted by the SMTP
server. Prints events/s and e-mails/s end to end, and the lag after the last write."""
import json, os, threading, time, urllib.request

base, key, mail = os.environ["BASE"], os.environ["KEY"], os.environ["MAIL_DIR"]
variants, staff = int(os.environ.get("VARIANTS", 200)), int(os.environ["STAFF"])


def call(method, url, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method=method,
                                 headers={"content-type": "application/json", "x-api-key": key})
    with urllib.request.urlopen(req) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def arrived():
    return sum(1 for f in os.listdir(mail) if f.endswith(".json"))


ids = []
for n in range(0, variants, 50):
    batch = min(50, variants - n)
    product = call("POST", base + "/v1/admin/products", {
        "title": f"Bench notice {n}", "brand": "Bench", "status": "active",
        "options": [{"name": "size", "values": [f"S{i}" for i in range(batch)]}],
        "variants": [{"sku": f"NOTE-{n}-{i}-{int(time.time())}", "options": {"size": f"S{i}"},
                      "prices": [{"amount": 2000, "currency": "USD"}]} for i in range(batch)]})
    ids += [v["id"] for v in product["variants"]]
for v in ids:
    call("PUT", f"{base}/v1/admin/inventory/{v}", {"on_hand": 10, "low_stock_threshold": 5})

expected = arrived() + variants * staff
start = time.monotonic()


def writer(offset):
    for v in ids[offset::8]:
        call("PUT", f"{base}/v1/admin/inventory/{v}", {"on_hand": 1})


threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
written = time.monotonic()
while arrived() < expected:
    if time.monotonic() - start > 600:
        raise SystemExit(f"only {arrived()} of {expected} e-mails within 600 s")
    time.sleep(0.05)
done = time.monotonic()
print(f"stock writes: {variants / (written - start):.0f}/s ({variants} events)")
print(f"end to end: {variants / (done - start):.0f} events/s, "
      f"{variants * staff / (done - start):.0f} e-mails/s through SMTP")
print(f"lag after the last write: {done - written:.2f} s")
