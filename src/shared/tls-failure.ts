// What to do when the TLS connection to an https:// engine fails, by the error's code: a
// certificate Node does not accept (the codes of https://nodejs.org/api/tls.html#x509-certificate-error-codes,
// and Node's own host-name check) or a handshake that failed (OpenSSL's `ERR_SSL_*` codes, e.g. an
// engine that answers plain HTTP on that port).

const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** The next step for a TLS failure with this error code; undefined when it is not one. */
export function tlsFailureHint(code: string | undefined): string | undefined {
  if (code === undefined) return undefined
  if (CERTIFICATE_CODES.has(code))
    return `the engine's TLS certificate was not accepted (${code}); if it is signed by a private CA, start inferwatch with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (https://nodejs.org/api/cli.html#node_extra_ca_certsfile), and check that the certificate names the host of --upstream`
  if (code.startsWith('ERR_SSL_'))
    return `the TLS handshake with the engine failed (${code}); is it serving https on that port? For a plain-HTTP engine use an http:// --upstream`
  return undefined
}
