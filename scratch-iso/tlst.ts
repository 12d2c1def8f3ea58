import { connect } from "node:tls";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
const s = Bun.serve({ port: 0, hostname: "127.0.0.1", tls: { cert: readFileSync("/tmp/c.pem"), key: readFileSync("/tmp/k.pem") }, fetch: () => new Response("hi") });
const fp = await new Promise<string>((res, rej) => { const c = connect({ host: "127.0.0.1", port: s.port, rejectUnauthorized: false, servername: "x" }, () => { res(c.getPeerCertificate().fingerprint256); c.end(); }); c.on("error", rej); });
console.log(fp, new X509Certificate(readFileSync("/tmp/c.pem")).fingerprint256 === fp);
s.stop(true);
