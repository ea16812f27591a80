// The package users install (`npm pack`, package.json `files`): no test-only file ships, every
// module a shipped file loads ships too, and the CLI runs from the unpacked tarball.
// Reads dist/ as built: `npm pack` ships whatever dist/ holds, so build before running this.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join, posix } from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { z } from 'zod'
import { REPO_ROOT } from './shared-fixtures.js'

const run = promisify(execFile)

const packJson = z
  .array(z.object({ filename: z.string(), files: z.array(z.object({ path: z.string() })) }))
  .length(1)

const manifest = z.object({
  bin: z.union([z.string(), z.record(z.string(), z.string())]),
  dependencies: z.record(z.string(), z.string()).default({}),
  optionalDependencies: z.record(z.string(), z.string()).default({}),
  peerDependencies: z.record(z.string(), z.string()).default({}),
})

async function npmPack(args: string[]): Promise<{ filename: string; files: Set<string> }> {
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', ...args], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  })
  const [entry] = packJson.parse(JSON.parse(stdout))
  return { filename: entry!.filename, files: new Set(entry!.files.map((f) => f.path)) }
}

const readManifest = (dir: string) =>
  manifest.parse(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')))

const binEntries = (bin: string | Record<string, string>): string[] =>
  (typeof bin === 'string' ? [bin] : Object.values(bin)).map((p) => posix.normalize(p))

/** Why a packed path is for maintainers or tests only, or undefined when it may ship. */
function testOnlyReason(path: string): string | undefined {
  if (path.startsWith('dist/testing/')) return 'test helper (src/testing)'
  if (/\.test\.js(\.map)?$/.test(path)) return 'test file'
  if (path.split('/').includes('testdata')) return 'test data'
  if (/^(dist-bench|benchmarks)\//.test(path)) return "maintainers' benchmark"
  return undefined
}

type RefKind = 'import' | 'export' | 'dynamic import' | 'new URL'

// What tsc emits: top-level import/export statements at the start of a line, `import('x')`
// with a literal, and `new URL('./x.js', import.meta.url)` (worker scripts, package.json).
const CLAUSE = String.raw`(?:[\w$]+\s*,\s*)?(?:\{[^{}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)`
const PATTERNS: readonly [RefKind, RegExp][] = [
  ['import', new RegExp(String.raw`^\s*import\s+${CLAUSE}\s*from\s*(['"])([^'"\n]+)\1`, 'gm')],
  ['import', /^\s*import\s*(['"])([^'"\n]+)\1/gm],
  ['export', new RegExp(String.raw`^\s*export\s+${CLAUSE}\s*from\s*(['"])([^'"\n]+)\1`, 'gm')],
  ['dynamic import', /\bimport\(\s*(['"`])([^'"`\n]+)\1\s*[,)]/g],
  ['new URL', /\bnew URL\(\s*(['"`])([^'"`\n]+)\1\s*,\s*import\.meta\.url\s*\)/g],
]

/** The module specifiers a compiled ES module refers to. */
function moduleRefs(source: string): { kind: RefKind; specifier: string }[] {
  const refs: { kind: RefKind; specifier: string }[] = []
  for (const [kind, re] of PATTERNS)
    for (const m of source.matchAll(re)) refs.push({ kind, specifier: m[2]! })
  return refs
}

const isRelative = (s: string) => s.startsWith('./') || s.startsWith('../')
const resolveRelative = (from: string, s: string) =>
  posix.normalize(posix.join(posix.dirname(from), s))
const packageName = (s: string) =>
  s
    .split('/')
    .slice(0, s.startsWith('@') ? 2 : 1)
    .join('/')
const BUILTINS = new Set(builtinModules)
const isBuiltin = (s: string) => s.startsWith('node:') || BUILTINS.has(packageName(s))

const readPacked = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')
const list = (lines: string[]) => lines.map((l) => `\n  ${l}`).join('')

test('the reference scanner finds every form tsc emits, and only those', () => {
  const source = [
    "import { a, b as c } from './named.js';",
    'import {\n  d,\n  e,\n} from "../multi-line.js";',
    "import * as ns from './namespace.js';",
    "import def, { f } from './default-and-named.js';",
    "import './side-effect.js';",
    "export { g } from './re-export.js';",
    "export * from './star.js';",
    "export * as h from './star-as.js';",
    "const w = new Worker(new URL('./_worker.js', import.meta.url));",
    "const m = await import('./lazy.js');",
    "const t = await import('tokenizer-pkg');",
    "import { readFileSync } from 'node:fs';",
    "export function say() {\n  return 'copied from \\'./not-a-module.js\\''\n}",
    "const note = `import x from './inside-a-string.js'`;",
    'const dyn = await import(name);',
  ].join('\n')
  assert.deepEqual(
    moduleRefs(source).map((r) => `${r.kind} ${r.specifier}`),
    [
      'import ./named.js',
      'import ../multi-line.js',
      'import ./namespace.js',
      'import ./default-and-named.js',
      'import node:fs',
      'import ./side-effect.js',
      'export ./re-export.js',
      'export ./star.js',
      'export ./star-as.js',
      'dynamic import ./lazy.js',
      'dynamic import tokenizer-pkg',
      'new URL ./_worker.js',
    ],
  )
  assert.equal(testOnlyReason('dist/testing/index.js'), 'test helper (src/testing)')
  assert.equal(testOnlyReason('dist/proxy/forwarding.test.js.map'), 'test file')
  assert.equal(testOnlyReason('dist/gpu/testdata/h200.csv'), 'test data')
  assert.equal(testOnlyReason('dist/proxy/start-proxy.js'), undefined)
})

test('npm pack ships the package, and nothing test-only or stale', async () => {
  const { files } = await npmPack(['--dry-run'])
  const shipped = [...files]
  assert.ok(files.has('package.json') && files.has('README.md'), `packed: ${list(shipped)}`)
  for (const bin of binEntries(readManifest(REPO_ROOT).bin))
    assert.ok(files.has(bin), `the bin entry ${bin} is not in the package: run \`npx tsc\` first`)

  const testOnly = shipped.flatMap((p) => {
    const why = testOnlyReason(p)
    return why ? [`${p} (${why})`] : []
  })
  assert.deepEqual(
    testOnly,
    [],
    `test-only files in the package (exclude them in package.json "files"):${list(testOnly)}`,
  )

  // tsc never deletes outputs, so a renamed or deleted source leaves its old .js in dist/,
  // and npm pack ships it.
  const stale = shipped.filter((p) => {
    const m = /^dist\/(.+?)(\.js|\.js\.map|\.d\.ts)?$/.exec(p)
    if (!m) return false
    const sources = m[2]
      ? ['.ts', '.mts', '.tsx'].map((ext) => `src/${m[1]}${ext}`)
      : [`src/${m[1]}`]
    return !sources.some((s) => existsSync(join(REPO_ROOT, s)))
  })
  assert.deepEqual(
    stale,
    [],
    `dist/ files with no source in src/ would ship (left by an old build: \`make clean build\`):${list(stale)}`,
  )
})

test('every module a shipped file refers to ships, or is a dependency or a Node builtin', async () => {
  const { files } = await npmPack(['--dry-run'])
  const pkg = readManifest(REPO_ROOT)
  const deps = new Set(
    Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }),
  )
  const missing: string[] = []
  const undeclared: string[] = []
  let checked = 0
  for (const file of [...files].filter((p) => p.endsWith('.js')).sort()) {
    for (const { kind, specifier } of moduleRefs(readPacked(file))) {
      checked += 1
      if (isRelative(specifier)) {
        const target = resolveRelative(file, specifier)
        if (!files.has(target)) missing.push(`${file}: ${kind} '${specifier}' -> ${target}`)
      } else if (kind !== 'new URL' && !isBuiltin(specifier) && !deps.has(packageName(specifier))) {
        undeclared.push(`${file}: ${kind} '${specifier}'`)
      }
    }
  }
  assert.ok(
    checked > 100,
    `only ${checked} module references found in the package: scanner broken?`,
  )
  assert.deepEqual(
    missing,
    [],
    `shipped files refer to modules that are not in the package (test-only code, or excluded by package.json "files"):${list(missing)}`,
  )
  assert.deepEqual(
    undeclared,
    [],
    `shipped files import packages that are not in package.json "dependencies" (a user's install lacks them):${list(undeclared)}`,
  )
})

test('every file the CLI loads, walked from the bin entry, is in the package', async () => {
  const { files } = await npmPack(['--dry-run'])
  const bins = binEntries(readManifest(REPO_ROOT).bin)
  const reached = new Map<string, string>(bins.map((b) => [b, 'package.json "bin"']))
  const queue = [...bins]
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (!file.endsWith('.js') || !existsSync(join(REPO_ROOT, file))) continue
    for (const { kind, specifier } of moduleRefs(readPacked(file))) {
      if (!isRelative(specifier)) continue
      const target = resolveRelative(file, specifier)
      if (reached.has(target)) continue
      reached.set(target, `${kind} in ${file}`)
      queue.push(target)
    }
  }
  // The worker and the commands are reached only through the graph: if they are not, the scan is wrong.
  for (const must of ['dist/cli/commands/index.js', 'dist/tokens/_worker.js', 'package.json'])
    assert.ok(reached.has(must), `${must} not reached from ${bins.join(', ')}: the walk is broken`)
  const absent = [...reached]
    .filter(([path]) => !files.has(path))
    .map(
      ([path, via]) =>
        `${path} (${existsSync(join(REPO_ROOT, path)) ? 'not packed' : 'does not exist'}; ${via})`,
    )
  assert.deepEqual(absent, [], `the CLI loads files the package lacks:${list(absent)}`)
})

test('the packed CLI runs: --help, every command --help, demo --once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'inferwatch-pack-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const { filename } = await npmPack(['--pack-destination', dir])
  await run('tar', ['-xzf', join(dir, filename), '-C', dir])
  const root = join(dir, 'package')
  // Offline: the unpacked package borrows the checkout's installed dependencies. The import
  // check above keeps shipped code to declared dependencies, which the real install provides.
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir')
  const [bin] = binEntries(readManifest(root).bin)
  const cli = async (args: string[]) => {
    const env = { ...process.env }
    for (const k of Object.keys(env)) if (k.startsWith('INFERWATCH_')) delete env[k]
    try {
      const r = await run(process.execPath, [join(root, bin!), ...args], {
        cwd: dir,
        env,
        timeout: 60_000,
      })
      return { code: 0, out: r.stdout, err: r.stderr }
    } catch (e) {
      const err = e as { code?: unknown; stdout?: string; stderr?: string }
      return {
        code: typeof err.code === 'number' ? err.code : -1,
        out: err.stdout ?? '',
        err: err.stderr ?? String(e),
      }
    }
  }

  const help = await cli(['--help'])
  assert.equal(help.code, 0, `inferwatch --help from the tarball failed:\n${help.err}`)
  const commands = [...help.out.matchAll(/^ {2}([a-z][\w-]*) {2,}\S/gm)].map((m) => m[1]!)
  assert.ok(commands.includes('demo') && commands.includes('proxy'), `commands listed: ${commands}`)
  const failed: string[] = []
  for (const r of await Promise.all(
    commands.map(async (c) => ({ c, ...(await cli([c, '--help'])) })),
  )) {
    if (r.code !== 0 || !r.out.startsWith(`inferwatch ${r.c} `))
      failed.push(`${r.c} --help: exit ${r.code}\n${r.err || r.out}`)
  }
  assert.deepEqual(failed, [], `commands whose --help fails from the tarball:${list(failed)}`)

  const demo = await cli(['demo', '--once'])
  assert.equal(demo.code, 0, `inferwatch demo --once from the tarball failed:\n${demo.err}`)
  assert.match(demo.out, /^requests metered +\d+ /m)
})
