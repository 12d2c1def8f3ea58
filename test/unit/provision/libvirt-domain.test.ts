// The domain XML the agent builds and the KVM/TCG choice.
import { expect, test } from "bun:test";
import { detectAccel, domainXml } from "../../../src/agent/actions/libvirt-domain.ts";
import { vmPortName } from "../../../src/agent/port-guard/rules.ts";

const base = {
  name: "blockhost-001",
  dir: "/var/lib/libvirt/blockhost/vms/blockhost-001",
  template: "/var/lib/libvirt/blockhost/templates/t.qcow2",
  memoryMb: 2048,
  vcpus: 2,
  mac: "52:54:00:00:00:64",
};

test("KVM only with vmx/svm in the CPU flags and a /dev/kvm that opens", () => {
  expect(detectAccel("flags\t\t: fpu sse2 avx2\n", true).accel).toBe("tcg");
  expect(detectAccel("flags\t\t: fpu vmx sse2\n", false)).toEqual({
    accel: "tcg",
    reason: "/dev/kvm is missing or cannot be opened",
  });
  expect(detectAccel("flags\t\t: fpu svm sse2\n", true).accel).toBe("kvm");
  expect(detectAccel("model name: svm-like vmx\nflags\t\t: fpu\n", true).accel).toBe("tcg");
});

test("TCG domain: type qemu, maximum CPU model, 256 MiB translation cache, every file inside the VM's directory", () => {
  const xml = domainXml({ ...base, network: "blockhost", accel: "tcg" });
  expect(xml).toStartWith("<domain type='qemu'>");
  expect(xml).toContain("<cpu mode='maximum' check='none'/>");
  expect(xml).toContain("<tb-cache unit='MiB'>256</tb-cache>");
  expect(xml).toContain("<type arch='x86_64' machine='q35'>hvm</type>");
  expect(xml).toContain(
    `<source network='blockhost'/><mac address='52:54:00:00:00:64'/><target dev='${vmPortName("blockhost-001")}'/><model type='virtio'/><port isolated='yes'/>`,
  );
  expect(xml).toContain(
    "<source file='/var/lib/libvirt/blockhost/templates/t.qcow2'><seclabel model='dac' relabel='no'/></source>",
  );
  expect(xml).toContain("name='org.qemu.guest_agent.0'");
  const files = [...xml.matchAll(/(?:file='|<kernel>|<initrd>)([^'<]+)/g)].map((m) => m[1]!);
  expect(files.length).toBe(6);
  for (const f of files) if (f !== base.template) expect(f.startsWith(`${base.dir}/`)).toBe(true);
});

test("KVM domain: type kvm, host CPU, no TCG cache; a bridge instead of a network", () => {
  const xml = domainXml({ ...base, bridge: "br0", accel: "kvm" });
  expect(xml).toStartWith("<domain type='kvm'>");
  expect(xml).toContain("<cpu mode='host-passthrough' check='none'/>");
  expect(xml).not.toContain("tb-cache");
  expect(xml).toContain("<interface type='bridge'><source bridge='br0'/>");
});

test("a plan's disk caps become the disk's <iotune>; none without them", () => {
  const xml = domainXml({ ...base, network: "blockhost", accel: "tcg", iops: 2000, diskBytesPerS: 150 * 1_048_576 });
  expect(xml).toContain(
    "<target dev='vda' bus='virtio'/><iotune><total_iops_sec>2000</total_iops_sec><total_bytes_sec>157286400</total_bytes_sec></iotune></disk>",
  );
  expect(domainXml({ ...base, network: "blockhost", accel: "tcg" })).not.toContain("iotune");
  expect(domainXml({ ...base, network: "blockhost", accel: "tcg", iops: 500 })).toContain(
    "<iotune><total_iops_sec>500</total_iops_sec></iotune>",
  );
});
