/** What a TLS server presents, read the way a browser's certificate viewer shows it (SHA-256, colon hex). */
import { connect } from "node:tls";

export function peerFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, servername: undefined }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.once("error", reject);
  });
}
