import type { RulesPlan } from './_plan.js'
import type { AlertScenario, ScenarioKit } from './_scenario-kit.js'
import { beyondScenarios } from './_scenarios-beyond.js'
import { engineScenarios } from './_scenarios-engine.js'
import { requestScenarios } from './_scenarios-requests.js'
import { clean, counterValues, gaugeValues, series, type Timeline } from './_test-model.js'

export function buildAlertScenarios(plan: RulesPlan, t: Timeline): AlertScenario[] {
  const kit: ScenarioKit = {
    th: plan.thresholds,
    plan,
    t,
    g: (name, labels, v) => ({ series: series(name, labels), values: gaugeValues(t, v) }),
    c: (name, labels, perStep) => ({
      series: series(name, labels),
      values: counterValues(t, perStep),
    }),
    under: (x) => clean(x - Math.max(0.001, x * 0.005)),
    rate: t.stepSeconds,
  }
  return [...engineScenarios(kit), ...requestScenarios(kit), ...beyondScenarios(kit)]
}
