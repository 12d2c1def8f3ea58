/** The wizard's IPv6 page: manual prefix (uplink, NDP proxy) and broker mode, parsed into the setup file's shape. */
import { expect, test } from "bun:test";
import { applyForm, type Draft } from "../../../src/web/wizard/draft.ts";
import { StepPage } from "../../../src/web/wizard/step-pages.tsx";

const withNetwork = (): Draft => ({
  network: {
    ipv4: { network: "10.0.0.0/24", start: 10, end: 20, gateway: "10.0.0.1" },
    ipv6: "none",
    gc_grace_days: 7,
  },
});

test("a manual prefix keeps the uplink and the NDP proxy choice", () => {
  const d = withNetwork();
  applyForm(d, "ipv6", { mode: "manual", prefix: "2001:db8:1::/64", uplink: "eth0", ndp_proxy: "on" });
  expect(d.network?.ipv6).toEqual({ manual: "2001:db8:1::/64", uplink: "eth0", ndp_proxy: true });
  applyForm(d, "ipv6", { mode: "manual", prefix: "2001:db8:1::/64", uplink: "" });
  expect(d.network?.ipv6).toEqual({ manual: "2001:db8:1::/64", ndp_proxy: false });
  applyForm(d, "ipv6", { mode: "none", prefix: "2001:db8:1::/64" });
  expect(d.network?.ipv6).toBe("none");
});

test("NDP proxy without an uplink, or a bad interface name, is refused naming the field", () => {
  const d = withNetwork();
  expect(() => applyForm(d, "ipv6", { mode: "manual", prefix: "2001:db8:1::/64", ndp_proxy: "on" })).toThrow(
    "(ndp_proxy needs uplink)",
  );
  expect(() => applyForm(d, "ipv6", { mode: "manual", prefix: "2001:db8:1::/64", uplink: "eth0 up" })).toThrow(
    "ipv6: expected",
  );
  expect(d.network?.ipv6).toBe("none");
});

test("the page shows the saved prefix, uplink and NDP proxy choice", async () => {
  const d = withNetwork();
  applyForm(d, "ipv6", { mode: "manual", prefix: "2001:db8:1::/64", uplink: "enp1s0", ndp_proxy: "on" });
  const html = String(await StepPage({ nonce: "n", csrf: "c", step: "ipv6", draft: d, deployer: "0x0" }));
  expect(html).toContain('name="prefix"');
  expect(html).toMatch(/name="uplink"[^>]*value="enp1s0"|value="enp1s0"[^>]*name="uplink"/);
  expect(html).toMatch(/<input type="checkbox" id="ndp_proxy" name="ndp_proxy" checked/);
});

test("broker mode: the registry and an optional broker number; a bad registry is refused", () => {
  const d = withNetwork();
  const registry = `0x${"a".repeat(40)}`;
  applyForm(d, "ipv6", { mode: "broker", registry, broker_id: "" });
  expect(d.network?.ipv6).toEqual({ broker: { registry, timeout_s: 300 } });
  applyForm(d, "ipv6", { mode: "broker", registry, broker_id: "2" });
  expect(d.network?.ipv6).toEqual({ broker: { registry, broker_id: 2, timeout_s: 300 } });
  expect(() => applyForm(d, "ipv6", { mode: "broker", registry: "0x1234" })).toThrow("ipv6: expected");
});
