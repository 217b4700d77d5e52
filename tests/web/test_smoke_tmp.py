from tests.web.conftest import signed_in, sign_in, PASSWORD
def test_smoke(site):
    c = signed_in(site, None)
    r = c.get("/api/v1/me"); assert r.json()["role"] == "anonymous", r.text
    for role in ("admin","analyst","viewer"):
        c = signed_in(site, role)
        r = c.get("/api/v1/me"); assert r.json()["role"] == role
        assert "Content-Security-Policy" in r.headers
    r = c.get("/"); assert "SYNTHETIC" in r.text
