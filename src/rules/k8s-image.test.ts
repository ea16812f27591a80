import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { parseConfig } from '../config/index.js'
import { runCli } from '../testing/cli-io.js'
import { findBinary, REPO_ROOT } from '../testing/index.js'
import { k8sDocuments } from '../testing/k8s-schemas.js'
import { K8S_PORTS, K8S_RUN_AS, planRules, renderRulesFiles } from './index.js'

// The Containerfile against the manifests that run its image: entrypoint, user, ports, and the
// build context. No builder daemon runs here; where buildah or podman has the base image, the
// image is built for real.

const run = promisify(execFile)
const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8')

interface Stage {
  from: string
  lines: { op: string; args: string }[]
}

/** Containerfile instructions by stage (line continuations joined, comments dropped). */
function parseContainerfile(text: string): Stage[] {
  const stages: Stage[] = []
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^([A-Z]+)\s+(.*)$/.exec(line)
    assert.ok(m, `not an instruction: ${line}`)
    const [, op = '', args = ''] = m
    if (op === 'FROM') stages.push({ from: args, lines: [] })
    else stages.at(-1)?.lines.push({ op, args })
  }
  return stages
}

const last = (s: Stage, op: string) => s.lines.filter((l) => l.op === op).at(-1)?.args

test('Containerfile: multi-stage, small base, non-root user, the CLI as entrypoint, as k8s/ runs it', async () => {
  const stages = parseContainerfile(read('Containerfile'))
  assert.ok(stages.length >= 2, 'multi-stage')
  const final = stages.at(-1) as Stage
  assert.match(final.from, /^node:(\d+)-[a-z]+-slim$/)
  // The base's Node satisfies package.json engines (>=20.18: Node 20's current line).
  const pkg = JSON.parse(read('package.json')) as {
    bin: Record<string, string>
    engines: { node: string }
  }
  const major = Number(/^node:(\d+)/.exec(final.from)?.[1])
  assert.ok(major >= Number(/(\d+)/.exec(pkg.engines.node)?.[1]))
  // Numeric user = the pods' runAsUser (the kubelet verifies runAsNonRoot only on a number).
  assert.equal(last(final, 'USER'), `${K8S_RUN_AS}:${K8S_RUN_AS}`)
  const workdir = last(final, 'WORKDIR') ?? '/'
  const entrypoint = JSON.parse(last(final, 'ENTRYPOINT') ?? '[]') as string[]
  assert.deepEqual(entrypoint, ['node', join(workdir, pkg.bin.inferwatch ?? '')])
  const exposed = (last(final, 'EXPOSE') ?? '').split(/\s+/).map(Number)

  const docs = k8sDocuments(renderRulesFiles(planRules(parseConfig({ adminToken: 'x' }))))
  const [dep] = docs.filter((d) => d.kind === 'Deployment')
  const pod = dep?.spec.template.spec
  const [c] = pod.containers
  assert.equal(pod.securityContext.runAsUser, K8S_RUN_AS)
  assert.deepEqual(
    c.ports.map((p: { containerPort: number }) => p.containerPort).sort(),
    exposed.sort(),
  )
  assert.deepEqual(Object.values(K8S_PORTS).sort(), exposed.sort())
  // The args name a real command of that CLI.
  const help = await runCli(['--help'])
  assert.equal(help.code, 0)
  assert.match(help.out, new RegExp(`^\\s+${c.args[0]}\\b`, 'm'))
  // No `command:` override: the image's entrypoint runs.
  assert.equal(c.command, undefined)
})

test('Containerfile: the build context has what COPY needs and leaves out what it rebuilds', () => {
  const stages = parseContainerfile(read('Containerfile'))
  const ignore = read('.containerignore')
  assert.equal(read('.dockerignore'), ignore)
  const ignored = ignore.split('\n').filter((l) => l && !l.startsWith('#'))
  for (const p of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(p), p)
  for (const s of stages)
    for (const l of s.lines.filter((x) => x.op === 'COPY' && !x.args.startsWith('--from'))) {
      const sources = l.args.split(/\s+/).slice(0, -1)
      for (const src of sources) {
        assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}`)
        assert.ok(!ignored.includes(src), `${src} is ignored`)
      }
    }
})

test('Containerfile builds (where buildah or podman has the base image)', async (t) => {
  const builder = findBinary('buildah') ?? findBinary('podman')
  const base = parseContainerfile(read('Containerfile'))[0]?.from.split(/\s/)[0] ?? ''
  if (!builder) {
    t.skip('no buildah or podman (Debian packages buildah, podman)')
    return
  }
  const has = await run(builder, ['image', 'exists', base]).then(
    () => true,
    () => false,
  )
  if (!has) {
    t.skip(`${base} is not in local storage, and registries are out of reach here`)
    return
  }
  const tag = 'localhost/inferwatch:test'
  await run(builder, ['build', '-f', 'Containerfile', '-t', tag, '.'], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  })
  const { stdout } = await run(builder, ['inspect', '--format', '{{.Config.User}}', tag])
  assert.equal(String(stdout).trim(), `${K8S_RUN_AS}:${K8S_RUN_AS}`)
})
