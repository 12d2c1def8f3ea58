/** https.json's acme settings: defaults, refusals, and the name the certificate is ordered for. */
import { expect, test } from "bun:test";
import { httpsConfigSchema, LETS_ENCRYPT_DIRECTORY } from "../../../src/core/config/schemas.ts";
import { acmeName } from "../../../src/web/public/certificate.ts";

const files = { cert_file: "/etc/blockhost/tls/cert.pem", key_file: "/etc/blockhost/tls/key.pem" };
const parse = (v: unknown) => httpsConfigSchema.parse(v, "https.json");

test("acme settings default to Let's Encrypt, a self-check and renewal 30 days ahead", () => {
  expect(parse({ hostname: "vms.example.org", ...files, acme: {} }).acme).toEqual({
    directory_url: LETS_ENCRYPT_DIRECTORY,
    self_check: true,
    renew_before_days: 30,
  });
  expect(parse({ hostname: "vms.example.org", ...files }).acme).toBeUndefined();
});

test("bad acme settings name the key", () => {
  const bad = (acme: unknown) => () => parse({ hostname: "h", ...files, acme });
  expect(bad({ directory_url: "http://ca.test/dir" })).toThrow("https.json.acme.directory_url: expected an https URL");
  expect(bad({ domain: "not a name" })).toThrow("https.json.acme.domain: expected a DNS name");
  expect(bad({ domain: "2001:db8::2" })).toThrow("https.json.acme.domain: expected a DNS name");
  expect(bad({ email: "root" })).toThrow("https.json.acme.email: expected an e-mail address");
  expect(bad({ renew_before_days: 0 })).toThrow("https.json.acme.renew_before_days");
  expect(bad({ mode: "x" })).toThrow("https.json.acme.mode: unknown key");
});

test("the certificate is for acme.domain, else a DNS host name, else the sslip.io name of the address", () => {
  const name = (hostname: string, domain?: string) =>
    acmeName(parse({ hostname, ...files, acme: domain ? { domain } : {} }), null);
  expect(name("203.0.113.5", "vms.example.org")).toBe("vms.example.org");
  expect(name("vms.example.org")).toBe("vms.example.org");
  expect(name("203.0.113.5")).toBe("203-0-113-5.sslip.io");
  expect(name("2001:db8:1::2")).toBe("2001-db8-1--2.sslip.io");
  expect(name("[2001:db8:1::2]")).toBe("2001-db8-1--2.sslip.io");
});

test("with a broker allocation that has a DNS zone, the broker's name for the host's prefix::2", () => {
  const https = parse({ hostname: "203.0.113.5", ...files, acme: {} });
  const broker = { prefix: "2001:db8:b0::100/120", dns_zone: "blockhost.example.org" };
  expect(acmeName(https, broker)).toBe("102.blockhost.example.org");
  expect(acmeName(https, { prefix: broker.prefix })).toBe("203-0-113-5.sslip.io");
  expect(acmeName(parse({ hostname: "vms.example.org", ...files, acme: {} }), broker)).toBe("vms.example.org");
});
