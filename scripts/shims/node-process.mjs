// Bundled in place of `import process from 'node:process'` (see scripts/build.mjs): the same object as the
// global, without Node building the ES module facade of `process`, which reads every property once and so
// sets up process.stdin (~4 ms) on every start-up.
export default globalThis.process;
