export { findBinary, requireBinary } from './binaries.js'
export { assertGolden, type GoldenOptions, goldenFile } from './golden.js'
export { closedPortUrl, closeServer, listenLocal, timedGet } from './net.js'
export {
  listSharedFixtures,
  REPO_ROOT,
  readSharedFixture,
  SHARED_SKIP,
  sharedDir,
  sharedFixture,
} from './shared-fixtures.js'
