import { z } from 'zod'
import { hostPortKey } from './_values.js'

// `inferwatch up` keys (README: inferwatch up). The Prometheus and Alertmanager that `up` runs as
// children listen here (port 0: a free port); their data and generated config live in dataDir.
export const stackShape = {
  up: z
    .strictObject({
      /** Generated config, TSDB, Alertmanager state, logs, pid files, notifications.log. */
      dataDir: z.string().min(1).default('./.inferwatch'),
      prometheusListen: hostPortKey('127.0.0.1:9090'),
      alertmanagerListen: hostPortKey('127.0.0.1:9093'),
      /** Prometheus --storage.tsdb.retention.time. */
      retention: z
        .string()
        .regex(/^\d+(ms|s|m|h|d|w|y)$/, 'a Prometheus duration such as 15d or 12h')
        .default('15d'),
      /** Executables to run instead of searching PATH, /usr/bin, /usr/sbin, /usr/local/bin. */
      prometheusPath: z.string().min(1).optional(),
      alertmanagerPath: z.string().min(1).optional(),
    })
    .prefault({}),
}
