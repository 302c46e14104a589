/**
 * Report texts a front end recognises (the CLI prints its own line for them): plain data, so the CLI
 * matches them without loading the parser or the wasm schemas.
 */

/**
 * `validation.note` of a core module whose caller did not ask for the engine cross-check (`inspect`
 * without `--engine-check`, the api's wasm.inspect without `engineCheck`). Distinct from the notes of a
 * check that was wanted but could not run (a module too large, a feature the engine lacks).
 */
export const CROSS_CHECK_OFF_NOTE =
  "not requested: structural checks by the decoder only (inspect --engine-check adds the engine's validation; check and deploy always run it)";
