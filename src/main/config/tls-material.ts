import { readFileSync } from 'node:fs';
import type { TlsConfig } from './server-config.js';

/** A TLS config's certificate, key and client CA as the servers take them. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/** The PEM given inline (`--ssl_config_file`), else the files' contents. Throws when a file cannot be read. */
export function tlsMaterial(tls: TlsConfig): TlsMaterial {
  if (tls.pem) {
    const { cert, key, ca } = tls.pem;
    return {
      cert: Buffer.from(cert),
      key: Buffer.from(key),
      ca: ca === undefined ? undefined : Buffer.from(ca),
    };
  }
  return {
    cert: readFileSync(tls.certPath),
    key: readFileSync(tls.keyPath),
    ca: tls.caPath ? readFileSync(tls.caPath) : undefined,
  };
}
