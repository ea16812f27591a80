import { z } from 'zod'

// Prometheus, Alertmanager and alert-threshold keys (issue 3). Defaults from the user story.
export const rulesShape = {
  alerts: z
    .strictObject({
      language: z.enum(['zh', 'en']).default('zh'),
    })
    .loose()
    .prefault({}),
}
