"""Secret detection: one realistic fake value per kind, what stays, and what is not a secret."""
# ruff: noqa: E501  (the table of cases reads best one case per line)

from __future__ import annotations

import random
import string

import pytest

from gemloom.secrets import redact, summary

_ALNUM = string.ascii_letters + string.digits


def fake(alphabet: str, length: int, seed: int) -> str:
    """A reproducible random-looking string (no real credential is ever in the suite)."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(length))


B64 = _ALNUM + "+/"
HEX = "0123456789abcdef"
PEM_BODY = "\n".join(fake(B64, 64, n) for n in range(6))
RSA = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"
OPENSSH = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----"
PGP = (
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n"
    f"{PEM_BODY}\n=tQ9x\n-----END PGP PRIVATE KEY BLOCK-----"
)
GCP_KEY_ID = fake(HEX, 40, 7)
GCP_JSON = (
    '{\n  "type": "service_account",\n  "project_id": "acme-prod",\n'
    f'  "private_key_id": "{GCP_KEY_ID}",\n'
    '  "private_key": "-----BEGIN PRIVATE KEY-----\\n'
    + fake(B64, 64, 8)
    + '\\n-----END PRIVATE KEY-----\\n",\n'
    '  "client_email": "ci@acme-prod.iam.gserviceaccount.com"\n}'
)
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFkYSIsImlhdCI6MTUxNjIzOTAyMn0."
    + fake(_ALNUM + "-_", 43, 9)
)

# (kind, file name, text around it, the secret itself)
CASES = [
    ("private_key", "id_rsa", RSA, PEM_BODY.splitlines()[2]),
    ("private_key", "id_ed25519", OPENSSH, PEM_BODY.splitlines()[3]),
    ("private_key", "key.asc", PGP, PEM_BODY.splitlines()[4]),
    ("aws_access_key", "s3.py", 'AWS_ID = "{}"', "AKIA" + fake(string.ascii_uppercase + "234567", 16, 1)),
    ("aws_secret_key", "creds", "aws_secret_access_key = {}", fake(B64, 40, 2)),
    ("gcp_service_account", "sa.json", GCP_JSON, GCP_KEY_ID),
    ("private_key", "sa2.json", GCP_JSON, fake(B64, 64, 8)),
    ("google_api_key", "maps.js", 'const key = "{}";', "AIza" + fake(_ALNUM + "-_", 35, 3)),
    ("github_token", "ci.sh", "curl -H 'Authorization: token {}'", "ghp_" + fake(_ALNUM, 36, 4)),
    ("github_token", "deploy.py", 'GH = "{}"', "github_pat_11A" + fake(_ALNUM, 19, 5) + "_" + fake(_ALNUM, 59, 6)),
    ("gitlab_token", "gl.py", 'token = "{}"', "glpat-" + fake(_ALNUM + "-_", 20, 10)),
    ("slack_token", "bot.py", 'SLACK = "{}"', "xoxb-2419581234-5912345678901-" + fake(_ALNUM, 24, 11)),
    ("slack_webhook", "notify.sh", "curl -X POST {}", "https://hooks.slack.com/services/T0" + fake(string.ascii_uppercase + string.digits, 8, 12) + "/B0" + fake(string.ascii_uppercase + string.digits, 8, 13) + "/" + fake(_ALNUM, 24, 14)),
    ("stripe_key", "pay.rb", "Stripe.api_key = '{}'", "sk_live_51H" + fake(_ALNUM, 96, 15)),
    ("openai_key", "llm.py", 'client = OpenAI(api_key="{}")', "sk-" + fake(_ALNUM, 20, 16) + "T3BlbkFJ" + fake(_ALNUM, 20, 17)),
    ("openai_key", "llm2.py", 'OPENAI = "{}"', "sk-proj-" + fake(_ALNUM + "-_", 156, 18)),
    ("anthropic_key", "claude.py", 'key = "{}"', "sk-ant-api03-" + fake(_ALNUM + "-_", 93, 19) + "AA"),
    ("huggingface_token", "hub.py", 'login(token="{}")', "hf_" + fake(string.ascii_letters, 34, 20)),
    ("npm_token", ".npmrc", "//registry.npmjs.org/:_authToken={}", "npm_" + fake(_ALNUM, 36, 21)),
    ("pypi_token", ".pypirc", "[pypi]\nusername = __token__\npassword = {}", "pypi-AgEIcHlwaS5vcmc" + fake(_ALNUM + "-_", 140, 22)),
    ("twilio_key", "sms.py", 'client = Client("{}", auth)', "SK" + fake(HEX, 32, 23)),
    ("sendgrid_key", "mail.py", 'SENDGRID = "{}"', "SG." + fake(_ALNUM + "-_", 22, 24) + "." + fake(_ALNUM + "-_", 43, 25)),
    ("azure_storage_key", "app.config", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={};EndpointSuffix=core.windows.net", fake(B64, 86, 26) + "=="),
    ("jwt", "auth_test.py", 'headers = {{"Authorization": "Bearer {}"}}', JWT),
    ("password_in_url", "db.py", 'URL = "postgres://app:{}@db.internal:5432/app"', "Tr0ub4dor-" + fake(_ALNUM, 8, 27)),
    ("password", "config.yaml", "database:\n  host: db\n  password: {}\n  port: 5432", "hunter2-prod"),
    ("password", "settings.toml", '[db]\npassword = "{}"\nuser = "app"', "correct horse battery"),
    ("password", "app.ini", "[smtp]\nuser = mail\npasswd = {}\n", "s3cret!"),
    ("secret_value", "creds.json", '{{"client_id": "abc", "client_secret": "{}"}}', "x7Yq-" + fake(_ALNUM, 20, 28)),
    ("password", "settings.json", '{{\n  "db_password": "{}",\n  "debug": true\n}}', "pa55-w0rd!"),
    ("env_value", ".env", "DEBUG=1\nexport DB_PASSWORD={}\n", "hunter2"),
    ("env_value", ".env.production", "PORT=8000\nSERVICE_X={}", fake(_ALNUM, 24, 31)),
    ("generic_secret", "client.py", 'API_KEY = "{}"', fake(_ALNUM, 32, 29)),
    ("generic_secret", "client.go", 'authToken := "{}"', fake(HEX, 40, 30)),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "path", "template", "secret"), CASES, ids=[c[1] for c in CASES])
def test_each_kind_is_caught_and_only_it_is_replaced(kind, path, template, secret) -> None:
    body = template.format(secret) if "{}" in template else template
    text = f"# before\n{body}\nafter = 1\n"
    clean, found = redact(text, path)
    assert secret not in clean
    assert f"[REDACTED:{kind}]" in clean, clean
    assert clean.startswith("# before\n") and clean.endswith("\nafter = 1\n")
    assert clean.count("\n") == text.count("\n")  # line numbers still match the file
    line = 1 + text[: text.index("-----BEGIN" if kind == "private_key" else secret)].count("\n")
    assert (kind, line) in [(r.kind, r.line) for r in found]


def test_the_summary_says_what_was_redacted_where() -> None:
    text = 'a = 1\nGH = "ghp_' + fake(_ALNUM, 36, 40) + '"\nurl = "https://u:Zx9-qq1@h/"\n'
    _, found = redact(text, "x.py")
    assert summary(found) == "2 secret(s) redacted (github_token, password_in_url) on line(s) 2, 3"
    assert summary([]) == ""


NOT_SECRETS = [
    ("code.py", 'key = "some_config_name_here"'),  # no digits: a name, not a key
    ("code.py", 'token = "0000000000000000"'),  # no letters, no entropy
    ("code.py", "password = get_password(user)"),  # not a literal
    ("code.py", 'monkey = "a8Fk2Lq9Zx7Pw3Mn5Rt1"'),  # "monkey" is not a key name
    ("code.py", 'sort_key = lambda x: x["name"]'),
    ("code.py", 'url = "http://user:pass@example.com/"'),  # documentation placeholder
    ("code.py", 'url = "http://joe:password@proxy.example.com"'),
    ("code.py", 'tokens = "abc1 def2"'),
    ("conf.yaml", "max_tokens: 4096\ntoken_ttl: 3600\npassword_min_length: 12"),
    ("conf.yaml", "password: ${DB_PASSWORD}\nsecret: <your secret>\napi_key: '{{ vault_key }}'"),
    ("conf.toml", 'password = ""\ntokenizer = "gemma"'),
    ("pkg.json", '{"name": "x", "keywords": ["token", "auth"], "author": "Ada"}'),
    (".env.example", "DB_PASSWORD=\nAPI_KEY=changeme"),
    ("notes.md", "The sk-learn docs say a PRIVATE KEY block starts with five dashes."),
    ("hash.py", 'digest = "AC' + "0" * 32 + '"  # all zeros'),
]


@pytest.mark.parametrize(("path", "text"), NOT_SECRETS)
def test_lookalikes_are_left_alone(path: str, text: str) -> None:
    assert redact(text, path) == (text, [])


def test_a_cut_off_private_key_is_still_redacted() -> None:
    text = f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY}\n"
    clean, found = redact(text, "k.pem")
    assert PEM_BODY.splitlines()[-1] not in clean and [r.kind for r in found] == ["private_key"]
