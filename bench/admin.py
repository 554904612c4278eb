"""Signs in the admin that `weft admin create --email bench@example.com` made (password
bench-tailor-2026), enrols TOTP, and makes an API key with $SCOPES (comma-separated):
prints "<access token> <api key>". $BASE is where identity answers."""
import base64, hashlib, hmac, json, os, struct, time, urllib.request

base = os.environ["BASE"]
scopes = os.environ.get("SCOPES", "internal").split(",")


def call(method, path, body=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=json.dumps(body or {}).encode(),
                                 method=method, headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def totp(secret):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 10**6:06d}"


pending = call("POST", "/v1/auth/login",
               {"email": "bench@example.com", "password": "bench-tailor-2026"})["access_token"]
secret = call("POST", "/v1/me/mfa/totp", token=pending)["secret"]
token = call("POST", "/v1/me/mfa/totp/verify", {"code": totp(secret)},
             token=pending)["session"]["access_token"]
key = call("POST", "/v1/admin/api-keys", {"name": "bench peers", "scopes": scopes},
           token=token)["key"]
print(token, key)
