import { z } from 'zod'

// Per-client attribution keys (README: Metrics, "Who sends what"). The `client` label comes from
// `header`, else the body's OpenAI `user` field, else a short hash of the bearer token; `aliases`
// names those values; at most `maxClients` distinct values, the rest `other`.

/** An HTTP field name (RFC 9110 §5.1: a token), matched case-insensitively, stored lower-case. */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
    message: 'must be an HTTP header name such as x-app-name',
  })
  .transform((s) => s.toLowerCase())

const clientName = z.string().min(1).max(64)

export const attributionShape = {
  attribution: z
    .strictObject({
      /** Request header naming the client (e.g. x-app-name); default: none (the `user` field). */
      header: headerName.optional(),
      /** Raw value (header, `user`, or `key-<hash>` of a bearer token) -> the name to show. */
      aliases: z.record(z.string().min(1), clientName).default({}),
      /** Distinct client values kept; later ones are counted as `other`. */
      maxClients: z.int().positive().max(1000).default(20),
    })
    .prefault({}),
}
