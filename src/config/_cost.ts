import { z } from 'zod'

// Cost keys (README: Prometheus rules and alerts, llm:cost_per_million_tokens:rate5m): the price
// of one GPU for one hour in any currency; the rule is written only when it is set.
export const costShape = {
  cost: z
    .strictObject({
      /** Price per GPU-hour (a rented RTX 4090 D: e.g. 1.98). Unset: no cost rule. */
      gpuHourly: z.number().positive().optional(),
      /** Shown with the price: the rule's `currency` label and the Grafana panel title. */
      currency: z
        .string()
        .regex(/^[^\s"\\{}]{1,8}$/, {
          message: 'must be a short currency name such as USD or CNY',
        })
        .default('USD'),
    })
    .prefault({}),
}
