import type { TimedEvent } from './deploy-progress.js';

/** The phases a deploy's bar names, in order; `run` only when the payload is run after commit. */
export const SHOWN_PHASES = ['check', 'upload', 'verify', 'commit', 'run'] as const;
export type ShownPhase = (typeof SHOWN_PHASES)[number];

export type PhaseState = 'todo' | 'active' | 'done' | 'failed';
export interface PhaseView {
  id: ShownPhase;
  state: PhaseState;
}

export interface DeployBarView {
  /** 0–100 over the whole deploy (not only the upload); 100 exactly when it succeeded. */
  percent: number;
  state: 'running' | 'failed' | 'done';
  phases: PhaseView[];
  /** The phase under way (or where it stopped). */
  current: ShownPhase | undefined;
}

/** Where each phase starts on the bar; the upload fills its span by acknowledged bytes. */
const START: Record<ShownPhase, number> = { check: 0, upload: 5, verify: 88, commit: 94, run: 98 };

/** The device protocol's phases folded into the ones shown (connecting is part of the check, line-rate of the upload). */
function shown(phase: string | undefined): ShownPhase | undefined {
  if (phase === 'connect' || phase === 'reconnect' || phase === 'check') return 'check';
  if (phase === 'line-rate' || phase === 'upload') return 'upload';
  return (SHOWN_PHASES as readonly string[]).includes(phase ?? '') ? (phase as ShownPhase) : undefined;
}

/**
 * One deploy's bar from its events and its end: a failed run stops where it failed (its phase marked),
 * a successful one is 100 % with every phase done, whatever the last event said.
 */
export function deployBar(events: readonly TimedEvent[], end: { failed: boolean; done: boolean; run: boolean }): DeployBarView {
  const phases = SHOWN_PHASES.filter((p) => p !== 'run' || end.run);
  const last = events.findLast((e) => e.type === 'phase');
  const current = shown(last?.type === 'phase' ? last.phase : undefined) ?? (events.length ? 'check' : undefined);
  if (end.done && !end.failed) return { percent: 100, state: 'done', phases: phases.map((id) => ({ id, state: 'done' })), current };
  const at = current ? phases.indexOf(current) : -1;
  const up = events.findLast((e) => e.type === 'progress');
  let percent = current ? START[current] : 0;
  if (current === 'upload' && up?.type === 'progress' && up.total > 0)
    percent = START.upload + ((START.verify - START.upload) * Math.min(up.done, up.total)) / up.total;
  return {
    percent: Math.floor(percent),
    state: end.failed ? 'failed' : 'running',
    phases: phases.map((id, i) => ({ id, state: i < at ? 'done' : i === at ? (end.failed ? 'failed' : 'active') : 'todo' })),
    current,
  };
}
