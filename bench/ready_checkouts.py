"""Makes $READY ready checkouts (a guest cart of one unit of one of 400 in-stock variants,
e-mail, address, standard shipping) with 8 client threads once the catalog lists
stocked variants: products and stock read at $BASE, checkouts made at $CBASE; their
ids one a line in $OUT."""
import json, os, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

base, ready, out = os.environ["BASE"], int(os.environ["READY"]), os.environ["OUT"]
cbase = os.environ["CBASE"]

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    at = cbase if path.startswith("/v1/checkouts") else base
    req = urllib.request.Request(at + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)

variants = []
for _ in range(600):
    variants, cursor = [], None
    while len(variants) < 400:
        page = call("GET", "/v1/products?limit=100&in_stock=true" + (f"&cursor={cursor}" if cursor else ""))
        ids = [v["id"] for p in page["data"] for v in p["variants"]]
        for i in range(0, len(ids), 50):
            for s in call("GET", "/v1/inventory?variant_ids=" + ",".join(ids[i:i + 50]))["data"]:
                if s["available"] >= 25:
                    variants.append(s["variant_id"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    if len(variants) >= 400:
        break
    time.sleep(1)
if len(variants) < 400:
    sys.exit("the demo catalog was not stocked")
variants = variants[:400]
address = {"name": "Ada Lovelace", "line1": "1 Market St", "city": "San Francisco",
           "region": "CA", "postal_code": "94105", "country": "US"}

def one(i):
    cart = call("POST", "/v1/carts", {})["id"]
    call("POST", f"/v1/carts/{cart}/items", {"variant_id": variants[i % 400], "quantity": 1})
    checkout = call("POST", "/v1/checkouts", {"cart_id": cart})["id"]
    call("PATCH", f"/v1/checkouts/{checkout}", {"email": f"buyer{i}@example.com",
         "shipping_address": address, "shipping_method_id": "standard"})
    return checkout

started = time.time()
with ThreadPoolExecutor(8) as pool:
    checkouts = list(pool.map(one, range(ready)))
with open(out, "w") as f:
    f.write("\n".join(checkouts))
print(f"{ready} ready checkouts in {time.time() - started:.0f} s", file=sys.stderr)
