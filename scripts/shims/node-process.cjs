// Bundled in place of `node:process` (see scripts/build.mjs): the same object as the global, without Node
// building the ES module facade of `process`, which reads every property once and so sets up
// process.stdin (~4 ms) on every start-up. CommonJS, so both `import process from 'node:process'` (ESM
// default = module.exports) and `require('node:process')` (commander) get the process object itself.
module.exports = globalThis.process;
